import { createHash } from 'node:crypto';
import dcmjs from 'dcmjs';
import { classifySeries } from '../../../extension/src/core/seriesClassification';
import { encodeDicomSeries } from '../../../models/pipeline/synthesis/dicomSeries';
import type { RenderedSeries, StudyIdentity } from '../../../models/pipeline/synthesis/types';
import { parseDicom, type DicomJson } from '../../../scripts/server/dicomFile';
import { DicomStore } from '../../../scripts/server/dicomStore';

const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const ROWS = 6;
const COLUMNS = 8;
const SLICES = 4;
const TILT = (10 * Math.PI) / 180;

const STUDY: StudyIdentity = {
  patientName: 'Synthetic^Tuber',
  patientId: 'TL-SYN-0001',
  studyDescription: 'MRI BRAIN TSC',
  studyDate: '20260101',
  uidSeed: 'unit-test-seed',
};

type Vector = [number, number, number];

/** A gradient across columns, rows and slices, so that every pixel of the series differs. */
function gradient(slice: number): Uint16Array {
  return Uint16Array.from({ length: ROWS * COLUMNS }, (_, i) => 100 + slice * 1000 + i * 7);
}

function renderedSeries(overrides: Partial<RenderedSeries> = {}): RenderedSeries {
  return {
    contrast: 'T2',
    seriesDescription: 'AX T2 FSE',
    rows: ROWS,
    columns: COLUMNS,
    pixelSpacing: [0.9, 0.8],
    sliceThickness: 4,
    spacingBetweenSlices: 5,
    orientation: [1, 0, 0, 0, 1, 0],
    positions: Array.from({ length: SLICES }, (_, k): Vector => [-3.6, -2.25, -10 + 5 * k]),
    kept: Array.from({ length: SLICES }, (_, k) => k),
    pixels: Array.from({ length: SLICES }, (_, k) => gradient(k)),
    masks: Array.from({ length: SLICES }, () => new Uint8Array(ROWS * COLUMNS)),
    repetitionTime: 4000,
    echoTime: 100,
    ...overrides,
  };
}

/** Rows along x, columns tilted 10° about x: the slice normal is (0, -sin 10°, cos 10°). */
function tiltedFlairSeries(): RenderedSeries {
  const normal: Vector = [0, -Math.sin(TILT), Math.cos(TILT)];
  return renderedSeries({
    contrast: 'FLAIR',
    seriesDescription: 'AX FLAIR',
    orientation: [1, 0, 0, 0, Math.cos(TILT), Math.sin(TILT)],
    positions: Array.from({ length: SLICES }, (_, k) => normal.map(c => 5 * k * c) as Vector),
    repetitionTime: 9000,
    echoTime: 120,
    inversionTime: 2500,
  });
}

function read(bytes: Uint8Array) {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const { meta, dict } = dcmjs.data.DicomMessage.readFile(buffer as ArrayBuffer);
  const { naturalizeDataset } = dcmjs.data.DicomMetaDictionary;
  return { meta: naturalizeDataset(meta), dataset: naturalizeDataset(dict) };
}

function expectedUID(role: string, seed = STUDY.uidSeed): string {
  const digest = createHash('sha256').update(`${seed}:${role}`).digest('hex');
  return `2.25.${BigInt(`0x${digest.slice(0, 30)}`)}`;
}

function storedPixels(dataset: Record<string, unknown>): Uint16Array {
  return new Uint16Array((dataset.PixelData as ArrayBuffer[])[0]);
}

function sliceNormal(orientation: number[]): Vector {
  const [rx, ry, rz, cx, cy, cz] = orientation;
  return [ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx];
}

function dot(a: number[], b: number[]): number {
  return a.reduce((sum, value, i) => sum + value * b[i], 0);
}

function expectCloseArray(actual: unknown, expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((value, i) => expect((actual as number[])[i]).toBeCloseTo(value, 5));
}

