import { worldToVoxel, type Anatomy, type Vec3 } from './anatomy';
import type { ContrastModel } from './contrast';
import { TISSUES, tissueLookup } from './labels';
import type { Random } from './random';
import type { LesionFields } from './tubers';
import type { RenderedSeries } from './types';

/** How the scanner acquires one axial 2D series, and how the head lies in it. */
export interface Acquisition {
  /** In-plane pixel size (mm), square pixels. */
  pixelMm: number;
  matrix: number;
  sliceThicknessMm: number;
  gapMm: number;
  /** Tilt of the slices about the left–right axis (degrees). */
  tiltDegrees: number;
  /** Head pose and shape: rotation (degrees about x, y, z), scale, shift (mm) and a smooth warp. */
  rotationDegrees: Vec3;
  scale: Vec3;
  shiftMm: Vec3;
  warp: Warp;
  biasField: BiasField;
  noiseLevel: number;
  gamma: number;
  /** The brightest tissue's 12-bit value. */
  whiteLevel: number;
  /** Render at most this many slices, evenly spaced through the series (training needs no full series). */
  maxSlices?: number;
  /**
   * With `maxSlices`, also render this many of the scanner's adjacent slices on either side of each
   * slice kept, so that 2.5D input sees the neighbours a full series would give it.
   */
  neighbours?: number;
}

/** Draws a clinical acquisition: in-plane 0.4–1.2 mm, 1–6 mm slices with gaps, tilts, poses and artefacts. */
export function sampleAcquisition(random: Random): Acquisition {
  const pixelMm = random.uniform(0.4, 1.2);
  const fieldOfViewMm = random.uniform(200, 260);
  return {
    pixelMm,
    matrix: Math.min(512, Math.max(128, 2 * Math.round(fieldOfViewMm / pixelMm / 2))),
    sliceThicknessMm: random.uniform(1, 6),
    gapMm: random.chance(0.6) ? random.uniform(0, 1.5) : 0,
    tiltDegrees: random.uniform(-12, 12),
    rotationDegrees: [random.gaussian(0, 5), random.gaussian(0, 3), random.gaussian(0, 4)],
    scale: [random.uniform(0.92, 1.08), random.uniform(0.92, 1.08), random.uniform(0.92, 1.08)],
    shiftMm: [random.gaussian(0, 4), random.gaussian(0, 4), random.gaussian(0, 4)],
    warp: sampleWarp(random, 3),
    biasField: sampleBiasField(random),
    noiseLevel: random.uniform(0.01, 0.05),
    gamma: Math.exp(random.gaussian(0, 0.12)),
    whiteLevel: random.uniform(2800, 4000),
  };
}

export type AcquiredImages = Pick<
  RenderedSeries,
  | 'rows'
  | 'columns'
  | 'pixelSpacing'
  | 'sliceThickness'
  | 'spacingBetweenSlices'
  | 'orientation'
  | 'positions'
  | 'kept'
  | 'pixels'
  | 'masks'
>;

/** Signal of every label-grid voxel for one contrast: tissue texture, tubers, cysts and nodules, partial volume. */
export function renderTissueSignal(
  anatomy: Anatomy,
  lesions: LesionFields,
  model: ContrastModel,
  random: Random
): Float32Array {
  const { data } = anatomy.labels;
  const lookup = tissueLookup(TISSUES);
  const signal = new Float32Array(data.length);
  for (let index = 0; index < data.length; index++) {
    if (data[index] === 0) continue;
    const tissue = lookup[data[index]];
    let value = model.means[tissue] + model.sds[tissue] * random.gaussian();
    const tuber = lesions.tuber[index] / 255;
    if (tuber > 0) value += tuber * (model.tuber.mean + model.tuber.sd * random.gaussian() - value);
    const cyst = lesions.cyst[index] / 255;
    if (cyst > 0) value += cyst * (model.cyst - value);
    const nodule = lesions.nodule[index] / 255;
    if (nodule > 0) value += nodule * (model.subependymalNodule - value);
    signal[index] = value;
  }
  blur3(signal, anatomy.labels.dims);
  return signal;
}

/**
 * Acquires the axial series: each pixel averages the signal over the slice thickness at the deformed head
 * position, then bias field, Rician noise, gamma and 12-bit scaling. The tuber mask is sampled the same way.
 */
