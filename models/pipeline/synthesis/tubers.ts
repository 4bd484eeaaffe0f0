import { voxelToWorld, type Anatomy, type Vec3 } from './anatomy';
import {
  isCerebralCortex,
  isCerebralWhiteMatter,
  isLateralVentricle,
  isParenchyma,
  LABEL,
  tissueOf,
} from './labels';
import type { Random } from './random';

export type Region = 'frontal' | 'parietal' | 'temporal' | 'occipital' | 'cerebellum' | 'brainstem';

/** Where tubers arise, following their reported distribution (frontal > parietal > temporal > occipital). */
export const REGION_WEIGHTS: Record<Region, number> = {
  frontal: 0.38,
  parietal: 0.25,
  temporal: 0.18,
  occipital: 0.12,
  cerebellum: 0.05,
  brainstem: 0.02,
};
const REGIONS = Object.keys(REGION_WEIGHTS) as Region[];

export interface TuberOptions {
  /** Mean of the Poisson number of tubers; 0 for a control brain. */
  meanCount: number;
  maxCount: number;
  /** Share of subtle 2–5 mm tubers. */
  subtleShare: number;
  cystShare: number;
  /** Probability that a TSC brain has subependymal nodules. */
  noduleProbability: number;
}

export const TSC_TUBERS: TuberOptions = {
  meanCount: 10,
  maxCount: 40,
  subtleShare: 0.15,
  cystShare: 0.08,
  noduleProbability: 0.8,
};
export const NO_TUBERS: TuberOptions = { ...TSC_TUBERS, meanCount: 0, noduleProbability: 0 };

export interface Tuber {
  region: Region;
  /** Voxel coordinates of the centre, on the gray–white junction. */
  centre: Vec3;
  diameterMm: number;
  /** Length of the wedge reaching through white matter toward the ventricle (0: none). */
  wedgeMm: number;
  /** Length of the thin radial band beyond the wedge (0: none). */
  bandMm: number;
  cystic: boolean;
}

/** Tuber and nodule fields on the label grid: 0–255 soft membership per voxel. */
export interface LesionFields {
  tubers: Tuber[];
  tuber: Uint8Array;
  cyst: Uint8Array;
  nodule: Uint8Array;
}

export function placeLesions(
  anatomy: Anatomy,
  random: Random,
  options: TuberOptions
): LesionFields {
  const voxels = anatomy.labels.data.length;
  const fields: LesionFields = {
    tubers: [],
    tuber: new Uint8Array(voxels),
    cyst: new Uint8Array(voxels),
    nodule: new Uint8Array(voxels),
  };
  const count = Math.min(options.maxCount, random.poisson(options.meanCount));
  if (count === 0) return fields;
  const { sites, ventricles } = lesionSites(anatomy);
  for (let n = 0; n < count; n++) {
    const tuber = drawTuber(anatomy, sites, ventricles, random, options);
    if (!tuber) continue;
    fields.tubers.push(tuber);
    paintTuber(
      anatomy,
      fields,
      tuber,
      nearestVentricleDirection(anatomy, tuber.centre, ventricles),
      random
    );
  }
  if (random.chance(options.noduleProbability))
    paintNodules(anatomy, fields, ventricles.walls, random);
  return fields;
}

interface Sites {
  byRegion: Map<Region, number[]>;
}

const SITES_CACHE = new WeakMap<Anatomy, { sites: Sites; ventricles: Ventricles }>();

/** Candidate sites depend on the anatomy alone: found once, reused for every brain drawn from it. */
function lesionSites(anatomy: Anatomy): { sites: Sites; ventricles: Ventricles } {
  let cached = SITES_CACHE.get(anatomy);
  if (!cached) {
    cached = { sites: findSites(anatomy), ventricles: ventricleVoxels(anatomy) };
    SITES_CACHE.set(anatomy, cached);
  }
  return cached;
}

/**
 * Candidate tuber centres: cerebral cortex voxels touching cerebral white matter (the gray–white
 * junction), cerebellar cortex touching cerebellar white matter, and brainstem voxels.
 */
