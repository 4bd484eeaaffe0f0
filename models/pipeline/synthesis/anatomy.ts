import { isCerebralCortex, isCerebralWhiteMatter, isParenchyma, LABEL } from './labels';
import type { Volume, VoxelData } from './types';

export type Vec3 = [number, number, number];

/** A label map prepared for synthesis: labels, voxel ↔ world geometry and the structures tubers need. */
export interface Anatomy {
  labels: Volume<Uint16Array>;
  /** Columns of the affine's linear part: the world (RAS mm) step of one voxel along i, j and k. */
  axes: [Vec3, Vec3, Vec3];
  /** World (RAS mm) bounds of the brain parenchyma. */
  brainMin: Vec3;
  brainMax: Vec3;
  brainCentre: Vec3;
}

export class AnatomyError extends Error {}

/** Checks a label map and converts it to integer labels; throws AnatomyError with a one-line reason. */
export function prepareAnatomy(volume: Volume<VoxelData>): Anatomy {
  const { dims, affine, data } = volume;
  if (dims.some(size => size < 16))
    throw new AnatomyError(`the label map is too small (${dims.join('×')} voxels)`);
  const labels = new Uint16Array(data.length);
  const present = new Set<number>();
  for (let index = 0; index < data.length; index++) {
    const label = Math.round(data[index]);
    if (label < 0 || label > 65535)
      throw new AnatomyError(`label ${data[index]} at voxel ${index} is not a label`);
    labels[index] = label;
    present.add(label);
  }
  const hasCortex = [...present].some(isCerebralCortex);
  const hasWhiteMatter = [...present].some(isCerebralWhiteMatter);
  const missing = [
    hasCortex ? '' : `cerebral cortex (${LABEL.leftCortex}/${LABEL.rightCortex})`,
    hasWhiteMatter
      ? ''
      : `cerebral white matter (${LABEL.leftWhiteMatter}/${LABEL.rightWhiteMatter})`,
  ].filter(Boolean);
  if (missing.length > 0)
    throw new AnatomyError(`the label map has no ${missing.join(' and no ')} labels`);
  const axes: [Vec3, Vec3, Vec3] = [0, 1, 2].map(column => [
    affine[column],
    affine[4 + column],
    affine[8 + column],
  ]) as [Vec3, Vec3, Vec3];
  const anatomy = { labels: { dims, affine, data: labels }, axes };
  const { min, max } = parenchymaBounds(anatomy);
  return {
    ...anatomy,
    brainMin: min,
    brainMax: max,
    brainCentre: [0, 1, 2].map(a => (min[a] + max[a]) / 2) as Vec3,
  };
}

export function voxelToWorld(
  { labels: { affine } }: Pick<Anatomy, 'labels'>,
  i: number,
  j: number,
  k: number
): Vec3 {
  return [
    affine[0] * i + affine[1] * j + affine[2] * k + affine[3],
    affine[4] * i + affine[5] * j + affine[6] * k + affine[7],
    affine[8] * i + affine[9] * j + affine[10] * k + affine[11],
  ];
}

/** The inverse of the voxel → world affine, as a function. */
export function worldToVoxel(affine: number[]): (x: number, y: number, z: number) => Vec3 {
  const [a, b, c, tx, d, e, f, ty, g, h, i, tz] = affine;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  if (Math.abs(det) < 1e-12) throw new AnatomyError('the label map has a singular affine');
  const inv = [
    (e * i - f * h) / det,
    (c * h - b * i) / det,
    (b * f - c * e) / det,
    (f * g - d * i) / det,
    (a * i - c * g) / det,
    (c * d - a * f) / det,
    (d * h - e * g) / det,
    (b * g - a * h) / det,
    (a * e - b * d) / det,
  ];
  return (x, y, z) => {
    const px = x - tx;
    const py = y - ty;
    const pz = z - tz;
    return [
      inv[0] * px + inv[1] * py + inv[2] * pz,
      inv[3] * px + inv[4] * py + inv[5] * pz,
      inv[6] * px + inv[7] * py + inv[8] * pz,
    ];
  };
}

/** World bounds of the parenchyma: the voxel-index bounding box, through the affine (exact when axis-aligned). */
function parenchymaBounds(anatomy: Pick<Anatomy, 'labels'>): { min: Vec3; max: Vec3 } {
  const {
    dims: [nx, ny, nz],
    data,
  } = anatomy.labels;
  const low = [nx, ny, nz];
  const high = [-1, -1, -1];
  for (let k = 0, index = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, index++) {
        if (!isParenchyma(data[index])) continue;
        if (i < low[0]) low[0] = i;
        if (i > high[0]) high[0] = i;
        if (j < low[1]) low[1] = j;
        if (j > high[1]) high[1] = j;
        if (k < low[2]) low[2] = k;
        if (k > high[2]) high[2] = k;
      }
    }
  }
  const corners = [0, 1, 2, 3, 4, 5, 6, 7].map(n =>
    voxelToWorld(
      anatomy,
      n & 1 ? high[0] : low[0],
      n & 2 ? high[1] : low[1],
      n & 4 ? high[2] : low[2]
    )
  );
  const min = [0, 1, 2].map(a => Math.min(...corners.map(corner => corner[a]))) as Vec3;
  const max = [0, 1, 2].map(a => Math.max(...corners.map(corner => corner[a]))) as Vec3;
  return { min, max };
}
