import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initialiseNodeBackend } from '../../../models/pipeline/tfBackend';
import {
  registerWasmTrainingKernels,
  WASM_KERNEL_OVERRIDES,
  WASM_TRAINING_KERNELS,
} from '../../../extension/src/core/engine/wasmTraining';

type Shape4 = [number, number, number, number];
type Padding = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

const TOLERANCE = 1e-4;

/** Values in [-1, 1) from a linear congruential generator, identical on every backend. */
function seeded(size: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32) * 2 - 1;
  });
}

function seededTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(
    seeded(
      shape.reduce((size, dim) => size * dim, 1),
      seed
    ),
    shape
  );
}

/** max |a − b| / max |b|. */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  let difference = 0;
  let scale = 0;
  expected.forEach((value, index) => {
    difference = Math.max(difference, Math.abs(actual[index] - value));
    scale = Math.max(scale, Math.abs(value));
  });
  return difference / Math.max(scale, 1e-12);
}

async function valuesOn(backend: string, compute: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outputs = tf.tidy(compute);
  const values = outputs.map(output => Float32Array.from(output.dataSync()));
  tf.dispose(outputs);
  return values;
}

/** Largest relative error of wasm against cpu over the outputs of `compute`. */
async function wasmVersusCpu(compute: () => tf.Tensor[]): Promise<number> {
  const cpu = await valuesOn('cpu', compute);
  const wasm = await valuesOn('wasm', compute);
  expect(wasm.map(values => values.length)).toEqual(cpu.map(values => values.length));
  return Math.max(...wasm.map((values, index) => relativeError(values, cpu[index])));
}

interface ConvCase {
  name: string;
  xShape: Shape4;
  filterShape: Shape4;
  strides: number | [number, number];
  pad: Padding;
  rounding?: 'ceil';
}

function conv(
  name: string,
  xShape: Shape4,
  filterShape: Shape4,
  strides: number | [number, number],
  pad: Padding,
  rounding?: 'ceil'
): ConvCase {
  return { name, xShape, filterShape, strides, pad, rounding };
}

/** Spatial output size of a convolution, as tfjs computes it. */
function outputShape(
  xShape: Shape4,
  filterShape: Shape4,
  strides: number | [number, number],
  pad: Padding,
  rounding?: 'ceil'
): Shape4 {
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, rounding);
  return info.outShape as Shape4;
}

beforeAll(async () => {
  expect(await initialiseNodeBackend('wasm')).toBe('wasm');
});

afterEach(async () => {
  await tf.setBackend('wasm');
});

describe('registerWasmTrainingKernels', () => {
  it('registers every missing gradient kernel for wasm', () => {
    for (const kernelName of WASM_TRAINING_KERNELS) {
      expect(tf.getKernel(kernelName, 'wasm')).toBeDefined();
    }
  });

  it('is harmless when called again', () => {
    const names = [...WASM_TRAINING_KERNELS, ...WASM_KERNEL_OVERRIDES];
    const before = names.map(name => tf.getKernel(name, 'wasm').kernelFunc);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    registerWasmTrainingKernels(tf);
    registerWasmTrainingKernels(tf);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    expect(names.map(name => tf.getKernel(name, 'wasm').kernelFunc)).toEqual(before);
  });

  it('keeps the setup of the wasm kernels it overrides', () => {
    for (const kernelName of WASM_KERNEL_OVERRIDES) {
      expect(tf.getKernel(kernelName, 'wasm').setupFunc).toBeInstanceOf(Function);
    }
  });
});

/** Runs `compute` on wasm and checks that it left no tensors or wasm buffers behind. */
function expectNoLeaks(compute: () => tf.Tensor[]): void {
  const tensors = tf.memory().numTensors;
  const buffers = tf.backend().numDataIds();
  tf.dispose(tf.tidy(compute));
  expect(tf.memory().numTensors).toBe(tensors);
  expect(tf.backend().numDataIds()).toBe(buffers);
}

