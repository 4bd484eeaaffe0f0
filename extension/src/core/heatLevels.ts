/**
 * Grad-CAM and saliency maps as graded labels: a labelmap holds one segment per pixel, so a continuous
 * 0–1 map becomes a few levels, each a segment with its own colour on a heat ramp and an opacity that
 * grows with the level. Framework-free.
 */

export type Rgba = [number, number, number, number];

export interface HeatLevel {
  /** The label value and segment index, from 1. */
  level: number;
  /** Lowest map value of the level. */
  from: number;
  color: Rgba;
}

/** Map values below this are no evidence worth drawing: they stay unlabelled (transparent). */
export const HEAT_FLOOR = 0.2;

/** Dark red to pale yellow, each level more opaque than the one below it (alpha 0–255). */
const HEAT_RAMP: readonly Rgba[] = [
  [128, 0, 38, 90],
  [227, 26, 28, 125],
  [253, 141, 60, 160],
  [254, 204, 92, 195],
  [255, 255, 178, 230],
];

export const HEAT_LEVELS: readonly HeatLevel[] = HEAT_RAMP.map((color, index) => ({
  level: index + 1,
  from: HEAT_FLOOR + (index * (1 - HEAT_FLOOR)) / HEAT_RAMP.length,
  color,
}));

/** Each value's level: 0 below the floor, else 1 … HEAT_LEVELS.length in equal steps up to 1. */
export function toHeatLevels(values: ArrayLike<number>): Uint8Array {
  const levels = new Uint8Array(values.length);
  const count = HEAT_LEVELS.length;
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    // NaN fails the comparison and stays unlabelled.
    if (!(value >= HEAT_FLOOR)) continue;
    const level = 1 + Math.floor(((value - HEAT_FLOOR) / (1 - HEAT_FLOOR)) * count);
    levels[index] = Math.min(level, count);
  }
  return levels;
}

/** A level's label in the segmentation panel, e.g. "Grad-CAM 0.52–0.68". */
export function heatLevelLabel(layerName: string, { level, from }: HeatLevel): string {
  const to = HEAT_LEVELS[level]?.from ?? 1;
  return `${layerName} ${from.toFixed(2)}–${to.toFixed(2)}`;
}
