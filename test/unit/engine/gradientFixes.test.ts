// The corrected gradient kernels, checked on both Node backends against gradients read off the
// forward kernels alone, and the saliency maps that cpu's own kernel got wrong.
import * as tf from '@tensorflow/tfjs-core';
import { initialiseNodeBackend } from '../../../models/pipeline/tfBackend';
import { saliency } from '../../../extension/src/core/explain';
import { buildModel, classifierOf } from '../../../models/pipeline/training/architectures';

type Shape4 = [number, number, number, number];

const BACKENDS = ['cpu', 'wasm'] as const;

/** Distinct values spaced at least 0.05 apart, shuffled, mostly negative: many all-negative windows. */
function distinctValues(size: number, seed: number): Float32Array {
  const values = Float32Array.from({ length: size }, (_, n) => -0.9 * size * 0.05 + n * 0.05);
  let state = seed;
  for (let n = size - 1; n > 0; n--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const other = state % (n + 1);
    [values[n], values[other]] = [values[other], values[n]];
  }
  return values;
}

/**
 * d/dx of sum(f(x) · weights), element by element, as forward differences with step `step` (summed
 * in double precision): exact for a function that is linear within `step` of x (a resize; a max
 * pool whose window maxima stay ahead), so it tests a gradient kernel with nothing but forward
 * kernels.
 */
function gradientFromForward(
  f: (x: tf.Tensor4D) => tf.Tensor,
  x: Float32Array,
  shape: Shape4,
  weights: Float32Array,
  step: number
): Float64Array {
  const forward = (values: Float32Array) => tf.tidy(() => f(tf.tensor4d(values, shape)).dataSync());
  const base = forward(x);
  return Float64Array.from(x, (value, n) => {
    const moved = Float32Array.from(x);
    moved[n] = value + step;
    const output = forward(moved);
    return weights.reduce((sum, weight, j) => sum + weight * (output[j] - base[j]), 0) / step;
  });
}

function gradientOf(
  f: (x: tf.Tensor4D) => tf.Tensor,
  x: Float32Array,
  shape: Shape4,
  weights: Float32Array
) {
  return tf.tidy(() => {
    const weighted = (input: tf.Tensor) => {
      const output = f(input as tf.Tensor4D);
      return tf.sum(tf.mul(output, tf.tensor(weights, output.shape)));
    };
    return tf.grad(weighted)(tf.tensor4d(x, shape)).dataSync();
  });
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>) {
  expect(actual.length).toBe(expected.length);
  Array.from(expected).forEach((value, n) => expect(actual[n]).toBeCloseTo(value, 3));
}

async function check(
  backend: (typeof BACKENDS)[number],
  shape: Shape4,
  f: (x: tf.Tensor4D) => tf.Tensor,
  step: number
) {
  await tf.setBackend(backend);
  const x = distinctValues(
    shape.reduce((size, dim) => size * dim),
    3
  );
  const outputSize = tf.tidy(() => f(tf.zeros(shape) as tf.Tensor4D).size);
  const weights = distinctValues(outputSize, 5);
  expectClose(gradientOf(f, x, shape, weights), gradientFromForward(f, x, shape, weights, step));
}

beforeAll(async () => {
  expect(await initialiseNodeBackend('wasm')).toBe('wasm');
});

afterAll(async () => {
  await tf.setBackend('wasm');
});

describe.each(BACKENDS)('on %s', backend => {
  describe('the gradient of nearest-neighbour resizing', () => {
    test.each([
      { name: '2× up, a batch of 3', shape: [3, 3, 3, 2] as Shape4, size: [6, 6], corners: false },
      {
        name: 'uneven, corners aligned',
        shape: [2, 4, 5, 1] as Shape4,
        size: [7, 3],
        corners: true,
      },
      { name: 'down, a batch of 2', shape: [2, 6, 4, 3] as Shape4, size: [4, 3], corners: false },
    ])('$name matches the forward kernel', async ({ shape, size, corners }) => {
      await check(
        backend,
        shape,
        x => tf.image.resizeNearestNeighbor(x, size as [number, number], corners),
        1
      );
    });
  });

  describe('the gradient of max pooling', () => {
    test.each([
      {
        name: '2×2, stride 2, a batch of 2',
        shape: [2, 4, 4, 3] as Shape4,
        size: 2,
        stride: 2,
        pad: 'valid' as const,
      },
      {
        name: '3×3, stride 1, same',
        shape: [1, 5, 5, 2] as Shape4,
        size: 3,
        stride: 1,
        pad: 'same' as const,
      },
      {
        name: '3×3, stride 2, same, odd sizes',
        shape: [2, 5, 7, 2] as Shape4,
        size: 3,
        stride: 2,
        pad: 'same' as const,
      },
    ])(
      '$name matches the forward kernel, all-negative windows included',
      async ({ shape, size, stride, pad }) => {
        await check(backend, shape, x => tf.maxPool(x, size, stride, pad), 0.01);
      }
    );
  });

  test("among equal maxima the gradient goes where the backend's own kernel sends it (wasm: the last, as before the fix)", async () => {
    await tf.setBackend(backend);
    const routed = (values: number[]) =>
      Array.from(
        tf.tidy(() =>
          tf
            .grad((x: tf.Tensor) => tf.sum(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')))(
              tf.tensor4d(values, [1, 2, 2, 1])
            )
            .dataSync()
        )
      );
    const expected = {
      cpu: { flat: [1, 0, 0, 0], twoEqual: [0, 1, 0, 0] },
      wasm: { flat: [0, 0, 0, 1], twoEqual: [0, 0, 1, 0] },
    }[backend];
    expect(routed([1, 1, 1, 1])).toEqual(expected.flat);
    expect(routed([0, 2, 2, 1])).toEqual(expected.twoEqual);
  });

  test('saliency of a slice is the same alone and in a batch (the decoder upsamples)', async () => {
    await tf.setBackend(backend);
    const model = classifierOf(buildModel('lean', { size: 16, channels: 1 }, 5, 4));
    const batch = tf.tensor4d(distinctValues(2 * 16 * 16, 7), [2, 16, 16, 1]);
    const inBatch = saliency(tf, model, batch).maps;
    for (let n = 0; n < 2; n++) {
      const slice = tf.slice(batch, [n, 0, 0, 0], [1, 16, 16, 1]);
      expectClose(inBatch[n], saliency(tf, model, slice).maps[0]);
      slice.dispose();
    }
    batch.dispose();
    model.dispose();
  });
});