/** How often `body` calls the wasm kernel `kernelName` (wrapped meanwhile to count). */
function callsOf(kernelName: string, body: () => void): number {
  const config = tf.getKernel(kernelName, 'wasm');
  let calls = 0;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({
    ...config,
    kernelFunc: args => {
      calls++;
      return config.kernelFunc(args);
    },
  });
  try {
    body();
  } finally {
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel(config);
  }
  return calls;
}

const FALLBACK = '(wasm fallback)';

describe('Conv2DBackpropInput on wasm', () => {
  const cases: ConvCase[] = [
    conv('3×3 stride 1 same', [2, 9, 9, 3], [3, 3, 3, 4], 1, 'same'),
    conv('3×3 stride 1 valid', [2, 9, 8, 5], [3, 3, 5, 4], 1, 'valid'),
    conv('5×5 stride 1 same, one input channel', [3, 12, 12, 1], [5, 5, 1, 16], 1, 'same'),
    conv('4×4 stride 1 same, even filter', [2, 9, 10, 3], [4, 4, 3, 6], 1, 'same'),
    conv('1×1 stride 1', [2, 7, 7, 8], [1, 1, 8, 5], 1, 'valid'),
    conv('5×3 stride 1 numeric pad 1', [2, 10, 9, 4], [5, 3, 4, 3], 1, 1),
    conv('3×3 stride 1 explicit symmetric', [2, 8, 8, 4], [3, 3, 4, 5], 1, [
      [0, 0],
      [2, 2],
      [1, 1],
      [0, 0],
    ]),
    conv('3×3 stride 1 explicit asymmetric', [2, 8, 9, 4], [3, 3, 4, 5], 1, [
      [0, 0],
      [0, 2],
      [2, 1],
      [0, 0],
    ]),
    conv(`3×3 stride 1 pad beyond the filter ${FALLBACK}`, [2, 6, 6, 4], [3, 3, 4, 2], 1, [
      [0, 0],
      [3, 1],
      [1, 3],
      [0, 0],
    ]),
    conv('3×3 stride 2 same, odd size', [2, 9, 9, 4], [3, 3, 4, 5], 2, 'same'),
    conv('3×3 stride 2 same, even size', [2, 10, 10, 6], [3, 3, 6, 5], 2, 'same'),
    conv('3×3 stride 2 valid', [2, 10, 9, 4], [3, 3, 4, 4], 2, 'valid'),
    conv('5×3 strides [1, 2] same', [1, 11, 12, 4], [5, 3, 4, 3], [1, 2], 'same'),
    conv('5×3 strides [2, 1] valid', [2, 11, 12, 5], [5, 3, 5, 3], [2, 1], 'valid'),
    conv('4×4 stride 3 valid, unused border', [2, 12, 13, 4], [4, 4, 4, 3], 3, 'valid'),
    conv('2×2 stride 2 valid', [2, 8, 9, 4], [2, 2, 4, 3], 2, 'valid'),
    conv('1×1 stride 2 valid', [2, 8, 8, 4], [1, 1, 4, 6], 2, 'valid'),
    conv('3×3 stride 2 explicit asymmetric', [2, 8, 9, 4], [3, 3, 4, 3], 2, [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ]),
    conv('numeric pad 1 with ceil rounding', [2, 8, 8, 4], [3, 3, 4, 3], 2, 1, 'ceil'),
    conv(`3×3 stride 2, few channels ${FALLBACK}`, [2, 9, 9, 2], [3, 3, 2, 5], 2, 'same'),
    conv('wider layer', [2, 12, 12, 16], [3, 3, 16, 24], 1, 'same'),
    conv('wider layer, stride 2', [2, 12, 12, 16], [3, 3, 16, 24], 2, 'same'),
  ];

  const backpropInput = ({ xShape, filterShape, strides, pad, rounding }: ConvCase) => {
    const dyShape = outputShape(xShape, filterShape, strides, pad, rounding);
    return tf.engine().runKernel(
      'Conv2DBackpropInput',
      { dy: seededTensor(dyShape, 20), filter: seededTensor(filterShape, 21) },
      {
        strides,
        pad,
        dataFormat: 'NHWC',
        inputShape: xShape,
        ...(rounding && { dimRoundingMode: rounding }),
      }
    ) as tf.Tensor;
  };

  it.each(cases)('$name matches cpu', async convCase => {
    const error = await wasmVersusCpu(() => {
      const dx = backpropInput(convCase);
      expect(dx.shape).toEqual(convCase.xShape);
      return [dx];
    });
    expect(error).toBeLessThan(TOLERANCE);
  });

  it('leaves no tensors or wasm buffers behind', () => {
    for (const convCase of cases) expectNoLeaks(() => [backpropInput(convCase)]);
  });

  it('runs as a convolution of the flipped filter except where wasm has to', () => {
    for (const convCase of cases) {
      const flips = callsOf('Reverse', () => tf.dispose(backpropInput(convCase)));
      expect([convCase.name, flips]).toEqual([
        convCase.name,
        convCase.name.endsWith(FALLBACK) ? 0 : 1,
      ]);
    }
  });

  it('accepts NCHW inputs', async () => {
    const error = await wasmVersusCpu(() => {
      const dy = seededTensor([2, 4, 4, 5], 22);
      const filter = seededTensor([3, 3, 4, 5], 23);
      const attrs = { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 7, 7, 4] };
      const nchw = { ...attrs, dataFormat: 'NCHW', inputShape: [2, 4, 7, 7] };
      const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs) as tf.Tensor;
      const dxNchw = tf
        .engine()
        .runKernel(
          'Conv2DBackpropInput',
          { dy: tf.transpose(dy, [0, 3, 1, 2]), filter },
          nchw
        ) as tf.Tensor;
      return [dx, tf.transpose(dxNchw, [0, 2, 3, 1])];
    });
    expect(error).toBeLessThan(TOLERANCE);
  });

  it('gives conv2d input gradients and transposed convolutions', async () => {
    const error = await wasmVersusCpu(() => {
      const x = seededTensor([2, 12, 12, 4], 24) as tf.Tensor4D;
      const filter = seededTensor([3, 3, 4, 6], 25) as tf.Tensor4D;
      const loss = (a: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, filter, 1, 'same')));
      const transposed = tf.conv2dTranspose(
        seededTensor([2, 6, 6, 6], 26) as tf.Tensor4D,
        filter,
        [2, 12, 12, 4],
        2,
        'same'
      );
      return [tf.grad(loss)(x), transposed];
    });
    expect(error).toBeLessThan(TOLERANCE);
  });
});

