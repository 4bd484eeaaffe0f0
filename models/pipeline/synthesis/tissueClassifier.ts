/**
 * A small classical tissue classifier: turns a skull-stripped T1-weighted brain into the cerebral
 * labels the synthesis engine renders (background, CSF, lateral ventricles, cortex, white matter).
 */
import { LABEL } from './labels';
import type { Volume } from './types';

type Dims = [number, number, number];
type Vec3 = [number, number, number];

/** Intensity classes, darkest to brightest on T1. */
const CLASS = { background: 0, csf: 1, gray: 2, white: 3 } as const;

/** Brain mask threshold, as a fraction of a robust maximum: below it is background or air. */
const MASK_THRESHOLD_FRACTION = 0.1;
const ROBUST_MAXIMUM_PERCENTILE = 0.999;
const HISTOGRAM_BINS = 512;
/** Where the CSF, gray and white matter centres of k-means start, as percentiles of brain voxels. */
const KMEANS_START_PERCENTILES = [0.02, 0.5, 0.98];
const KMEANS_ITERATIONS = 50;
/**
 * A voxel keeps its class when at least this many of its 27-voxel neighbourhood (itself included)
 * share it: a one-voxel sheet has 9, a convex corner about 8, an isolated voxel or a line 1–3.
 */
const MIN_SUPPORT = 7;
/** A lateral ventricle lies near the brain centre: within this fraction of the brain's radius. */
const VENTRICLE_MAX_CENTRE_DISTANCE = 0.35;
/** Smaller CSF pockets are noise or partial volume, not a ventricle (fraction of brain voxels). */
const VENTRICLE_MIN_FRACTION = 0.001;

/** Labels a skull-stripped T1 brain; the result shares the input's grid and affine. */
export function classifyTissues(t1: Volume<Float32Array>): Volume<Uint16Array> {
  const { dims, affine, data } = t1;
  if (data.length !== dims[0] * dims[1] * dims[2]) {
    throw new RangeError(`classifyTissues: ${data.length} voxels for dims ${dims.join('×')}`);
  }
  const brain = brainMask(data, dims);
  const brainCentre = centroid(brain, dims);
  const classes = removeSpecks(intensityClasses(data, brain), brain, dims);
  const ventricles = lateralVentricles(classes, brain, brainCentre, dims, affine);
  const labels = hemisphereLabels(classes, ventricles, brainCentre, dims, affine);
  return { dims: [...dims], affine: [...affine], data: labels };
}

/** Voxels above a low threshold, largest 6-connected component, enclosed holes filled. */
function brainMask(data: Float32Array, dims: Dims): Uint8Array {
  const threshold = MASK_THRESHOLD_FRACTION * robustMaximum(data);
  const foreground = new Uint8Array(data.length);
  for (let index = 0; index < data.length; index++)
    foreground[index] = data[index] > threshold ? 1 : 0;
  return fillHoles(largestComponent(foreground, dims), dims);
}

/** A high percentile of the positive voxels, so that a few hot voxels do not set the scale. */
function robustMaximum(data: Float32Array): number {
  const positive = new Uint8Array(data.length);
  for (let index = 0; index < data.length; index++) positive[index] = data[index] > 0 ? 1 : 0;
  const histogram = Histogram.of(data, positive);
  return histogram ? histogram.percentile(ROBUST_MAXIMUM_PERCENTILE) : 0;
}

function largestComponent(mask: Uint8Array, dims: Dims): Uint8Array {
  const { component, sizes } = connectedComponents(mask, dims);
  const result = new Uint8Array(mask.length);
  if (sizes.length === 0) return result;
  const largest = sizes.reduce((best, size, id) => (size > sizes[best] ? id : best), 0);
  for (let index = 0; index < mask.length; index++)
    result[index] = component[index] === largest ? 1 : 0;
  return result;
}

