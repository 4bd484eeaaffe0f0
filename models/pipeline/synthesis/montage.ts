import { encodePng } from './png';
import type { RenderedSeries } from './types';

const OUTLINE: [number, number, number] = [255, 48, 48];

export interface MontageRow {
  series: RenderedSeries;
  slices: number[];
  /** Draw the tuber mask's outline in red. */
  outline: boolean;
}

/** Evenly spaced slices through the middle of a series (the top and bottom hold little brain). */
export function middleSlices(series: RenderedSeries, count: number): number[] {
  const n = series.pixels.length;
  return Array.from({ length: Math.min(count, n) }, (_, i) =>
    Math.round((n - 1) * (0.2 + (0.65 * i) / Math.max(1, count - 1)))
  );
}

/** A grid of slices, one row per entry, each tile scaled to `tile` pixels, windowed to its series. */
export function renderMontage(rows: MontageRow[], tile: number): Uint8Array {
  const columns = Math.max(...rows.map(row => row.slices.length));
  const width = columns * tile;
  const height = rows.length * tile;
  const rgb = new Uint8Array(width * height * 3);
  rows.forEach((row, r) => {
    const white = seriesWhite(row.series);
    row.slices.forEach((slice, c) =>
      drawTile(rgb, width, r * tile, c * tile, tile, row, slice, white)
    );
  });
  return encodePng(width, height, rgb, 3);
}

function drawTile(
  rgb: Uint8Array,
  width: number,
  top: number,
  left: number,
  tile: number,
  { series, outline }: MontageRow,
  slice: number,
  white: number
) {
  const pixels = series.pixels[slice];
  const mask = series.masks[slice];
  const { rows, columns } = series;
  const scale = Math.max(rows, columns) / tile;
  for (let y = 0; y < tile; y++) {
    for (let x = 0; x < tile; x++) {
      const row = Math.floor(y * scale);
      const column = Math.floor(x * scale);
      if (row >= rows || column >= columns) continue;
      const index = row * columns + column;
      const out = ((top + y) * width + left + x) * 3;
      if (outline && isEdge(mask, rows, columns, row, column)) {
        rgb.set(OUTLINE, out);
      } else {
        rgb.fill(Math.min(255, Math.round((255 * pixels[index]) / white)), out, out + 3);
      }
    }
  }
}

function isEdge(
  mask: Uint8Array,
  rows: number,
  columns: number,
  row: number,
  column: number
): boolean {
  const index = row * columns + column;
  if (!mask[index]) return false;
  return (
    row === 0 ||
    column === 0 ||
    row === rows - 1 ||
    column === columns - 1 ||
    !mask[index - 1] ||
    !mask[index + 1] ||
    !mask[index - columns] ||
    !mask[index + columns]
  );
}

/** The 99.5th percentile of the series' pixels: the display white level. */
function seriesWhite(series: RenderedSeries): number {
  const sample: number[] = [];
  for (const pixels of series.pixels)
    for (let n = 0; n < pixels.length; n += 11) sample.push(pixels[n]);
  sample.sort((a, b) => a - b);
  return Math.max(1, sample[Math.floor(0.995 * (sample.length - 1))] ?? 1);
}