export function acquireSeries(
  anatomy: Anatomy,
  signal: Float32Array,
  tuberField: Uint8Array,
  acquisition: Acquisition,
  random: Random
): AcquiredImages {
  const geometry = sliceGeometry(anatomy, acquisition);
  const toHeadVoxel = headMapping(anatomy, acquisition);
  const { matrix, pixelMm, sliceThicknessMm } = acquisition;
  const subSlices = Math.max(1, Math.round(sliceThicknessMm));
  const { dims } = anatomy.labels;
  const raw: Float32Array[] = [];
  const masks: Uint8Array[] = [];
  for (const position of geometry.positions) {
    const grid = coarseMapping(matrix, (row, column) => {
      const lps = pointOnSlice(geometry, position, row, column, pixelMm, 0);
      const voxel = toHeadVoxel(lps);
      const above = toHeadVoxel(pointOnSlice(geometry, position, row, column, pixelMm, 1));
      return [
        ...voxel,
        above[0] - voxel[0],
        above[1] - voxel[1],
        above[2] - voxel[2],
        acquisition.biasField.at(lps, anatomy.brainCentre),
      ];
    });
    const image = new Float32Array(matrix * matrix);
    const mask = new Uint8Array(matrix * matrix);
    const mapped = new Float32Array(7);
    for (let row = 0, pixel = 0; row < matrix; row++) {
      for (let column = 0; column < matrix; column++, pixel++) {
        grid.at(row, column, mapped);
        let sum = 0;
        let tuber = 0;
        for (let s = 0; s < subSlices; s++) {
          const depth = ((s + 0.5) / subSlices - 0.5) * sliceThicknessMm;
          const x = mapped[0] + depth * mapped[3];
          const y = mapped[1] + depth * mapped[4];
          const z = mapped[2] + depth * mapped[5];
          sum += trilinear(signal, dims, x, y, z);
          tuber += trilinear(tuberField, dims, x, y, z);
        }
        image[pixel] = (sum / subSlices) * mapped[6];
        mask[pixel] = tuber / subSlices >= 127.5 ? 1 : 0;
      }
    }
    raw.push(image);
    masks.push(mask);
  }
  return {
    rows: matrix,
    columns: matrix,
    pixelSpacing: [pixelMm, pixelMm],
    sliceThickness: sliceThicknessMm,
    spacingBetweenSlices: acquisition.sliceThicknessMm + acquisition.gapMm,
    orientation: [...geometry.row, ...geometry.column] as RenderedSeries['orientation'],
    positions: geometry.positions,
    kept: geometry.kept,
    pixels: toTwelveBit(raw, acquisition, random),
    masks,
  };
}

const COARSE_STEP = 8;

/**
 * A smooth per-pixel mapping evaluated every COARSE_STEP pixels and interpolated bilinearly: the head pose,
 * warp and bias field vary over centimetres, so this loses nothing and saves most of the work.
 */
function coarseMapping(matrix: number, evaluate: (row: number, column: number) => number[]) {
  const nodes = Math.ceil((matrix - 1) / COARSE_STEP) + 1;
  const values = Array.from({ length: nodes * nodes }, (_, n) =>
    evaluate(Math.floor(n / nodes) * COARSE_STEP, (n % nodes) * COARSE_STEP)
  );
  const width = values[0].length;
  return {
    at(row: number, column: number, out: Float32Array) {
      const r = Math.min(nodes - 2, Math.floor(row / COARSE_STEP));
      const c = Math.min(nodes - 2, Math.floor(column / COARSE_STEP));
      const fr = row / COARSE_STEP - r;
      const fc = column / COARSE_STEP - c;
      const v00 = values[r * nodes + c];
      const v01 = values[r * nodes + c + 1];
      const v10 = values[(r + 1) * nodes + c];
      const v11 = values[(r + 1) * nodes + c + 1];
      for (let n = 0; n < width; n++) {
        out[n] =
          (v00[n] * (1 - fc) + v01[n] * fc) * (1 - fr) + (v10[n] * (1 - fc) + v11[n] * fc) * fr;
      }
    },
  };
}

interface SliceGeometry {
  row: Vec3;
  column: Vec3;
  normal: Vec3;
  positions: Vec3[];
  /** Indices into `positions` of the slices kept; the others are their neighbours. */
  kept: number[];
}

/** Axial slices (LPS) covering the brain from its lowest to its highest point, tilted about left–right. */
function sliceGeometry(anatomy: Anatomy, acquisition: Acquisition): SliceGeometry {
  const tilt = (acquisition.tiltDegrees * Math.PI) / 180;
  const row: Vec3 = [1, 0, 0];
  const column: Vec3 = [0, Math.cos(tilt), Math.sin(tilt)];
  const normal: Vec3 = [0, -Math.sin(tilt), Math.cos(tilt)];
  const centre = flipRasLps(anatomy.brainCentre);
  const heightMm = anatomy.brainMax[2] - anatomy.brainMin[2] + 10;
  const step = acquisition.sliceThicknessMm + acquisition.gapMm;
  const count = Math.max(1, Math.ceil(heightMm / step));
  const half = ((acquisition.matrix - 1) / 2) * acquisition.pixelMm;
  const kept = evenlySpaced(count, acquisition.maxSlices ?? count);
  const rendered = withNeighbours(kept, acquisition.neighbours ?? 0, count);
  const positions = rendered.map(n => {
    const offset = (n - (count - 1) / 2) * step;
    return [0, 1, 2].map(
      a => centre[a] + offset * normal[a] - half * row[a] - half * column[a]
    ) as Vec3;
  });
  return { row, column, normal, positions, kept: kept.map(n => rendered.indexOf(n)) };
}