/** Background is what is 6-connected to the volume's border; anything else outside the mask is a hole. */
function fillHoles(mask: Uint8Array, dims: Dims): Uint8Array {
  const outside = new Uint8Array(mask.length);
  for (let index = 0; index < mask.length; index++) outside[index] = mask[index] ? 0 : 1;
  const { component, sizes } = connectedComponents(outside, dims);
  const background = new Uint8Array(sizes.length);
  forEachBorderVoxel(dims, index => {
    if (component[index] >= 0) background[component[index]] = 1;
  });
  const filled = new Uint8Array(mask.length);
  for (let index = 0; index < mask.length; index++) {
    filled[index] = component[index] >= 0 && background[component[index]] ? 0 : 1;
  }
  return filled;
}

/** 3-class k-means on the brain's intensity histogram; each voxel goes to the nearest centre. */
function intensityClasses(data: Float32Array, brain: Uint8Array): Uint8Array {
  const classes = new Uint8Array(data.length);
  const histogram = Histogram.of(data, brain);
  if (!histogram) return classes;
  const centres = histogram.kMeans(KMEANS_START_PERCENTILES.map(p => histogram.percentile(p)));
  const csfGray = (centres[0] + centres[1]) / 2;
  const grayWhite = (centres[1] + centres[2]) / 2;
  for (let index = 0; index < data.length; index++) {
    if (!brain[index]) continue;
    const value = data[index];
    classes[index] = value < csfGray ? CLASS.csf : value < grayWhite ? CLASS.gray : CLASS.white;
  }
  return classes;
}

/**
 * Salt-and-pepper removal: a brain voxel whose class too few of its 3×3×3 neighbourhood share
 * takes the neighbourhood's most common tissue. Unlike a plain majority vote, this leaves
 * boundaries, corners and one-voxel sheets (thin sulcal CSF, a cortical ribbon) where they are.
 */
function removeSpecks(classes: Uint8Array, brain: Uint8Array, dims: Dims): Uint8Array {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const voted = Uint8Array.from(classes);
  const votes = new Int32Array(4);
  for (let k = 1; k < nz - 1; k++) {
    for (let j = 1; j < ny - 1; j++) {
      for (let i = 1, index = 1 + nx * (j + ny * k); i < nx - 1; i++, index++) {
        if (!brain[index]) continue;
        votes.fill(0);
        for (let dk = -plane; dk <= plane; dk += plane) {
          for (let dj = -nx; dj <= nx; dj += nx) {
            const row = index + dk + dj;
            votes[classes[row - 1]]++;
            votes[classes[row]]++;
            votes[classes[row + 1]]++;
          }
        }
        if (votes[classes[index]] < MIN_SUPPORT) voted[index] = mostVoted(votes);
      }
    }
  }
  return voted;
}

/** The tissue (not background) with most votes; the darker one on a tie. */
function mostVoted(votes: Int32Array): number {
  let winner: number = CLASS.csf;
  for (let tissue = CLASS.gray; tissue <= CLASS.white; tissue++) {
    if (votes[tissue] > votes[winner]) winner = tissue;
  }
  return winner;
}

/**
 * The lateral ventricles: CSF components whose centroid lies near the brain's centre and that do
 * not reach the brain's surface (sulcal and cisternal CSF does).
 */
function lateralVentricles(
  classes: Uint8Array,
  brain: Uint8Array,
  brainCentre: Vec3,
  dims: Dims,
  affine: number[]
): Uint8Array {
  const csf = new Uint8Array(classes.length);
  for (let index = 0; index < classes.length; index++) {
    csf[index] = classes[index] === CLASS.csf ? 1 : 0;
  }
  const { component, sizes } = connectedComponents(csf, dims);
  const centroids = componentCentroids(component, sizes.length, dims);
  const atSurface = componentsAtSurface(component, sizes.length, brain, dims);
  const brainVoxels = count(brain);
  const brainRadius = Math.cbrt((3 * brainVoxels * voxelVolume(affine)) / (4 * Math.PI));
  const isVentricle = sizes.map(
    (size, id) =>
      size >= VENTRICLE_MIN_FRACTION * brainVoxels &&
      !atSurface[id] &&
      worldDistance(affine, centroids[id], brainCentre) <=
        VENTRICLE_MAX_CENTRE_DISTANCE * brainRadius
  );
  const ventricles = new Uint8Array(classes.length);
  for (let index = 0; index < classes.length; index++) {
    ventricles[index] = component[index] >= 0 && isVentricle[component[index]] ? 1 : 0;
  }
  return ventricles;
}