/** The attributes that the viewer's classification reads, from the server's DICOM JSON. */
function seriesAttributes(metadata: DicomJson) {
  const value = (tag: string) => metadata[tag]?.Value;
  return {
    Modality: value('00080060')?.[0] as string,
    SeriesDescription: value('0008103E')?.[0] as string,
    ScanningSequence: value('00180020') as string[],
    RepetitionTime: value('00180080')?.[0] as number,
    EchoTime: value('00180081')?.[0] as number,
    InversionTime: value('00180082')?.[0] as number | undefined,
    ImageOrientationPatient: value('00200037') as number[],
  };
}

describe('encodeDicomSeries', () => {
  const series = renderedSeries();
  const files = encodeDicomSeries(series, STUDY, 3);
  const decoded = files.map(file => read(file.bytes));

  it('writes one Part 10 file per slice, numbered inferior to superior', () => {
    expect(files.map(file => file.fileName)).toEqual([
      '3-001.dcm',
      '3-002.dcm',
      '3-003.dcm',
      '3-004.dcm',
    ]);
    expect(files.map(file => file.instanceNumber)).toEqual([1, 2, 3, 4]);
    for (const { bytes } of files) {
      expect(bytes.subarray(0, 128).every(byte => byte === 0)).toBe(true);
      expect(Buffer.from(bytes.subarray(128, 132)).toString('latin1')).toBe('DICM');
    }
    expect(decoded.map(({ dataset }) => dataset.InstanceNumber)).toEqual([1, 2, 3, 4]);
  });

  it('writes a file meta group for MR Image Storage in explicit VR little endian', () => {
    decoded.forEach(({ meta, dataset }, i) => {
      expect(meta.MediaStorageSOPClassUID).toBe(MR_IMAGE_STORAGE);
      expect(meta.MediaStorageSOPInstanceUID).toBe(files[i].sopInstanceUID);
      expect(meta.TransferSyntaxUID).toBe(EXPLICIT_VR_LITTLE_ENDIAN);
      expect(meta.ImplementationClassUID).toMatch(/^2\.25\.[1-9]\d*$/);
      expect(meta.ImplementationVersionName).toBe('TUBERLENS_01');
      expect([...new Uint8Array((meta.FileMetaInformationVersion as ArrayBuffer[])[0])]).toEqual([
        0, 1,
      ]);
      expect(dataset.SOPClassUID).toBe(MR_IMAGE_STORAGE);
      expect(dataset.SOPInstanceUID).toBe(files[i].sopInstanceUID);
    });
  });

  it('derives every UID from the seed: 2.25. and the first 120 bits of sha256(seed:role)', () => {
    const { dataset } = decoded[0];
    expect(dataset.StudyInstanceUID).toBe(expectedUID('study'));
    expect(dataset.SeriesInstanceUID).toBe(expectedUID('series-3'));
    expect(dataset.FrameOfReferenceUID).toBe(expectedUID('frame-of-reference'));
    expect(files.map(file => file.sopInstanceUID)).toEqual(
      [0, 1, 2, 3].map(i => expectedUID(`instance-3-${i}`))
    );
    expect(files.every(file => file.sopInstanceUID.length <= 64)).toBe(true);
  });

  it('writes the patient, study, series and equipment attributes', () => {
    const { dataset } = decoded[0];
    expect(dataset.PatientName).toEqual([{ Alphabetic: 'Synthetic^Tuber' }]);
    // dcmjs reads an empty PN as a list of no names, other empty strings as ''.
    expect(dataset.ReferringPhysicianName).toEqual([]);
    expect(dataset).toMatchObject({
      SpecificCharacterSet: 'ISO_IR 192',
      PatientID: 'TL-SYN-0001',
      PatientBirthDate: '',
      PatientSex: '',
      StudyDate: '20260101',
      StudyTime: '120000',
      StudyID: '1',
      AccessionNumber: '',
      StudyDescription: 'MRI BRAIN TSC',
      SeriesNumber: 3,
      SeriesDescription: 'AX T2 FSE',
      Modality: 'MR',
      Manufacturer: 'TuberLens synthetic',
      PositionReferenceIndicator: '',
      PatientPosition: 'HFS',
      ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    });
  });

  it('writes the MR acquisition attributes of a T2 series', () => {
    expect(decoded[0].dataset).toMatchObject({
      ScanningSequence: 'SE',
      SequenceVariant: 'SK',
      ScanOptions: '',
      MRAcquisitionType: '2D',
      RepetitionTime: 4000,
      EchoTime: 100,
      MagneticFieldStrength: 1.5,
    });
    expect(decoded[0].dataset).not.toHaveProperty('InversionTime');
    // dcmjs reads an empty IS or DS as null.
    expect(decoded[0].dataset.EchoTrainLength).toBeNull();
  });

  it('writes an empty InversionTime for a FLAIR series that does not know it', () => {
    const flair = { ...tiltedFlairSeries(), inversionTime: undefined };
    const { dataset } = read(encodeDicomSeries(flair, STUDY, 4)[0].bytes);
    expect(dataset).toHaveProperty('InversionTime', null);
  });

  it('writes the image pixel module and the pixels unchanged', () => {
    decoded.forEach(({ dataset }, i) => {
      expect(dataset).toMatchObject({
        Rows: ROWS,
        Columns: COLUMNS,
        SamplesPerPixel: 1,
        PhotometricInterpretation: 'MONOCHROME2',
        BitsAllocated: 16,
        BitsStored: 12,
        HighBit: 11,
        PixelRepresentation: 0,
        RescaleIntercept: 0,
        RescaleSlope: 1,
      });
      expect(dataset._vrMap).toEqual({ PixelData: 'OW' });
      expect(storedPixels(dataset)).toEqual(series.pixels[i]);
    });
  });

  it('writes the same window for every slice, from black to the brightest tissue', () => {
    const windows = decoded.map(({ dataset }) => [dataset.WindowCenter, dataset.WindowWidth]);
    expect(new Set(windows.map(String)).size).toBe(1);
    const [center, width] = windows[0] as number[];
    const all = series.pixels.flatMap(slice => [...slice]);
    expect(center - width / 2).toBe(0);
    expect(center + width / 2).toBeLessThanOrEqual(Math.max(...all));
    expect(center + width / 2).toBeGreaterThan(0.95 * Math.max(...all));
  });

  it('writes a window at least 1 wide, also for a uniform or black series', () => {
    const uniform = renderedSeries({
      pixels: Array.from({ length: SLICES }, () => new Uint16Array(ROWS * COLUMNS).fill(700)),
    });
    const { dataset } = read(encodeDicomSeries(uniform, STUDY, 1)[0].bytes);
    expect(dataset).toMatchObject({ WindowCenter: 350, WindowWidth: 700 });
    const black = renderedSeries({
      pixels: Array.from({ length: SLICES }, () => new Uint16Array(ROWS * COLUMNS)),
    });
    expect(read(encodeDicomSeries(black, STUDY, 1)[0].bytes).dataset).toMatchObject({
      WindowCenter: 0,
      WindowWidth: 1,
    });
  });

  it('writes the geometry of every slice', () => {
    decoded.forEach(({ dataset }, i) => {
      expect(dataset.ImagePositionPatient).toEqual(series.positions[i]);
      expect(dataset.ImageOrientationPatient).toEqual([1, 0, 0, 0, 1, 0]);
      expect(dataset.PixelSpacing).toEqual([0.9, 0.8]);
      expect(dataset.SliceThickness).toBe(4);
      expect(dataset.SpacingBetweenSlices).toBe(5);
      expect(dataset.SliceLocation).toBe(-10 + 5 * i);
    });
  });

  it('derives SliceLocation from a tilted normal and names FLAIR inversion recovery', () => {
    const tilted = tiltedFlairSeries();
    const tiltedDecoded = encodeDicomSeries(tilted, STUDY, 4).map(file => read(file.bytes));
    tiltedDecoded.forEach(({ dataset }, i) => {
      expectCloseArray(dataset.ImagePositionPatient, tilted.positions[i]);
      expectCloseArray(dataset.ImageOrientationPatient, tilted.orientation);
      expect(dataset.SliceLocation).toBeCloseTo(5 * i, 5);
      expect(storedPixels(dataset)).toEqual(tilted.pixels[i]);
    });
    expect(tiltedDecoded[0].dataset).toMatchObject({
      SeriesDescription: 'AX FLAIR',
      ScanningSequence: 'IR',
      RepetitionTime: 9000,
      EchoTime: 120,
      InversionTime: 2500,
    });
  });

  it.each([
    ['axial T2', renderedSeries()],
    ['tilted FLAIR', tiltedFlairSeries()],
  ])('orders %s positions along the slice normal of its orientation', (_, rendered) => {
    const datasets = encodeDicomSeries(rendered, STUDY, 5).map(file => read(file.bytes).dataset);
    const normal = sliceNormal(datasets[0].ImageOrientationPatient as number[]);
    const locations = datasets.map(dataset =>
      dot(dataset.ImagePositionPatient as number[], normal)
    );
    locations.slice(1).forEach((location, i) => expect(location).toBeGreaterThan(locations[i]));
  });

  it('gives byte-identical files for the same seed', () => {
    const again = encodeDicomSeries(renderedSeries(), { ...STUDY }, 3);
    again.forEach((file, i) => expect(Buffer.compare(file.bytes, files[i].bytes)).toBe(0));
  });

  it('gives other UIDs but the same pixels for another seed', () => {
    const other = encodeDicomSeries(series, { ...STUDY, uidSeed: 'another-seed' }, 3);
    const otherDecoded = other.map(file => read(file.bytes).dataset);
    expect(otherDecoded[0].StudyInstanceUID).not.toBe(decoded[0].dataset.StudyInstanceUID);
    expect(otherDecoded[0].SeriesInstanceUID).not.toBe(decoded[0].dataset.SeriesInstanceUID);
    expect(otherDecoded[0].FrameOfReferenceUID).not.toBe(decoded[0].dataset.FrameOfReferenceUID);
    other.forEach((file, i) => {
      expect(file.sopInstanceUID).not.toBe(files[i].sopInstanceUID);
      expect(storedPixels(otherDecoded[i])).toEqual(series.pixels[i]);
    });
  });

  it('shares the study and frame of reference UIDs between the series of a study', () => {
    const [t2] = decoded;
    const flair = read(encodeDicomSeries(tiltedFlairSeries(), STUDY, 4)[0].bytes);
    expect(flair.dataset.StudyInstanceUID).toBe(t2.dataset.StudyInstanceUID);
    expect(flair.dataset.FrameOfReferenceUID).toBe(t2.dataset.FrameOfReferenceUID);
    expect(flair.dataset.SeriesInstanceUID).not.toBe(t2.dataset.SeriesInstanceUID);
  });

  it('rejects slices whose pixel count is not rows × columns', () => {
    const broken = renderedSeries({ pixels: [...series.pixels.slice(1), new Uint16Array(3)] });
    expect(() => encodeDicomSeries(broken, STUDY, 1)).toThrow('slice 3 does not have 6 × 8');
  });

  it('rejects a series with fewer positions than slices', () => {
    const broken = renderedSeries({ positions: series.positions.slice(1) });
    expect(() => encodeDicomSeries(broken, STUDY, 1)).toThrow('4 slices of pixels but 3');
  });
});

describe('encoded series on the TuberLens server', () => {
  it.each([
    ['AX T2 FSE', renderedSeries(), 'T2'],
    ['AX FLAIR', tiltedFlairSeries(), 'FLAIR'],
  ])('indexes %s as one axial series of one study', (_, rendered, contrast) => {
    const files = encodeDicomSeries(rendered, STUDY, 2);
    const store = new DicomStore();
    for (const file of files)
      store.add({ ...parseDicom(file.bytes).instance, path: file.fileName });

    expect(store.studyUIDs()).toEqual([expectedUID('study')]);
    const [studyUID] = store.studyUIDs();
    expect(store.seriesUIDs(studyUID)).toEqual([expectedUID('series-2')]);
    const instances = store.instances(studyUID);
    expect(instances.map(instance => instance.sopInstanceUID)).toEqual(
      files.map(file => file.sopInstanceUID)
    );
    expect(instances.map(instance => instance.transferSyntaxUID)).toEqual(
      files.map(() => EXPLICIT_VR_LITTLE_ENDIAN)
    );
    expect(classifySeries(seriesAttributes(instances[0].metadata))).toEqual({
      contrast,
      plane: 'axial',
      suitable: true,
    });
  });
});
