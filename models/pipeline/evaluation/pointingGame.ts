/**
 * The pointing game (Zhang et al. 2018): a heat map "hits" when its peak lies inside the object, here a
 * tuber mask dilated by a margin, measured on the model grid.
 */
export function pointingHit(
  map: ArrayLike<number>,
  mask: ArrayLike<number>,
  size: number,
  marginPixels: number
): boolean {
  let peak = 0;
  for (let n = 1; n < map.length; n++) if (map[n] > map[peak]) peak = n;
  const [peakRow, peakColumn] = [Math.floor(peak / size), peak % size];
  const reach = Math.ceil(marginPixels);
  for (let row = Math.max(0, peakRow - reach); row <= Math.min(size - 1, peakRow + reach); row++) {
    for (
      let column = Math.max(0, peakColumn - reach);
      column <= Math.min(size - 1, peakColumn + reach);
      column++
    ) {
      const inMargin = Math.hypot(row - peakRow, column - peakColumn) <= marginPixels;
      if (inMargin && mask[row * size + column] >= 0.5) return true;
    }
  }
  return false;
}