/** The slices kept and up to `neighbours` adjacent ones on either side, within 0 … count − 1, in order. */
function withNeighbours(kept: number[], neighbours: number, count: number): number[] {
  const slices = new Set<number>();
  for (const n of kept) {
    for (let k = Math.max(0, n - neighbours); k <= Math.min(count - 1, n + neighbours); k++)
      slices.add(k);
  }
  return [...slices].sort((a, b) => a - b);
}

/** Up to `wanted` indices of 0 … count − 1, evenly spaced. */
function evenlySpaced(count: number, wanted: number): number[] {
  if (wanted >= count) return Array.from({ length: count }, (_, n) => n);
  return Array.from({ length: wanted }, (_, n) => Math.round(((n + 0.5) * count) / wanted - 0.5));
}

function pointOnSlice(
  geometry: SliceGeometry,
  position: Vec3,
  row: number,
  column: number,
  pixelMm: number,
  depth: number
): Vec3 {
  return [0, 1, 2].map(
    a =>
      position[a] +
      column * pixelMm * geometry.row[a] +
      row * pixelMm * geometry.column[a] +
      depth * geometry.normal[a]
  ) as Vec3;
}

/** Maps a scanner point (LPS) to a label-grid voxel through the inverse head pose and warp. */
function headMapping(anatomy: Anatomy, acquisition: Acquisition): (lps: Vec3) => Vec3 {
  const toVoxel = worldToVoxel(anatomy.labels.affine);
  const inverseRotation = transpose(rotationMatrix(acquisition.rotationDegrees));
  const centre = anatomy.brainCentre;
  return lps => {
    const ras = flipRasLps(lps);
    const relative = [0, 1, 2].map(a => ras[a] - centre[a] - acquisition.shiftMm[a]) as Vec3;
    const unrotated = multiply(inverseRotation, relative);
    const warp = acquisition.warp.at(unrotated);
    const head = [0, 1, 2].map(
      a => unrotated[a] / acquisition.scale[a] + centre[a] + warp[a]
    ) as Vec3;
    return toVoxel(head[0], head[1], head[2]);
  };
}

/** RAS → LPS and LPS → RAS: the same flip. */
function flipRasLps([x, y, z]: Vec3): Vec3 {
  return [-x, -y, z];
}

interface Warp {
  at(pointMm: Vec3): Vec3;
}

/** A smooth displacement field: random vectors on a coarse grid (40 mm apart), interpolated. */
function sampleWarp(random: Random, sdMm: number): Warp {
  const nodes = 7;
  const spacing = 40;
  const field = Float32Array.from({ length: nodes ** 3 * 3 }, () => random.gaussian(0, sdMm));
  return {
    at(point) {
      const grid = point.map(c => c / spacing + (nodes - 1) / 2) as Vec3;
      return [0, 1, 2].map(component => trilinearComponent(field, nodes, grid, component)) as Vec3;
    },
  };
}

function trilinearComponent(
  field: Float32Array,
  nodes: number,
  [x, y, z]: Vec3,
  component: number
): number {
  const clampNode = (v: number) => Math.min(nodes - 1.001, Math.max(0, v));
  const [cx, cy, cz] = [clampNode(x), clampNode(y), clampNode(z)];
  const [x0, y0, z0] = [Math.floor(cx), Math.floor(cy), Math.floor(cz)];
  const [fx, fy, fz] = [cx - x0, cy - y0, cz - z0];
  let value = 0;
  for (let dz = 0; dz <= 1; dz++) {
    for (let dy = 0; dy <= 1; dy++) {
      for (let dx = 0; dx <= 1; dx++) {
        const weight = (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy) * (dz ? fz : 1 - fz);
        value += weight * field[(x0 + dx + nodes * (y0 + dy + nodes * (z0 + dz))) * 3 + component];
      }
    }
  }
  return value;
}

interface BiasField {
  at(lps: Vec3, centre: Vec3): number;
}

/** A smooth multiplicative intensity non-uniformity of up to about ±25 %. */
function sampleBiasField(random: Random): BiasField {
  const linear = [
    random.gaussian(0, 0.0015),
    random.gaussian(0, 0.0015),
    random.gaussian(0, 0.0015),
  ];
  const quadratic = random.gaussian(0, 0.00002);
  return {
    at(lps, centre) {
      const d = [lps[0] + centre[0], lps[1] + centre[1], lps[2] - centre[2]];
      return Math.exp(
        linear[0] * d[0] +
          linear[1] * d[1] +
          linear[2] * d[2] +
          quadratic * (d[0] ** 2 + d[1] ** 2 + d[2] ** 2)
      );
    },
  };
}

