import { voxelToWorld } from '../../../models/pipeline/synthesis/anatomy';
import { addHeadShells } from '../../../models/pipeline/synthesis/headShells';
import type { Volume } from '../../../models/pipeline/synthesis/types';

/** A 10 mm radius ball of white matter at 1 mm, centred in a 24³ grid with an offset affine. */
function ball(): Volume<Uint16Array> {
  const size = 24;
  const data = new Uint16Array(size ** 3);
  for (let k = 0; k < size; k++)
    for (let j = 0; j < size; j++)
      for (let i = 0; i < size; i++)
        if (Math.hypot(i - 11.5, j - 11.5, k - 11.5) <= 10) data[i + size * (j + size * k)] = 2;
  return {
    dims: [size, size, size],
    affine: [-1, 0, 0, 40, 0, 1, 0, -20, 0, 0, 1, 5, 0, 0, 0, 1],
    data,
  };
}

test('wraps the brain in CSF, skull and scalp shells at their distances, keeping world positions', () => {
  const original = ball();
  const head = addHeadShells(original);
  const pad = (head.dims[0] - original.dims[0]) / 2;
  expect(pad).toBe(16);
  const labelAt = (distanceMm: number) => {
    // Walk along +i from the ball's centre: radius 10 mm, then the shells.
    const i = Math.round(11.5 + 10 + distanceMm) + pad;
    const j = 12 + pad;
    const k = 12 + pad;
    return head.data[i + head.dims[0] * (j + head.dims[1] * k)];
  };
  expect(labelAt(-1)).toBe(2);
  expect(labelAt(1.5)).toBe(24);
  expect(labelAt(5)).toBe(515);
  expect(labelAt(9)).toBe(511);
  expect(labelAt(11)).toBe(516);
  expect(labelAt(13)).toBe(511);
  expect(labelAt(15.5)).toBe(0);
  expect(voxelToWorld({ labels: head }, pad + 3, pad + 4, pad + 5)).toEqual(
    voxelToWorld({ labels: original }, 3, 4, 5)
  );
  expect(original.data.includes(515)).toBe(false);
});