function findSites(anatomy: Anatomy): Sites {
  const {
    dims: [nx, ny, nz],
    data,
  } = anatomy.labels;
  const byRegion = new Map<Region, number[]>(REGIONS.map(region => [region, []]));
  const stride = [1, nx, nx * ny];
  for (let k = 1, index = 0; k < nz - 1; k++) {
    for (let j = 1; j < ny - 1; j++) {
      index = 1 + nx * (j + ny * k);
      for (let i = 1; i < nx - 1; i++, index++) {
        const label = data[index];
        if (label === LABEL.brainstem) {
          byRegion.get('brainstem')!.push(index);
          continue;
        }
        const cerebral = isCerebralCortex(label);
        if (!cerebral && tissueOf(label) !== 'cerebellarCortex') continue;
        if (
          !touches(data, index, stride, neighbour =>
            cerebral ? isCerebralWhiteMatter(neighbour) : isCerebellarWhiteMatter(neighbour)
          )
        )
          continue;
        byRegion
          .get(cerebral ? cerebralRegion(anatomy, voxelToWorld(anatomy, i, j, k)) : 'cerebellum')!
          .push(index);
      }
    }
  }
  return { byRegion };
}

function isCerebellarWhiteMatter(label: number): boolean {
  return label === 7 || label === 46;
}

function touches(
  data: Uint16Array,
  index: number,
  stride: number[],
  test: (label: number) => boolean
): boolean {
  for (const step of stride) if (test(data[index + step]) || test(data[index - step])) return true;
  return false;
}

/** Lobe from the position within the brain's bounding box (RAS: y anterior, z superior). */
export function cerebralRegion(
  { brainMin, brainMax }: Pick<Anatomy, 'brainMin' | 'brainMax'>,
  world: Vec3
): Region {
  const anterior = (world[1] - brainMin[1]) / (brainMax[1] - brainMin[1]);
  const superior = (world[2] - brainMin[2]) / (brainMax[2] - brainMin[2]);
  if (anterior > 0.58) return 'frontal';
  if (anterior < 0.2) return 'occipital';
  if (superior < 0.5) return 'temporal';
  return 'parietal';
}

function drawTuber(
  anatomy: Anatomy,
  sites: Sites,
  ventricles: Ventricles,
  random: Random,
  options: TuberOptions
): Tuber | undefined {
  const available = REGIONS.filter(region => sites.byRegion.get(region)!.length > 0);
  if (available.length === 0) return undefined;
  const region = available[random.weightedIndex(available.map(name => REGION_WEIGHTS[name]))];
  const candidates = sites.byRegion.get(region)!;
  const centre = indexToVoxel(anatomy, candidates[random.integer(0, candidates.length - 1)]);
  const subtle = random.chance(options.subtleShare);
  const diameterMm = subtle
    ? random.uniform(2, 5)
    : clamp(random.logNormal(Math.log(12), 0.45), 5, 30);
  const cerebral = region !== 'cerebellum' && region !== 'brainstem' && ventricles.all.length > 0;
  const wedgeMm = cerebral && !subtle ? diameterMm * random.uniform(0.6, 2.2) : 0;
  const bandMm = wedgeMm > 0 && random.chance(0.5) ? random.uniform(5, 25) : 0;
  return {
    region,
    centre,
    diameterMm,
    wedgeMm,
    bandMm,
    cystic: !subtle && random.chance(options.cystShare),
  };
}

interface Ventricles {
  /** Lateral ventricle voxel indices. */
  all: number[];
  /** Lateral ventricle voxels touching parenchyma: where subependymal nodules sit. */
  walls: number[];
}

function ventricleVoxels(anatomy: Anatomy): Ventricles {
  const {
    dims: [nx, ny],
    data,
  } = anatomy.labels;
  const stride = [1, nx, nx * ny];
  const all: number[] = [];
  const walls: number[] = [];
  for (let index = nx * ny; index < data.length - nx * ny; index++) {
    if (!isLateralVentricle(data[index])) continue;
    all.push(index);
    if (touches(data, index, stride, isParenchyma)) walls.push(index);
  }
  return { all, walls };
}