/** Rician noise, gamma and scaling to stored 12-bit values. */
function toTwelveBit(
  images: Float32Array[],
  acquisition: Acquisition,
  random: Random
): Uint16Array[] {
  const reference = percentile(images, 0.995) || 1;
  const sigma = acquisition.noiseLevel * reference;
  return images.map(image =>
    Uint16Array.from(image, value => {
      const real = value + random.gaussian(0, sigma);
      const imaginary = random.gaussian(0, sigma);
      const magnitude = Math.hypot(real, imaginary) / reference;
      return Math.min(
        4095,
        Math.max(0, Math.round(acquisition.whiteLevel * Math.pow(magnitude, acquisition.gamma)))
      );
    })
  );
}

function percentile(images: Float32Array[], fraction: number): number {
  const sample: number[] = [];
  for (const image of images) for (let n = 0; n < image.length; n += 7) sample.push(image[n]);
  sample.sort((a, b) => a - b);
  return sample[Math.min(sample.length - 1, Math.floor(fraction * sample.length))] ?? 0;
}

/** Trilinear interpolation; outside the grid is 0. */
function trilinear(
  data: Float32Array | Uint8Array,
  [nx, ny, nz]: [number, number, number],
  x: number,
  y: number,
  z: number
): number {
  if (x < 0 || y < 0 || z < 0 || x > nx - 1 || y > ny - 1 || z > nz - 1) return 0;
  const x0 = Math.min(nx - 2, Math.floor(x));
  const y0 = Math.min(ny - 2, Math.floor(y));
  const z0 = Math.min(nz - 2, Math.floor(z));
  const fx = x - x0;
  const fy = y - y0;
  const fz = z - z0;
  const base = x0 + nx * (y0 + ny * z0);
  const plane = nx * ny;
  const c00 = data[base] * (1 - fx) + data[base + 1] * fx;
  const c10 = data[base + nx] * (1 - fx) + data[base + nx + 1] * fx;
  const c01 = data[base + plane] * (1 - fx) + data[base + plane + 1] * fx;
  const c11 = data[base + plane + nx] * (1 - fx) + data[base + plane + nx + 1] * fx;
  return (c00 * (1 - fy) + c10 * fy) * (1 - fz) + (c01 * (1 - fy) + c11 * fy) * fz;
}

/** In-place [1 2 1]/4 blur along each axis: partial volume of a 1 mm grid. */
function blur3(data: Float32Array, dims: [number, number, number]): void {
  const strides = [1, dims[0], dims[0] * dims[1]];
  const line = new Float32Array(Math.max(...dims));
  for (let axis = 0; axis < 3; axis++) {
    const [u, v] = [0, 1, 2].filter(other => other !== axis);
    const size = dims[axis];
    const stride = strides[axis];
    for (let b = 0; b < dims[v]; b++) {
      for (let a = 0; a < dims[u]; a++) {
        const start = a * strides[u] + b * strides[v];
        for (let n = 0; n < size; n++) line[n] = data[start + n * stride];
        for (let n = 1; n < size - 1; n++)
          data[start + n * stride] = 0.25 * (line[n - 1] + line[n + 1]) + 0.5 * line[n];
      }
    }
  }
}

function rotationMatrix([ax, ay, az]: Vec3): number[][] {
  const [x, y, z] = [ax, ay, az].map(degrees => (degrees * Math.PI) / 180);
  const rx = [
    [1, 0, 0],
    [0, Math.cos(x), -Math.sin(x)],
    [0, Math.sin(x), Math.cos(x)],
  ];
  const ry = [
    [Math.cos(y), 0, Math.sin(y)],
    [0, 1, 0],
    [-Math.sin(y), 0, Math.cos(y)],
  ];
  const rz = [
    [Math.cos(z), -Math.sin(z), 0],
    [Math.sin(z), Math.cos(z), 0],
    [0, 0, 1],
  ];
  return matrixProduct(rz, matrixProduct(ry, rx));
}

function matrixProduct(a: number[][], b: number[][]): number[][] {
  return a.map(row => [0, 1, 2].map(c => row[0] * b[0][c] + row[1] * b[1][c] + row[2] * b[2][c]));
}

function transpose(m: number[][]): number[][] {
  return [0, 1, 2].map(r => [0, 1, 2].map(c => m[c][r]));
}

function multiply(m: number[][], v: Vec3): Vec3 {
  return m.map(row => row[0] * v[0] + row[1] * v[1] + row[2] * v[2]) as Vec3;
}