/** Whether each component has a voxel 6-adjacent to the outside of the brain (or the volume's edge). */
function componentsAtSurface(
  component: Int32Array,
  componentCount: number,
  brain: Uint8Array,
  dims: Dims
): boolean[] {
  const atSurface = new Array<boolean>(componentCount).fill(false);
  let brainNeighbours = 0;
  const countBrain = (neighbour: number) => {
    brainNeighbours += brain[neighbour];
  };
  for (let index = 0; index < component.length; index++) {
    const id = component[index];
    if (id < 0 || atSurface[id]) continue;
    brainNeighbours = 0;
    forEachNeighbour(index, dims, countBrain);
    // Fewer than six: a neighbour is outside the brain or beyond the volume's edge.
    if (brainNeighbours < 6) atSurface[id] = true;
  }
  return atSurface;
}

/**
 * Left/right label numbers split at the brain's mid-sagittal plane: the world x of its centroid.
 * NIfTI world space is RAS+, where x grows toward the patient's right, so smaller x is the left.
 */
function hemisphereLabels(
  classes: Uint8Array,
  ventricles: Uint8Array,
  brainCentre: Vec3,
  dims: Dims,
  affine: number[]
): Uint16Array {
  const [nx, ny, nz] = dims;
  const midlineX = worldX(affine, ...brainCentre);
  const labels = new Uint16Array(classes.length);
  for (let k = 0, index = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, index++) {
        const left = worldX(affine, i, j, k) < midlineX;
        labels[index] = labelOf(classes[index], ventricles[index] === 1, left);
      }
    }
  }
  return labels;
}

function labelOf(tissue: number, isVentricle: boolean, left: boolean): number {
  switch (tissue) {
    case CLASS.csf:
      if (!isVentricle) return LABEL.csf;
      return left ? LABEL.leftLateralVentricle : LABEL.rightLateralVentricle;
    case CLASS.gray:
      return left ? LABEL.leftCortex : LABEL.rightCortex;
    case CLASS.white:
      return left ? LABEL.leftWhiteMatter : LABEL.rightWhiteMatter;
    default:
      return 0;
  }
}

/** Intensity histogram of the masked voxels, for percentiles and k-means without sorting millions of values. */
class Histogram {
  private constructor(
    private readonly counts: Float64Array,
    private readonly low: number,
    private readonly binWidth: number
  ) {}

  /** undefined when the mask is empty. */
  static of(data: Float32Array, mask: Uint8Array): Histogram | undefined {
    let low = Infinity;
    let high = -Infinity;
    for (let index = 0; index < data.length; index++) {
      if (!mask[index]) continue;
      if (data[index] < low) low = data[index];
      if (data[index] > high) high = data[index];
    }
    if (low > high) return undefined;
    const binWidth = (high - low) / HISTOGRAM_BINS || 1;
    const counts = new Float64Array(HISTOGRAM_BINS);
    for (let index = 0; index < data.length; index++) {
      if (!mask[index]) continue;
      counts[Math.min(HISTOGRAM_BINS - 1, Math.floor((data[index] - low) / binWidth))]++;
    }
    return new Histogram(counts, low, binWidth);
  }

  private centre(bin: number): number {
    return this.low + (bin + 0.5) * this.binWidth;
  }

  percentile(fraction: number): number {
    const total = this.counts.reduce((sum, n) => sum + n, 0);
    let seen = 0;
    for (let bin = 0; bin < this.counts.length; bin++) {
      seen += this.counts[bin];
      if (seen >= fraction * total) return this.centre(bin);
    }
    return this.centre(this.counts.length - 1);
  }

  /** Lloyd's 1D k-means over the bins, from the given centres; returns the centres ascending. */
  kMeans(start: number[]): number[] {
    let centres = [...start].sort((a, b) => a - b);
    for (let iteration = 0; iteration < KMEANS_ITERATIONS; iteration++) {
      const sums = centres.map(() => 0);
      const weights = centres.map(() => 0);
      for (let bin = 0; bin < this.counts.length; bin++) {
        const value = this.centre(bin);
        const nearest = nearestIndex(centres, value);
        sums[nearest] += this.counts[bin] * value;
        weights[nearest] += this.counts[bin];
      }
      const next = centres.map((centre, n) => (weights[n] > 0 ? sums[n] / weights[n] : centre));
      if (next.every((centre, n) => centre === centres[n])) break;
      centres = next;
    }
    return centres;
  }
}

