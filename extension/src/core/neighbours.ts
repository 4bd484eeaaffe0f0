/**
 * 2.5D model input: a slice with the slices of its series around it as channels, in one order from the
 * bottom of the head to its top, whatever the order the series was stored or shown in. Framework-free:
 * training, the CLI and the viewer stack slices alike.
 */

/**
 * A slice's height along its series' slice normal (mm), oriented towards the top of the head, so that
 * sorting by it orders any axial series from inferior to superior.
 */
export function superiorLevel(
  imagePositionPatient: ArrayLike<number>,
  imageOrientationPatient: ArrayLike<number>
): number {
  const [rx, ry, rz, cx, cy, cz] = Array.from(imageOrientationPatient, Number);
  const normal = [ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx];
  const height = normal.reduce((sum, n, axis) => sum + n * Number(imagePositionPatient[axis]), 0);
  // LPS: +z is superior.
  return normal[2] < 0 ? -height : height;
}

/**
 * For each slice, given every slice's superiorLevel, the slices of its input from inferior to
 * superior: `neighbours` on either side, the series' lowest or highest slice repeated beyond its ends.
 */
export function neighbourStacks(levels: number[], neighbours: number): number[][] {
  const order = levels.map((_, index) => index).sort((a, b) => levels[a] - levels[b] || a - b);
  const rank = new Array<number>(levels.length);
  order.forEach((index, position) => (rank[index] = position));
  const last = order.length - 1;
  return levels.map((_, index) =>
    Array.from(
      { length: 2 * neighbours + 1 },
      (_, k) => order[Math.min(last, Math.max(0, rank[index] - neighbours + k))]
    )
  );
}

/**
 * One model input from per-slice inputs (see neighbourStacks): the slices as channels, pixel by pixel
 * (height × width × channels).
 */
export function interleaveChannels<T extends Float32Array | Uint8Array>(slices: T[]): T {
  if (slices.length === 1) return slices[0];
  const channels = slices.length;
  const out = new (slices[0].constructor as new (length: number) => T)(slices[0].length * channels);
  slices.forEach((slice, channel) => {
    for (let pixel = 0; pixel < slice.length; pixel++)
      out[pixel * channels + channel] = slice[pixel];
  });
  return out;
}