/** Unit vector (world space) from a centre toward the nearest lateral ventricle voxel. */
function nearestVentricleDirection(
  anatomy: Anatomy,
  centre: Vec3,
  ventricles: Ventricles
): Vec3 | undefined {
  let best: Vec3 | undefined;
  let bestDistance = Infinity;
  for (let n = 0; n < ventricles.all.length; n += 3) {
    const voxel = indexToVoxel(anatomy, ventricles.all[n]);
    const offset = toWorldOffset(anatomy, [
      voxel[0] - centre[0],
      voxel[1] - centre[1],
      voxel[2] - centre[2],
    ]);
    const distance = Math.hypot(...offset);
    if (distance < bestDistance && distance > 0) {
      bestDistance = distance;
      best = offset.map(component => component / distance) as Vec3;
    }
  }
  return best;
}

/**
 * Paints one tuber as a soft field: a broadened-gyrus ellipsoid centred on the junction, a cone narrowing
 * through white matter toward the ventricle, and optionally a thin radial band beyond it. The boundary is
 * blurred and made irregular; only parenchyma is painted.
 */
function paintTuber(
  anatomy: Anatomy,
  fields: LesionFields,
  tuber: Tuber,
  toVentricle: Vec3 | undefined,
  random: Random
) {
  const radius = tuber.diameterMm / 2;
  const direction = toVentricle ?? randomUnitVector(random);
  const margin = random.uniform(0.8, 2.2);
  const irregularity = randomWaves(random, radius);
  const coneRadius = radius * random.uniform(0.45, 0.7);
  const bandRadius = random.uniform(0.6, 1.1);
  const reach = radius + margin + irregularity.amplitude;
  const length = tuber.wedgeMm + tuber.bandMm;
  forEachVoxelNear(
    anatomy,
    tuber.centre,
    reach,
    (index, offset) => {
      const label = anatomy.labels.data[index];
      if (!isParenchyma(label)) return;
      const along = dot(offset, direction);
      const across = Math.hypot(
        offset[0] - along * direction[0],
        offset[1] - along * direction[1],
        offset[2] - along * direction[2]
      );
      const ellipsoid = Math.hypot(along / (radius * 0.75), across / radius);
      let distance = (ellipsoid - 1) * radius * 0.75;
      if (isCerebralWhiteMatter(label) && along > 0) {
        if (along <= tuber.wedgeMm)
          distance = Math.min(distance, across - coneRadius * (1 - along / tuber.wedgeMm) - 0.4);
        else if (along <= tuber.wedgeMm + tuber.bandMm)
          distance = Math.min(distance, across - bandRadius);
      }
      distance += irregularity.at(offset);
      const membership = 1 - smoothstep(-margin, margin, distance);
      fields.tuber[index] = Math.max(fields.tuber[index], Math.round(255 * membership));
      if (tuber.cystic) {
        const core = 1 - smoothstep(-0.7, 0.7, Math.hypot(...offset) - radius * 0.35);
        fields.cyst[index] = Math.max(fields.cyst[index], Math.round(255 * core * membership));
      }
    },
    direction,
    length
  );
}

/** Small nodules on the lateral ventricle walls, bulging into the ventricle; they are not tubers. */
function paintNodules(anatomy: Anatomy, fields: LesionFields, walls: number[], random: Random) {
  if (walls.length === 0) return;
  const count = random.integer(1, 6);
  for (let n = 0; n < count; n++) {
    const centre = indexToVoxel(anatomy, walls[random.integer(0, walls.length - 1)]);
    const radius = random.uniform(1, 3);
    forEachVoxelNear(anatomy, centre, radius + 1, (index, offset) => {
      const label = anatomy.labels.data[index];
      if (!isLateralVentricle(label) && !isParenchyma(label)) return;
      const membership = 1 - smoothstep(-0.5, 0.5, Math.hypot(...offset) - radius);
      fields.nodule[index] = Math.max(fields.nodule[index], Math.round(255 * membership));
    });
  }
}

/**
 * Calls back for each voxel whose centre lies within `radiusMm` of the segment from `centre` along
 * `direction` (unit, world space) for `lengthMm`, with its world-space offset from `centre`. The offset
 * array is reused between calls.
 */
