/**
 * A slice's Grad-CAM evidence on its own pixels, and the regions TuberLens reports as tubers: on each
 * slice flagged at the threshold, the pixels where the evidence reaches half the slice's peak (the
 * half-maximum region, a usual way to cut a class activation map). The heat layer draws the same
 * values in levels from HEAT_FLOOR, and a region never goes below that floor, so it is always part of
 * what the layer shows. Framework-free.
 */
import { HEAT_FLOOR } from './heatLevels';
import { modelGridToImage, type SliceGeometry } from './preprocessing';

/** A model-grid map weighted by its slice's probability, and where the slice's pixels lie. */
export interface SliceHeat {
  map: Float32Array;
  geometry: SliceGeometry;
}

/**
 * Each map is normalised to its own maximum, so a slice the model finds clean would glow as brightly
 * as one with tubers; weighting by the slice's probability keeps the heat where the model sees tubers.
 */
export function sliceHeat(
  map: Float32Array,
  probability: number,
  { rows, columns, pixelSpacing, imageOrientationPatient }: SliceGeometry
): SliceHeat {
  return {
    map: map.map(value => value * probability),
    geometry: { rows, columns, pixelSpacing, imageOrientationPatient },
  };
}

/** The heat on the slice's stored pixel grid, rows × columns. */
export function heatOnImage({ map, geometry }: SliceHeat): Float32Array {
  return modelGridToImage(map, geometry);
}

/** Share of a flagged slice's peak heat that its tuber region keeps. */
const REGION_SHARE_OF_PEAK = 0.5;

/** How the regions are cut, in plain ASCII (DICOM text and the panel alike), e.g. "Grad-CAM half max, p >= 0.94". */
export function regionCriterion(threshold: number): string {
  return `Grad-CAM half max, p >= ${threshold.toFixed(2)}`;
}

/**
 * 1 where a slice whose probability reaches `threshold` has heat of at least half its peak (and the
 * layer's floor, below which nothing is drawn), else 0; all 0 on a slice under the threshold. Cutting
 * at the threshold itself would leave a slice scored just above it a region of a pixel or none.
 */
export function regionMask(
  heat: ArrayLike<number>,
  probability: number,
  threshold: number
): Uint8Array {
  const mask = new Uint8Array(heat.length);
  if (!(probability >= threshold)) return mask;
  let peak = 0;
  for (let index = 0; index < heat.length; index++) peak = Math.max(peak, heat[index]);
  const floor = Math.max(REGION_SHARE_OF_PEAK * peak, HEAT_FLOOR);
  for (let index = 0; index < heat.length; index++) if (heat[index] >= floor) mask[index] = 1;
  return mask;
}
