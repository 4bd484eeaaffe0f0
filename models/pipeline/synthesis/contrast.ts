import { TISSUES, type Tissue } from './labels';
import type { Random } from './random';
import type { Contrast } from './types';

/** Per-subject signal model of one contrast, in arbitrary units where CSF on T2 is about 1. */
export interface ContrastModel {
  contrast: Contrast;
  /** Mean and texture standard deviation per tissue, indexed like TISSUES. */
  means: Float32Array;
  sds: Float32Array;
  tuber: { mean: number; sd: number };
  /** The centre of a cyst-like tuber: fluid, bright on T2 and dark on FLAIR. */
  cyst: number;
  subependymalNodule: number;
}

type Range = [number, number];

/** Extra-cerebral and other signals: wide ranges, as domain randomisation wants. */
const OUTSIDE_BRAIN: Record<Contrast, Partial<Record<Tissue, Range>>> = {
  T2: {
    background: [0, 0],
    vessel: [0.02, 0.2],
    bone: [0.02, 0.12],
    scalp: [0.4, 0.8],
    fat: [0.55, 0.9],
    softTissue: [0.18, 0.4],
    eye: [0.8, 1.0],
    air: [0, 0.04],
    other: [0.1, 0.6],
  },
  FLAIR: {
    background: [0, 0],
    vessel: [0.02, 0.2],
    bone: [0.02, 0.12],
    scalp: [0.35, 0.7],
    fat: [0.5, 0.85],
    softTissue: [0.18, 0.4],
    eye: [0.02, 0.12],
    air: [0, 0.04],
    other: [0.1, 0.6],
  },
};

/**
 * Draws a contrast with the tissue ordering real scans keep. Adult T2: CSF > tuber > cortex > white
 * matter; adult FLAIR: tuber > cortex > white matter > CSF. In an unmyelinated (infant) brain white
 * matter is brighter than cortex and tubers are darker than the white matter around them.
 */
export function sampleContrast(contrast: Contrast, random: Random, infant = false): ContrastModel {
  const value = new Map<Tissue, number>();
  const cortex = random.uniform(0.45, 0.6);
  const whiteMatter = infant
    ? cortex + random.uniform(0.08, 0.2)
    : cortex - random.uniform(0.06, 0.14);
  const csf = contrast === 'T2' ? random.uniform(0.85, 1.0) : random.uniform(0.02, 0.12);
  value.set('cortex', cortex);
  value.set('whiteMatter', whiteMatter);
  value.set('csf', csf);
  value.set('cerebellarCortex', cortex + random.uniform(-0.03, 0.05));
  value.set('brainstem', whiteMatter + random.uniform(0, 0.05));
  value.set('deepGray', whiteMatter + random.uniform(0.3, 0.8) * (cortex - whiteMatter));
  value.set('pallidum', Math.min(cortex, whiteMatter) - random.uniform(0, 0.05));
  for (const [tissue, [low, high]] of Object.entries(OUTSIDE_BRAIN[contrast])) {
    value.set(tissue as Tissue, random.uniform(low, high));
  }

  const brightest = Math.max(cortex, whiteMatter);
  const tuber = infant
    ? whiteMatter - random.uniform(0.08, 0.18)
    : contrast === 'T2'
      ? Math.min(brightest + random.uniform(0.1, 0.22), csf - 0.08)
      : brightest + random.uniform(0.15, 0.3);
  const means = Float32Array.from(TISSUES, tissue => value.get(tissue) ?? 0);
  const sds = means.map(mean => mean * random.uniform(0.02, 0.06));
  return {
    contrast,
    means,
    sds,
    tuber: { mean: tuber, sd: tuber * random.uniform(0.04, 0.08) },
    cyst: contrast === 'T2' ? csf * random.uniform(0.9, 1.0) : random.uniform(0.05, 0.2),
    subependymalNodule:
      whiteMatter + (contrast === 'T2' ? -random.uniform(0, 0.06) : random.uniform(0, 0.1)),
  };
}