describe('Tile on wasm', () => {
  interface TileCase {
    name: string;
    shape: number[];
    reps: number[];
  }
  const cases: TileCase[] = [
    { name: 'batch-norm scale [1, 1, 1, C]', shape: [1, 1, 1, 16], reps: [4, 8, 8, 1] },
    { name: 'vector', shape: [5], reps: [7] },
    { name: 'repeat of whole rows', shape: [3, 4], reps: [2, 1] },
    { name: 'repeat within rows', shape: [3, 4], reps: [1, 3] },
    { name: 'every axis', shape: [2, 3], reps: [2, 2] },
    { name: 'size-1 middle axis', shape: [2, 1, 3], reps: [1, 4, 1] },
    { name: 'no repeats', shape: [2, 3, 4], reps: [1, 1, 1] },
    { name: 'scalar-like', shape: [1, 1], reps: [3, 5] },
    { name: `rank 4 ${FALLBACK}`, shape: [2, 3, 2, 3], reps: [2, 2, 2, 2] },
  ];

  it.each(cases)('$name matches cpu', async ({ shape, reps }) => {
    const error = await wasmVersusCpu(() => [tf.tile(seededTensor(shape, 27), reps)]);
    expect(error).toBeLessThan(TOLERANCE);
  });

  it('broadcasts except where wasm has to tile', () => {
    for (const { name, shape, reps } of cases) {
      const fills = callsOf('Fill', () => tf.dispose(tf.tile(seededTensor(shape, 27), reps)));
      expect([name, fills]).toEqual([name, name.endsWith(FALLBACK) ? 0 : 1]);
    }
  });

  it('keeps int32 data int32', () => {
    const tiled = tf.tile(tf.tensor2d([1, 2, 3], [1, 3], 'int32'), [2, 1]);
    expect(tiled.dtype).toBe('int32');
    expect(tiled.arraySync()).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    tiled.dispose();
  });

  it('leaves no tensors or wasm buffers behind', () => {
    for (const { shape, reps } of cases) {
      expectNoLeaks(() => [tf.tile(seededTensor(shape, 28), reps)]);
    }
  });

  it('gives tile gradients', async () => {
    const error = await wasmVersusCpu(() => {
      const loss = (x: tf.Tensor) => tf.sum(tf.sin(tf.mul(tf.tile(x, [3, 2]), 2)));
      return [tf.grad(loss)(seededTensor([4, 5], 29))];
    });
    expect(error).toBeLessThan(TOLERANCE);
  });
});

