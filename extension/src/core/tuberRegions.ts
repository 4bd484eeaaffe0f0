/**
 * A slice's Grad-CAM evidence on its own pixels, and the regions TuberLens reports as tubers: pixels
 * where the evidence reaches the flagging threshold. The heat layer draws the same values in levels
 * from HEAT_FLOOR, so a region is always part of what the layer shows. Framework-free.
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

/** 1 where the heat reaches `threshold` (and the layer's floor, below which nothing is drawn), else 0. */
export function regionMask(heat: ArrayLike<number>, threshold: number): Uint8Array {
  const floor = Math.max(threshold, HEAT_FLOOR);
  const mask = new Uint8Array(heat.length);
  for (let index = 0; index < heat.length; index++) if (heat[index] >= floor) mask[index] = 1;
  return mask;
}