function forEachVoxelNear(
  anatomy: Anatomy,
  centre: Vec3,
  radiusMm: number,
  visit: (index: number, offset: Vec3) => void,
  direction: Vec3 = [0, 0, 1],
  lengthMm = 0
) {
  const { dims, data } = anatomy.labels;
  const [a, b, c] = anatomy.axes;
  const end = toVoxelOffset(anatomy, direction.map(component => component * lengthMm) as Vec3);
  const halfWidths = anatomy.axes.map(axis => Math.ceil(radiusMm / Math.hypot(...axis)));
  const low = centre.map((value, axis) =>
    Math.max(0, Math.floor(Math.min(value, value + end[axis]) - halfWidths[axis]))
  );
  const high = centre.map((value, axis) =>
    Math.min(dims[axis] - 1, Math.ceil(Math.max(value, value + end[axis]) + halfWidths[axis]))
  );
  const offset: Vec3 = [0, 0, 0];
  const radiusSquared = radiusMm * radiusMm;
  for (let k = low[2]; k <= high[2]; k++) {
    for (let j = low[1]; j <= high[1]; j++) {
      let index = low[0] + dims[0] * (j + dims[1] * k);
      for (let i = low[0]; i <= high[0]; i++, index++) {
        if (data[index] === 0) continue;
        const di = i - centre[0];
        const dj = j - centre[1];
        const dk = k - centre[2];
        offset[0] = a[0] * di + b[0] * dj + c[0] * dk;
        offset[1] = a[1] * di + b[1] * dj + c[1] * dk;
        offset[2] = a[2] * di + b[2] * dj + c[2] * dk;
        const along = Math.min(lengthMm, Math.max(0, dot(offset, direction)));
        const x = offset[0] - along * direction[0];
        const y = offset[1] - along * direction[1];
        const z = offset[2] - along * direction[2];
        if (x * x + y * y + z * z <= radiusSquared) visit(index, offset);
      }
    }
  }
}

/** A sum of three random plane waves: an irregular, blob-specific boundary. */
function randomWaves(random: Random, radius: number) {
  const amplitude = radius * random.uniform(0.08, 0.2);
  const waves = [0, 1, 2].map(() => ({
    direction: randomUnitVector(random),
    frequency: random.uniform(0.8, 2.5) / Math.max(radius, 1),
    phase: random.uniform(0, 2 * Math.PI),
  }));
  return {
    amplitude,
    at: (offset: Vec3) =>
      (amplitude / 3) *
      waves.reduce(
        (sum, wave) =>
          sum + Math.sin(wave.frequency * dot(offset, wave.direction) * 2 * Math.PI + wave.phase),
        0
      ),
  };
}

function randomUnitVector(random: Random): Vec3 {
  const vector: Vec3 = [random.gaussian(), random.gaussian(), random.gaussian()];
  const length = Math.hypot(...vector) || 1;
  return vector.map(component => component / length) as Vec3;
}

function indexToVoxel({ labels: { dims } }: Anatomy, index: number): Vec3 {
  const i = index % dims[0];
  const j = Math.floor(index / dims[0]) % dims[1];
  return [i, j, Math.floor(index / (dims[0] * dims[1]))];
}

function toWorldOffset({ axes }: Anatomy, voxelOffset: Vec3): Vec3 {
  const [a, b, c] = axes;
  const [di, dj, dk] = voxelOffset;
  return [
    a[0] * di + b[0] * dj + c[0] * dk,
    a[1] * di + b[1] * dj + c[1] * dk,
    a[2] * di + b[2] * dj + c[2] * dk,
  ];
}

/** World offset (mm) → voxel offset, for the axis-aligned case up to flips and permutations. */
function toVoxelOffset({ axes }: Anatomy, world: Vec3): Vec3 {
  return axes.map(axis => dot(axis, world) / dot(axis, axis)) as Vec3;
}

function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = clamp((x - edge0) / (edge1 - edge0), 0, 1);
  return t * t * (3 - 2 * t);
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
