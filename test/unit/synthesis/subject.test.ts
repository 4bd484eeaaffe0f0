import { prepareAnatomy, AnatomyError } from '../../../models/pipeline/synthesis/anatomy';
import { encodeDicomSeries } from '../../../models/pipeline/synthesis/dicomSeries';
import { isParenchyma } from '../../../models/pipeline/synthesis/labels';
import { seriesVolume } from '../../../models/pipeline/synthesis/output';
import { Random } from '../../../models/pipeline/synthesis/random';
import {
  POSITIVE_AREA_MM2,
  sliceTable,
  synthesizeSubject,
} from '../../../models/pipeline/synthesis/subject';
import { identityOf } from '../../../models/pipeline/synthesis/synthCommand';
import { placeLesions, TSC_TUBERS } from '../../../models/pipeline/synthesis/tubers';
import { phantomLabelMap } from '../../fixtures/phantomAnatomy';

const anatomy = prepareAnatomy(phantomLabelMap());
const SMALL_PROTOCOL = { pixelMm: 2, matrix: 96, sliceThicknessMm: 4, gapMm: 1, tiltDegrees: 0 };

function subject(seed: string, tsc = true) {
  return synthesizeSubject(anatomy, seed, {
    tsc,
    contrasts: ['T2', 'FLAIR'],
    acquisition: SMALL_PROTOCOL,
  });
}

test('the same seed gives the same DICOM bytes; another seed gives other images and UIDs', () => {
  const encode = (seed: string) =>
    subject(seed).series.flatMap((series, n) =>
      encodeDicomSeries(series, identityOf(seed, true), n + 1)
    );
  const first = encode('same');
  const again = encode('same');
  expect(again.map(file => Buffer.from(file.bytes))).toEqual(
    first.map(file => Buffer.from(file.bytes))
  );
  const other = encode('other');
  expect(other[0].sopInstanceUID).not.toBe(first[0].sopInstanceUID);
  expect(Buffer.from(other[5].bytes).equals(Buffer.from(first[5].bytes))).toBe(false);
});

test('T2 and FLAIR keep their tissue ordering inside the rendered images', () => {
  const { series } = subject('ordering', false);
  const [t2, flair] = series;
  // Phantom geometry: ventricles (CSF) near the centre, white matter around them.
  const centreRow = t2.rows / 2;
  const middle = Math.floor(t2.pixels.length / 2);
  const at = (image: Uint16Array, xMm: number) =>
    image[centreRow * t2.columns + Math.round(t2.columns / 2 + xMm / 2)];
  const ventricleT2 = at(t2.pixels[middle], 12);
  const whiteT2 = at(t2.pixels[middle], 30);
  expect(ventricleT2).toBeGreaterThan(whiteT2);
  expect(at(flair.pixels[middle], 12)).toBeLessThan(at(flair.pixels[middle], 30));
});

test('tubers lie only in brain parenchyma, and slice labels follow the 20 mm² rule', () => {
  for (const seed of ['a', 'b', 'c']) {
    const lesions = placeLesions(anatomy, new Random(seed), { ...TSC_TUBERS, meanCount: 20 });
    expect(lesions.tubers.length).toBeGreaterThan(0);
    lesions.tuber.forEach((membership, index) => {
      if (membership > 0) expect(isParenchyma(anatomy.labels.data[index])).toBe(true);
    });
  }
  for (const series of subject('labels').series) {
    for (const row of sliceTable(series)) {
      if (row.tuberAreaMm2 >= POSITIVE_AREA_MM2) expect(row.label).toBe('positive');
      else if (row.tuberAreaMm2 === 0) expect(row.label).toBe('negative');
      else expect(row.label).toBe('ambiguous');
    }
  }
});

test('a control brain has no tuber voxel and only negative slices', () => {
  const control = subject('control', false);
  expect(control.tubers).toEqual([]);
  for (const series of control.series)
    expect(sliceTable(series).every(row => row.label === 'negative')).toBe(true);
});

test('the NIfTI affine of a series matches its DICOM geometry, voxel for voxel', () => {
  const [t2] = synthesizeSubject(anatomy, 'geometry', {
    tsc: false,
    contrasts: ['T2'],
    acquisition: { ...SMALL_PROTOCOL, tiltDegrees: 10 },
  }).series;
  const { affine, dims } = seriesVolume(t2, t2.pixels, Uint16Array);
  expect(dims).toEqual([t2.columns, t2.rows, t2.pixels.length]);
  const [i, j, k] = [7, 11, 3];
  const ras = [0, 1, 2].map(
    a => affine[4 * a] * i + affine[4 * a + 1] * j + affine[4 * a + 2] * k + affine[4 * a + 3]
  );
  const lps = [0, 1, 2].map(
    a =>
      t2.positions[k][a] +
      i * t2.pixelSpacing[1] * t2.orientation[a] +
      j * t2.pixelSpacing[0] * t2.orientation[3 + a]
  );
  expect(ras[0]).toBeCloseTo(-lps[0], 6);
  expect(ras[1]).toBeCloseTo(-lps[1], 6);
  expect(ras[2]).toBeCloseTo(lps[2], 6);
});

test('a label map without cortex or white matter is refused with the reason', () => {
  const map = phantomLabelMap(20, 8);
  map.data.forEach((label, index) => {
    if (label === 3 || label === 42) map.data[index] = 2;
  });
  expect(() => prepareAnatomy(map)).toThrow(
    new AnatomyError('the label map has no cerebral cortex (3/42) labels')
  );
});
