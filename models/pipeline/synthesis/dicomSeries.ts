/** Encodes a rendered series as DICOM Part 10 MR images, reproducible byte for byte from a seed. */
import { createHash } from 'node:crypto';
import dcmjs from 'dcmjs';
import type { RenderedSeries, StudyIdentity } from './types';

const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const IMPLEMENTATION_CLASS_UID = derivedUID('TuberLens', 'implementation-class');

export interface EncodedInstance {
  fileName: string;
  bytes: Uint8Array;
  sopInstanceUID: string;
  instanceNumber: number;
}

type Dataset = Record<string, unknown>;
type Vector = [number, number, number];

export function encodeDicomSeries(
  series: RenderedSeries,
  study: StudyIdentity,
  seriesNumber: number
): EncodedInstance[] {
  checkShape(series);
  const shared = {
    ...studyAttributes(study),
    ...seriesAttributes(series, study, seriesNumber),
    ...imageAttributes(series),
  };
  const normal = sliceNormal(series.orientation);
  return series.pixels.map((pixels, index) => {
    const instanceNumber = index + 1;
    const sopInstanceUID = derivedUID(study.uidSeed, `instance-${seriesNumber}-${index}`);
    const position = series.positions[index];
    const dataset = {
      ...shared,
      SOPInstanceUID: sopInstanceUID,
      InstanceNumber: instanceNumber,
      ImagePositionPatient: position.map(decimal),
      SliceLocation: decimal(dot(position, normal)),
      PixelData: pixels.slice().buffer,
      _vrMap: { PixelData: 'OW' },
    };
    return {
      fileName: `${seriesNumber}-${String(instanceNumber).padStart(3, '0')}.dcm`,
      bytes: part10Bytes(dataset),
      sopInstanceUID,
      instanceNumber,
    };
  });
}

function checkShape({ rows, columns, pixels, positions }: RenderedSeries): void {
  if (positions.length !== pixels.length) {
    throw new Error(`${pixels.length} slices of pixels but ${positions.length} positions`);
  }
  const wrong = pixels.findIndex(slice => slice.length !== rows * columns);
  if (wrong >= 0) throw new Error(`slice ${wrong} does not have ${rows} × ${columns} pixels`);
}

/** "2.25." and the first 120 bits of sha256(seed:role) in decimal (PS3.5 B.2). */
function derivedUID(seed: string, role: string): string {
  const digest = createHash('sha256').update(`${seed}:${role}`).digest();
  return `2.25.${BigInt(`0x${digest.subarray(0, 15).toString('hex')}`)}`;
}

function studyAttributes(study: StudyIdentity): Dataset {
  return {
    SpecificCharacterSet: 'ISO_IR 192', // dcmjs writes text as UTF-8
    PatientName: study.patientName,
    PatientID: study.patientId,
    PatientBirthDate: '',
    PatientSex: '',
    StudyInstanceUID: derivedUID(study.uidSeed, 'study'),
    StudyDate: study.studyDate,
    StudyTime: '120000',
    StudyID: '1',
    AccessionNumber: '',
    ReferringPhysicianName: '',
    StudyDescription: study.studyDescription,
    FrameOfReferenceUID: derivedUID(study.uidSeed, 'frame-of-reference'),
    PositionReferenceIndicator: '',
    Manufacturer: 'TuberLens synthetic',
  };
}

function seriesAttributes(
  series: RenderedSeries,
  study: StudyIdentity,
  seriesNumber: number
): Dataset {
  const flair = series.contrast === 'FLAIR';
  return {
    SOPClassUID: MR_IMAGE_STORAGE,
    Modality: 'MR',
    SeriesInstanceUID: derivedUID(study.uidSeed, `series-${seriesNumber}`),
    SeriesNumber: seriesNumber,
    SeriesDescription: series.seriesDescription,
    PatientPosition: 'HFS',
    ScanningSequence: flair ? 'IR' : 'SE',
    SequenceVariant: 'SK',
    ScanOptions: '',
    MRAcquisitionType: '2D',
    RepetitionTime: decimal(series.repetitionTime),
    EchoTime: decimal(series.echoTime),
    ...(flair ? { InversionTime: optionalDecimal(series.inversionTime) } : {}),
    EchoTrainLength: '',
    MagneticFieldStrength: 1.5,
  };
}

function imageAttributes(series: RenderedSeries): Dataset {
  const { center, width } = displayWindow(series.pixels);
  return {
    ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    ImageOrientationPatient: series.orientation.map(decimal),
    PixelSpacing: series.pixelSpacing.map(decimal),
    SliceThickness: decimal(series.sliceThickness),
    SpacingBetweenSlices: decimal(series.spacingBetweenSlices),
    Rows: series.rows,
    Columns: series.columns,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    BitsAllocated: 16,
    BitsStored: 12,
    HighBit: 11,
    PixelRepresentation: 0,
    RescaleIntercept: 0,
    RescaleSlope: 1,
    WindowCenter: center,
    WindowWidth: width,
  };
}

/**
 * A window from black to the series' 99.5th percentile, as scanners display MR: noise and air stay dark
 * and the brightest tissue (CSF on T2) is just white. At least 1 wide.
 */
function displayWindow(slices: Uint16Array[]): { center: number; width: number } {
  const values = new Uint16Array(slices.reduce((total, slice) => total + slice.length, 0));
  let offset = 0;
  for (const slice of slices) {
    values.set(slice, offset);
    offset += slice.length;
  }
  values.sort();
  const high = values[Math.ceil(0.995 * (values.length - 1))];
  return { center: high / 2, width: Math.max(1, high) };
}

function sliceNormal([rx, ry, rz, cx, cy, cz]: RenderedSeries['orientation']): Vector {
  return [ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx];
}

function dot(a: Vector, b: Vector): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/** DS values hold at most 16 characters; micrometre precision is plenty for geometry and timing. */
function decimal(value: number): number {
  return Number(value.toFixed(6));
}

/** An empty value where a type 2 attribute is unknown. */
function optionalDecimal(value: number | undefined): number | '' {
  return value === undefined ? '' : decimal(value);
}

/** A DICOM Part 10 file of a naturalized data set (its own SOP class and instance), explicit VR little endian. */
export function part10Bytes(dataset: Dataset): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const writer = new DicomDict(
    DicomMetaDictionary.denaturalizeDataset({
      FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
      MediaStorageSOPClassUID: dataset.SOPClassUID,
      MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
      TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
      ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
      ImplementationVersionName: 'TUBERLENS_01',
    })
  );
  writer.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(writer.write());
}