describe('Conv2DBackpropFilter on wasm', () => {
  // Objects, not rows: jest reads a test function parameter beyond a row's length as `done`.
  const cases: ConvCase[] = [
    conv('3×3 stride 1 same', [2, 9, 9, 3], [3, 3, 3, 4], 1, 'same'),
    conv('3×3 stride 2 same, odd size', [2, 9, 9, 3], [3, 3, 3, 4], 2, 'same'),
    conv('3×3 stride 2 same, even size', [2, 10, 10, 2], [3, 3, 2, 5], 2, 'same'),
    conv('3×3 stride 2 valid', [2, 10, 9, 3], [3, 3, 3, 4], 2, 'valid'),
    conv('5×3 strides [1, 2] same', [1, 11, 12, 2], [5, 3, 2, 3], [1, 2], 'same'),
    conv('4×4 stride 3 valid, unused border', [2, 12, 13, 2], [4, 4, 2, 3], 3, 'valid'),
    conv('1×1 stride 2 valid', [2, 8, 8, 4], [1, 1, 4, 6], 2, 'valid'),
    conv('explicit asymmetric pads', [2, 8, 9, 2], [3, 3, 2, 3], 2, [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ]),
    conv('numeric pad 1', [2, 8, 8, 2], [3, 3, 2, 3], 1, 1),
    conv('numeric pad 1 with ceil rounding', [2, 8, 8, 2], [3, 3, 2, 3], 2, 1, 'ceil'),
    conv('one input channel, 16 filters', [4, 24, 24, 1], [3, 3, 1, 16], 1, 'same'),
    conv('wider layer', [2, 12, 12, 16], [3, 3, 16, 24], 1, 'same'),
  ];

  it.each(cases)('$name matches cpu', async ({ xShape, filterShape, strides, pad, rounding }) => {
    const dyShape = outputShape(xShape, filterShape, strides, pad, rounding);
    const error = await wasmVersusCpu(() => [
      tf.engine().runKernel(
        'Conv2DBackpropFilter',
        { x: seededTensor(xShape, 1), dy: seededTensor(dyShape, 2) },
        {
          strides,
          pad,
          dataFormat: 'NHWC',
          filterShape,
          ...(rounding && { dimRoundingMode: rounding }),
        }
      ) as tf.Tensor,
    ]);
    expect(error).toBeLessThan(TOLERANCE);
  });

  it('accepts NCHW inputs', async () => {
    const error = await wasmVersusCpu(() => {
      const [x, dy] = [seededTensor([2, 7, 7, 3], 3), seededTensor([2, 4, 4, 5], 4)];
      const filterShape = [3, 3, 3, 5];
      const nhwc = { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape };
      const nchw = { ...nhwc, dataFormat: 'NCHW' };
      const channelsFirst = (t: tf.Tensor) => tf.transpose(t, [0, 3, 1, 2]);
      return [
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, nhwc) as tf.Tensor,
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x: channelsFirst(x), dy: channelsFirst(dy) },
            nchw
          ) as tf.Tensor,
      ];
    });
    expect(error).toBeLessThan(TOLERANCE);
  });

  it('gives conv2d filter gradients through tf.grads', async () => {
    const error = await wasmVersusCpu(() => {
      const x = seededTensor([2, 12, 12, 3], 5) as tf.Tensor4D;
      const filter = seededTensor([3, 3, 3, 4], 6) as tf.Tensor4D;
      const loss = (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')));
      return tf.grads(loss)([x, filter]);
    });
    expect(error).toBeLessThan(TOLERANCE);
  });
});

