import type { Volume } from './types';

/** Extra-cerebral layers (mm from the brain surface) and their SynthSeg labels: CSF, skull, scalp with fat. */
const SHELLS: Array<{ untilMm: number; label: number }> = [
  { untilMm: 2, label: 24 },
  { untilMm: 8, label: 515 },
  { untilMm: 10, label: 511 },
  { untilMm: 12, label: 516 },
  { untilMm: 14, label: 511 },
];
const PAD_MM = 16;

/**
 * Wraps a skull-stripped label map in CSF, skull, scalp and fat shells at set distances from the brain,
 * so images rendered from it look like heads. The grid is padded to make room; the affine follows.
 */
export function addHeadShells(labels: Volume<Uint16Array>): Volume<Uint16Array> {
  const voxelMm = Math.hypot(labels.affine[0], labels.affine[4], labels.affine[8]);
  const pad = Math.ceil(PAD_MM / voxelMm);
  const padded = padVolume(labels, pad);
  const distance = chamferDistance(padded);
  const { data } = padded;
  for (let index = 0; index < data.length; index++) {
    if (data[index] !== 0) continue;
    const shell = SHELLS.find(({ untilMm }) => distance[index] * voxelMm <= untilMm);
    if (shell) data[index] = shell.label;
  }
  return padded;
}

function padVolume({ dims, affine, data }: Volume<Uint16Array>, pad: number): Volume<Uint16Array> {
  const [nx, ny, nz] = dims;
  const size: [number, number, number] = [nx + 2 * pad, ny + 2 * pad, nz + 2 * pad];
  const out = new Uint16Array(size[0] * size[1] * size[2]);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const from = nx * (j + ny * k);
      out.set(data.subarray(from, from + nx), pad + size[0] * (j + pad + size[1] * (k + pad)));
    }
  }
  // Voxel (i, j, k) of the padded grid is voxel (i − pad, j − pad, k − pad) of the original.
  const shifted = [...affine];
  for (let row = 0; row < 3; row++) {
    shifted[4 * row + 3] -= pad * (affine[4 * row] + affine[4 * row + 1] + affine[4 * row + 2]);
  }
  return { dims: size, affine: shifted, data: out };
}

/**
 * Distance (in voxels) of every voxel to the nearest non-zero voxel: a two-pass 3-4-5 chamfer, divided
 * by 3. The outermost layer of the grid is left out: the padding keeps it far from the brain.
 */
function chamferDistance({ dims: [nx, ny, nz], data }: Volume<Uint16Array>): Float32Array {
  const distance = new Float32Array(data.length);
  for (let index = 0; index < data.length; index++) distance[index] = data[index] !== 0 ? 0 : 1e9;
  const forward: Array<[number, number]> = [];
  const backward: Array<[number, number]> = [];
  for (let dk = -1; dk <= 1; dk++) {
    for (let dj = -1; dj <= 1; dj++) {
      for (let di = -1; di <= 1; di++) {
        const order = Math.abs(di) + Math.abs(dj) + Math.abs(dk);
        if (order === 0) continue;
        const delta = di + nx * (dj + ny * dk);
        (delta < 0 ? forward : backward).push([delta, [0, 3, 4, 5][order]]);
      }
    }
  }
  const sweep = (index: number, neighbours: Array<[number, number]>) => {
    let best = distance[index];
    for (const [delta, cost] of neighbours) {
      const candidate = distance[index + delta] + cost;
      if (candidate < best) best = candidate;
    }
    distance[index] = best;
  };
  for (let k = 1; k < nz - 1; k++) {
    for (let j = 1; j < ny - 1; j++) {
      for (let i = 1, index = 1 + nx * (j + ny * k); i < nx - 1; i++, index++)
        sweep(index, forward);
    }
  }
  for (let k = nz - 2; k >= 1; k--) {
    for (let j = ny - 2; j >= 1; j--) {
      for (let i = nx - 2, index = i + nx * (j + ny * k); i >= 1; i--, index--)
        sweep(index, backward);
    }
  }
  for (let index = 0; index < distance.length; index++) distance[index] /= 3;
  return distance;
}