function nearestIndex(values: number[], target: number): number {
  let best = 0;
  for (let n = 1; n < values.length; n++) {
    if (Math.abs(values[n] - target) < Math.abs(values[best] - target)) best = n;
  }
  return best;
}

/** 6-connected components of a mask: component id per voxel (-1 outside the mask) and each size. */
function connectedComponents(
  mask: Uint8Array,
  dims: Dims
): { component: Int32Array; sizes: number[] } {
  const component = new Int32Array(mask.length).fill(-1);
  const sizes: number[] = [];
  const queue = new Int32Array(mask.length);
  let id = 0;
  let tail = 0;
  const join = (neighbour: number) => {
    if (!mask[neighbour] || component[neighbour] >= 0) return;
    component[neighbour] = id;
    queue[tail++] = neighbour;
  };
  for (let seed = 0; seed < mask.length; seed++) {
    if (!mask[seed] || component[seed] >= 0) continue;
    id = sizes.length;
    tail = 0;
    join(seed);
    for (let head = 0; head < tail; head++) forEachNeighbour(queue[head], dims, join);
    sizes.push(tail);
  }
  return { component, sizes };
}

/** Calls visit with each 6-neighbour of a voxel that lies inside the grid. */
function forEachNeighbour(
  index: number,
  [nx, ny, nz]: Dims,
  visit: (neighbour: number) => void
): void {
  const plane = nx * ny;
  const i = index % nx;
  const j = ((index - i) / nx) % ny;
  const k = (index - i - nx * j) / plane;
  if (i > 0) visit(index - 1);
  if (i < nx - 1) visit(index + 1);
  if (j > 0) visit(index - nx);
  if (j < ny - 1) visit(index + nx);
  if (k > 0) visit(index - plane);
  if (k < nz - 1) visit(index + plane);
}

function forEachBorderVoxel([nx, ny, nz]: Dims, visit: (index: number) => void): void {
  for (let k = 0, index = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, index++) {
        if (i === 0 || j === 0 || k === 0 || i === nx - 1 || j === ny - 1 || k === nz - 1) {
          visit(index);
        }
      }
    }
  }
}

/** Mean voxel position (i, j, k) of a mask. */
function centroid(mask: Uint8Array, dims: Dims): Vec3 {
  const inMask = new Int32Array(mask.length);
  for (let index = 0; index < mask.length; index++) inMask[index] = mask[index] - 1;
  return componentCentroids(inMask, 1, dims)[0];
}

/** Mean voxel position (i, j, k) of each component. */
function componentCentroids(
  component: Int32Array,
  componentCount: number,
  [nx, ny, nz]: Dims
): Vec3[] {
  const sums = Array.from({ length: componentCount }, () => [0, 0, 0, 0]);
  for (let k = 0, index = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, index++) {
        const id = component[index];
        if (id < 0 || id >= componentCount) continue;
        const sum = sums[id];
        sum[0] += i;
        sum[1] += j;
        sum[2] += k;
        sum[3]++;
      }
    }
  }
  return sums.map(([i, j, k, n]) => [i / n, j / n, k / n]);
}

function count(mask: Uint8Array): number {
  let total = 0;
  for (let index = 0; index < mask.length; index++) total += mask[index];
  return total;
}

function worldX(affine: number[], i: number, j: number, k: number): number {
  return affine[0] * i + affine[1] * j + affine[2] * k + affine[3];
}

/** Distance in mm between two voxel positions, through the affine's linear part. */
function worldDistance(affine: number[], a: Vec3, b: Vec3): number {
  const d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
  return Math.hypot(
    ...[0, 4, 8].map(row => affine[row] * d[0] + affine[row + 1] * d[1] + affine[row + 2] * d[2])
  );
}

/** mm³ per voxel: the absolute determinant of the affine's linear part. */
function voxelVolume(affine: number[]): number {
  const [a, b, c, , d, e, f, , g, h, i] = affine;
  return Math.abs(a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g));
}