describe('depthwise convolution gradients on wasm', () => {
  const cases: ConvCase[] = [
    conv('multiplier 1, stride 1 same', [2, 9, 9, 3], [3, 3, 3, 1], 1, 'same'),
    conv('multiplier 2, stride 2 same', [2, 10, 9, 3], [3, 3, 3, 2], 2, 'same'),
    conv('multiplier 3, strides [2, 1] valid', [1, 11, 11, 2], [5, 3, 2, 3], [2, 1], 'valid'),
  ];

  it.each(cases)('$name matches cpu', async ({ xShape, filterShape, strides, pad }) => {
    const error = await wasmVersusCpu(() => {
      const x = seededTensor(xShape, 7) as tf.Tensor4D;
      const filter = seededTensor(filterShape, 8) as tf.Tensor4D;
      const loss = (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.sin(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad)));
      return tf.grads(loss)([x, filter]);
    });
    expect(error).toBeLessThan(TOLERANCE);
  });

  it('trains separable convolutions', async () => {
    const error = await wasmVersusCpu(() => {
      const x = seededTensor([2, 8, 8, 2], 9) as tf.Tensor4D;
      const depthwise = seededTensor([3, 3, 2, 2], 10) as tf.Tensor4D;
      const pointwise = seededTensor([1, 1, 4, 3], 11) as tf.Tensor4D;
      const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(
          tf.square(
            tf.separableConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, 1, 'same')
          )
        );
      return tf.grads(loss)([x, depthwise, pointwise]);
    });
    expect(error).toBeLessThan(TOLERANCE);
  });
});

describe('UnsortedSegmentSum on wasm', () => {
  it('sums rows, skipping ids outside the segments, like cpu', async () => {
    const error = await wasmVersusCpu(() => {
      const ids = tf.tensor1d([0, 2, 2, -1, 5, 3], 'int32');
      return [tf.unsortedSegmentSum(seededTensor([6, 2, 3], 12), ids, 4)];
    });
    expect(error).toBeLessThan(TOLERANCE);
  });

  it('accepts segment ids of several dimensions', () => {
    const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    const segmentIds = tf.tensor2d([1, 0, 1, 1], [2, 2], 'int32');
    const sums = tf
      .engine()
      .runKernel('UnsortedSegmentSum', { x, segmentIds }, { numSegments: 2 }) as tf.Tensor;
    expect(sums.arraySync()).toEqual([
      [3, 4],
      [13, 16],
    ]);
    sums.dispose();
  });

  it('keeps int32 data int32', () => {
    const sums = tf.unsortedSegmentSum(
      tf.tensor1d([1, 2, 3, 4], 'int32'),
      tf.tensor1d([1, 0, 1, 1], 'int32'),
      2
    );
    expect(sums.dtype).toBe('int32');
    expect(Array.from(sums.dataSync())).toEqual([2, 8]);
    sums.dispose();
  });

  it('gives gather gradients', async () => {
    const error = await wasmVersusCpu(() => {
      const loss = (params: tf.Tensor) => tf.sum(tf.square(tf.gather(params, [3, 0, 3, 1], 0)));
      return [tf.grad(loss)(seededTensor([5, 4], 14))];
    });
    expect(error).toBeLessThan(TOLERANCE);
  });
});

describe('gradient kernels wasm already has', () => {
  it('pooling, transposed convolution and batch norm gradients match cpu', async () => {
    const error = await wasmVersusCpu(() => {
      const x = seededTensor([2, 9, 9, 3], 15) as tf.Tensor4D;
      const filter = seededTensor([3, 3, 3, 4], 16) as tf.Tensor4D;
      const scale = seededTensor([4], 17);
      const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
        const conv = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same');
        const { mean, variance } = tf.moments(conv, [0, 1, 2]);
        const normalised = tf.batchNorm(
          conv,
          mean,
          variance,
          tf.zerosLike(c),
          c,
          1e-3
        ) as tf.Tensor4D;
        const pooled = tf.add(
          tf.maxPool(normalised, 2, 2, 'same'),
          tf.avgPool(normalised, 3, 2, 'same')
        );
        return tf.sum(tf.mul(tf.relu(pooled), tf.cos(pooled)));
      };
      return tf.grads(loss)([x, filter, scale]);
    });
    expect(error).toBeLessThan(TOLERANCE);
  });
});

/** Conv-bn-relu-pool CNN with one logit; the seed makes dropout's mask the same on both backends. */
function smallCnn(): tfl.Sequential {
  const model = tfl.sequential();
  model.add(
    tfl.layers.conv2d({
      inputShape: [20, 20, 1],
      filters: 6,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
    })
  );
  model.add(tfl.layers.batchNormalization());
  model.add(tfl.layers.reLU());
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, activation: 'relu' }));
  model.add(tfl.layers.averagePooling2d({ poolSize: 2, padding: 'same' }));
  model.add(tfl.layers.dropout({ rate: 0.25, seed: 3 }));
  model.add(
    tfl.layers.conv2d({
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name: 'last_conv',
    })
  );
  model.add(tfl.layers.globalAveragePooling2d({}));
  model.add(tfl.layers.dense({ units: 1 }));
  return model;
}

const IMAGES: Shape4 = [4, 20, 20, 1];
const LABELS = [[1], [0], [0], [1]];

/** The same CNN and trainable weights on whichever backend is current. */
function seededCnn(): tfl.Sequential {
  const model = smallCnn();
  model.trainableWeights.forEach((weight, index) => {
    tf.tidy(() => {
      weight.write(tf.mul(seededTensor(weight.shape as number[], 100 + index), 0.5));
    });
  });
  return model;
}

function cnnLoss(model: tfl.Sequential): tf.Scalar {
  const logits = model.apply(seededTensor(IMAGES, 18), { training: true }) as tf.Tensor;
  return tf.losses.sigmoidCrossEntropy(tf.tensor2d(LABELS), logits) as tf.Scalar;
}

async function cnnGradientsOn(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const model = seededCnn();
  const weights = model.trainableWeights.map(weight => weight.read() as tf.Variable);
  const values = await valuesOn(backend, () => {
    const { value, grads } = tf.variableGrads(() => cnnLoss(model), weights);
    return [value, ...weights.map(weight => grads[weight.name])];
  });
  model.dispose();
  return values;
}

describe('training a small CNN on wasm', () => {
  it('gives the variable gradients of cpu', async () => {
    const cpu = await cnnGradientsOn('cpu');
    const wasm = await cnnGradientsOn('wasm');
    expect(wasm).toHaveLength(cpu.length);
    const errors = wasm.map((values, index) => relativeError(values, cpu[index]));
    expect(Math.max(...errors)).toBeLessThan(TOLERANCE);
  });

  it('gives input saliency like cpu', async () => {
    const saliencyOn = async (backend: string) => {
      await tf.setBackend(backend);
      const model = seededCnn();
      const [saliency] = await valuesOn(backend, () => {
        const score = (image: tf.Tensor) => tf.sum(model.apply(image) as tf.Tensor);
        return [tf.grad(score)(seededTensor([1, 20, 20, 1], 19))];
      });
      model.dispose();
      return saliency;
    };
    const wasm = await saliencyOn('wasm');
    expect(wasm.some(value => value !== 0)).toBe(true);
    expect(relativeError(wasm, await saliencyOn('cpu'))).toBeLessThan(TOLERANCE);
  });

  it('leaves no tensors or wasm buffers behind after tidied training steps', () => {
    const model = seededCnn();
    const optimizer = tf.train.adam(1e-3);
    const step = () =>
      tf.tidy(() => {
        optimizer.minimize(() => cnnLoss(model));
      });
    step(); // Adam creates its moment variables on the first step.
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(buffers);
    optimizer.dispose();
    model.dispose();
  });
});
