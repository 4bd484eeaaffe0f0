// Gradient kernels that @tensorflow/tfjs-backend-wasm 4.22 lacks, composed from its own kernels so
// that conv nets can be trained (and input saliency computed) on wasm, and faster versions of two
// of its kernels that dominated training time (Conv2DBackpropInput, Tile). Framework-free: the caller
// passes its tfjs-core namespace, so Node and browser bundles register into their own registry.
import type * as tfCore from '@tensorflow/tfjs-core';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  TensorInfo,
  TileAttrs,
  UnsortedSegmentSumAttrs,
} from '@tensorflow/tfjs-core';
import { overrideKernel, type Override, type TfKernelApi } from './kernelOverride';

/** The kernels this module adds to the wasm backend (unless wasm already has them). */
export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
] as const;

/**
 * wasm kernels this module replaces by faster compositions of other wasm kernels, falling back to
 * the original for the cases the replacement does not handle.
 */
export const WASM_KERNEL_OVERRIDES = ['Conv2DBackpropInput', 'Tile'] as const;

type Shape4 = [number, number, number, number];
type RunKernel = (name: string, inputs: Record<string, TensorInfo>, attrs?: object) => TensorInfo;
type ConvInfo = tfCore.backend_util.Conv2DInfo;

const WASM = 'wasm';

export function registerWasmTrainingKernels(tf: TfKernelApi): void {
  const kernelFuncs: Record<(typeof WASM_TRAINING_KERNELS)[number], KernelFunc> = {
    Conv2DBackpropFilter: conv2dBackpropFilter(tf),
    DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter(tf),
    DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput(tf),
    UnsortedSegmentSum: unsortedSegmentSum(tf),
  };
  for (const kernelName of WASM_TRAINING_KERNELS) {
    if (tf.getKernel(kernelName, WASM) == null) {
      const config: KernelConfig = {
        kernelName,
        backendName: WASM,
        kernelFunc: kernelFuncs[kernelName],
      };
      tf.registerKernel(config);
    }
  }
  const overrides: Record<(typeof WASM_KERNEL_OVERRIDES)[number], Override> = {
    Conv2DBackpropInput: original => conv2dBackpropInput(tf, original),
    Tile: original => tile(tf, original),
  };
  for (const kernelName of WASM_KERNEL_OVERRIDES) {
    overrideKernel(tf, WASM, kernelName, overrides[kernelName]);
  }
}

/**
 * Runs `body` with a runner of wasm kernels and frees every tensor it created except the one
 * returned. Kernels are called on the backend directly, bypassing the engine, so nothing is
 * tracked or taped.
 */
function withKernels(
  tf: TfKernelApi,
  backend: KernelBackend,
  body: (run: RunKernel) => TensorInfo
): TensorInfo {
  const created: TensorInfo[] = [];
  const run: RunKernel = (name, inputs, attrs = {}) => {
    const kernel = tf.getKernel(name, WASM);
    if (kernel == null) throw new Error(`The wasm backend has no '${name}' kernel`);
    const out = kernel.kernelFunc({ inputs, attrs: attrs as NamedAttrMap, backend }) as TensorInfo;
    created.push(out);
    return out;
  };
  let result: TensorInfo | undefined;
  try {
    result = body(run);
    return result;
  } finally {
    for (const info of created) if (info !== result) backend.disposeData(info.dataId);
  }
}

function kernelFunc<Inputs, Attrs>(
  tf: TfKernelApi,
  compute: (run: RunKernel, inputs: Inputs, attrs: Attrs) => TensorInfo
): KernelFunc {
  return ({ inputs, attrs, backend }) =>
    withKernels(tf, backend as KernelBackend, run =>
      compute(run, inputs as Inputs, attrs as unknown as Attrs)
    );
}

function conv2dBackpropFilter(tf: TfKernelApi): KernelFunc {
  type Inputs = { x: TensorInfo; dy: TensorInfo };
  return kernelFunc<Inputs, Conv2DBackpropFilterAttrs>(tf, (run, { x, dy }, attrs) => {
    const xNhwc = attrs.dataFormat === 'NCHW' ? nchwToNhwc(run, x) : x;
    const dyNhwc = attrs.dataFormat === 'NCHW' ? nchwToNhwc(run, dy) : dy;
    const convInfo = tf.backend_util.computeConv2DInfo(
      xNhwc.shape as Shape4,
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode
    );
    return filterGradient(run, xNhwc, dyNhwc, convInfo);
  });
}

function nchwToNhwc(run: RunKernel, x: TensorInfo): TensorInfo {
  return run('Transpose', { x }, { perm: [0, 2, 3, 1] });
}

/**
 * dW[i, j, c, o] = Σ_b,y,x  xPadded[b, y·sh + i, x·sw + j, c] · dy[b, y, x, o] is a correlation of
 * each input channel (as an image whose channels are the batch) with dy (as a filter dilated by the
 * stride), so XNNPACK's convolution does it without an im2col copy.
 */
function filterGradient(
  run: RunKernel,
  x: TensorInfo,
  dy: TensorInfo,
  convInfo: ConvInfo
): TensorInfo {
  const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = convInfo;
  const { outHeight, outWidth, inHeight, inWidth, inChannels, outChannels } = convInfo;
  // Pad far enough that every tap of the last output position lies inside the image.
  const bottom = Math.max(
    0,
    (outHeight - 1) * strideHeight + filterHeight - inHeight - padInfo.top
  );
  const right = Math.max(0, (outWidth - 1) * strideWidth + filterWidth - inWidth - padInfo.left);
  const images = run('Transpose', { x }, { perm: [3, 1, 2, 0] });
  const dyAsFilter = run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  const correlation = run(
    'Conv2D',
    { x: images, filter: dyAsFilter },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [padInfo.top, bottom],
        [padInfo.left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [strideHeight, strideWidth],
    }
  );
  const taps = run(
    'Slice',
    { x: correlation },
    { begin: [0, 0, 0, 0], size: [inChannels, filterHeight, filterWidth, outChannels] }
  );
  return run('Transpose', { x: taps }, { perm: [1, 2, 0, 3] });
}

/**
 * dx is the stride-1 correlation of dy, dilated by the stride (zeros between its rows and columns),
 * with the filter flipped spatially and its channel axes swapped. XNNPACK's convolution computes
 * that many times faster than wasm's own direct Conv2DBackpropInput loop.
 */
function conv2dBackpropInput(tf: TfKernelApi, original: KernelFunc): KernelFunc {
  type Inputs = { dy: TensorInfo; filter: TensorInfo };
  return args => {
    const { dy, filter } = args.inputs as Inputs;
    const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
    if (attrs.dataFormat === 'NCHW' || dy.dtype !== 'float32' || filter.dtype !== 'float32') {
      return original(args);
    }
    const convInfo = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as Shape4,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode
    );
    const { strideHeight, strideWidth, padInfo } = convInfo;
    const strided = strideHeight > 1 || strideWidth > 1;
    if (strided && convInfo.inChannels < MIN_STRIDED_IN_CHANNELS) return original(args);
    const rows = transposedPadding(
      convInfo.inHeight,
      convInfo.outHeight,
      convInfo.filterHeight,
      strideHeight,
      padInfo.top
    );
    const columns = transposedPadding(
      convInfo.inWidth,
      convInfo.outWidth,
      convInfo.filterWidth,
      strideWidth,
      padInfo.left
    );
    if (rows == null || columns == null || dy.shape.length !== 4) return original(args);
    return withKernels(tf, args.backend as KernelBackend, run => {
      const flipped = run('Reverse', { x: filter }, { dims: [0, 1] });
      const swapped = run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
      const dilated = dilate(run, dy, strideHeight, strideWidth, rows.length, columns.length);
      return run(
        'Conv2D',
        { x: dilated, filter: swapped },
        {
          strides: [1, 1],
          pad: [[0, 0], rows.pad, columns.pad, [0, 0]],
          dataFormat: 'NHWC',
          dilations: [1, 1],
        }
      );
    });
  };
}

/**
 * With stride > 1, most of the dilated dy is zeros, and XNNPACK is slow at convolutions with few
 * output channels: below this many input channels (of the forward convolution) wasm's own kernel
 * was as fast or faster (e.g. 3×3, stride 2, 16 filters, 64×64: 1 channel 4 ms vs 14 ms; 4
 * channels 36 ms vs 14 ms). At stride 1 the convolution was faster in every case measured.
 */
const MIN_STRIDED_IN_CHANNELS = 4;

interface TransposedAxis {
  /** Rows (or columns) of the dilated dy that the convolution reads. */
  length: number;
  /** The convolution's padding before and after them. */
  pad: [number, number];
}

/**
 * Along one axis, dx[i] = Σ_k dyDilated[i + padBefore − k] · filter[k]: a correlation with the
 * flipped filter whose padding puts dx's first and last positions at the right offsets. The dilated
 * dy is stride·outSize long (stride − 1 zeros after every value); the zeros after the last value
 * stand in for padding where there is room, else they are cut off. Undefined where wasm's own
 * kernel has to do it (padding beyond the filter, or a dy longer than the input reaches).
 */
function transposedPadding(
  inSize: number,
  outSize: number,
  filterSize: number,
  stride: number,
  padBefore: number
): TransposedAxis | undefined {
  const before = filterSize - 1 - padBefore;
  const used = (outSize - 1) * stride + 1;
  const after = inSize + padBefore - used;
  if (before < 0 || after < 0) return undefined;
  const trailing = Math.min(stride - 1, after);
  return { length: used + trailing, pad: [before, after - trailing] };
}

/** dy with stride − 1 zeros after each row and column, cut to the given size. */
function dilate(
  run: RunKernel,
  dy: TensorInfo,
  strideHeight: number,
  strideWidth: number,
  height: number,
  width: number
): TensorInfo {
  if (strideHeight === 1 && strideWidth === 1) return dy;
  const [batch, rows, columns, channels] = dy.shape;
  const spread = run('Reshape', { x: dy }, { shape: [batch, rows, 1, columns, 1, channels] });
  const padded = run(
    'PadV2',
    { x: spread },
    {
      paddings: [
        [0, 0],
        [0, 0],
        [0, strideHeight - 1],
        [0, 0],
        [0, strideWidth - 1],
        [0, 0],
      ],
      constantValue: 0,
    }
  );
  const full = run(
    'Reshape',
    { x: padded },
    { shape: [batch, rows * strideHeight, columns * strideWidth, channels] }
  );
  if (height === rows * strideHeight && width === columns * strideWidth) return full;
  return run('Slice', { x: full }, { begin: [0, 0, 0, 0], size: [batch, height, width, channels] });
}

/**
 * A tile is a broadcast of x over repeat axes (see tileAsBroadcast): wasm's Tile computes the source
 * index of every output element, far slower than XNNPACK's broadcasting multiply by ones. The
 * batch-norm gradient tiles its [1, 1, 1, C] scale to [B, H, W, C], i.e. [1, C] times [B·H·W, 1].
 */
function tile(tf: TfKernelApi, original: KernelFunc): KernelFunc {
  return args => {
    const { x } = args.inputs as { x: TensorInfo };
    const { reps } = args.attrs as unknown as TileAttrs;
    const plan = x.dtype === 'float32' ? tileAsBroadcast(x.shape, reps) : undefined;
    if (plan == null) return original(args);
    return withKernels(tf, args.backend as KernelBackend, run => {
      const source = run('Reshape', { x }, { shape: plan.source });
      const ones = run('Fill', {}, { shape: plan.ones, value: 1, dtype: 'float32' });
      const tiled = run('Multiply', { a: source, b: ones });
      return run(
        'Reshape',
        { x: tiled },
        { shape: x.shape.map((size, axis) => size * reps[axis]) }
      );
    });
  };
}

/** Most axes for which the broadcast is used; beyond, wasm's Tile runs. */
const MAX_BROADCAST_RANK = 4;

/**
 * Views the output of tile(x, reps) as axes [reps[0], shape[0], reps[1], shape[1], …], each either
 * a repeat (x has size 1 there) or data (x's own axis); size-1 axes are dropped and runs of the same
 * kind merged. x reshaped to `source` times ones of shape `ones` is then the tiled tensor.
 */
function tileAsBroadcast(
  shape: number[],
  reps: number[]
): { source: number[]; ones: number[] } | undefined {
  if (reps.length !== shape.length || [...shape, ...reps].some(size => size < 1)) return undefined;
  const source: number[] = [];
  const ones: number[] = [];
  let last: 'repeat' | 'data' | undefined;
  const add = (kind: 'repeat' | 'data', size: number) => {
    if (size === 1) return;
    if (kind !== last) {
      source.push(1);
      ones.push(1);
      last = kind;
    }
    const axes = kind === 'data' ? source : ones;
    axes[axes.length - 1] *= size;
  };
  shape.forEach((size, axis) => {
    add('repeat', reps[axis]);
    add('data', size);
  });
  return source.length <= MAX_BROADCAST_RANK ? { source, ones } : undefined;
}

/**
 * The depthwise gradients reuse the dense ones with the block-diagonal filter that makes a dense
 * convolution equal the depthwise one: channel c only feeds outputs c·M … c·M + M − 1.
 */
function depthwiseBackpropFilter(tf: TfKernelApi): KernelFunc {
  type Inputs = { x: TensorInfo; dy: TensorInfo };
  return kernelFunc<Inputs, DepthwiseConv2dNativeBackpropFilterAttrs>(
    tf,
    (run, { x, dy }, attrs) => {
      assertUndilated(tf, attrs.dilations);
      const [filterHeight, filterWidth, channels, multiplier] = attrs.filterShape;
      const denseShape: Shape4 = [filterHeight, filterWidth, channels, channels * multiplier];
      const convInfo = tf.backend_util.computeConv2DInfo(
        x.shape as Shape4,
        denseShape,
        attrs.strides,
        1,
        attrs.pad,
        attrs.dimRoundingMode
      );
      const dense = filterGradient(run, x, dy, convInfo);
      const blocks = run(
        'Reshape',
        { x: dense },
        { shape: [...denseShape.slice(0, 3), channels, multiplier] }
      );
      const diagonal = run('Multiply', { a: blocks, b: channelDiagonal(run, channels) });
      return run('Sum', { x: diagonal }, { axis: [3], keepDims: false });
    }
  );
}

function depthwiseBackpropInput(tf: TfKernelApi): KernelFunc {
  type Inputs = { dy: TensorInfo; filter: TensorInfo };
  return kernelFunc<Inputs, DepthwiseConv2dNativeBackpropInputAttrs>(
    tf,
    (run, { dy, filter }, attrs) => {
      assertUndilated(tf, attrs.dilations);
      const [filterHeight, filterWidth, channels, multiplier] = filter.shape;
      const split = run(
        'Reshape',
        { x: filter },
        { shape: [filterHeight, filterWidth, channels, 1, multiplier] }
      );
      const blocks = run('Multiply', { a: split, b: channelDiagonal(run, channels) });
      const dense = run(
        'Reshape',
        { x: blocks },
        {
          shape: [filterHeight, filterWidth, channels, channels * multiplier],
        }
      );
      const { strides, pad, dimRoundingMode, inputShape } = attrs;
      return run(
        'Conv2DBackpropInput',
        { dy, filter: dense },
        { strides, pad, dimRoundingMode, inputShape, dataFormat: 'NHWC' }
      );
    }
  );
}

/** Identity over channels, shaped [1, 1, C, C, 1] to broadcast against [h, w, C, C, M]. */
function channelDiagonal(run: RunKernel, channels: number): TensorInfo {
  const indices = run('Range', {}, { start: 0, stop: channels, step: 1, dtype: 'int32' });
  const identity = oneHotFloat(run, indices, channels);
  return run('Reshape', { x: identity }, { shape: [1, 1, channels, channels, 1] });
}

/** wasm's OneHot ignores its dtype attribute and always writes int32, hence the cast. */
function oneHotFloat(run: RunKernel, indices: TensorInfo, depth: number): TensorInfo {
  const oneHot = run('OneHot', { indices }, { depth, onValue: 1, offValue: 0, dtype: 'int32' });
  return run('Cast', { x: oneHot }, { dtype: 'float32' });
}

function assertUndilated(tf: TfKernelApi, dilations: [number, number] | number): void {
  if (!tf.backend_util.tupleValuesAreOne(dilations)) {
    throw new Error('wasm depthwise convolution gradients support dilation 1 only');
  }
}

/**
 * Sums rows of x into numSegments rows as a one-hot matrix product; ids outside
 * [0, numSegments) select nothing, as in TensorFlow.
 */
function unsortedSegmentSum(tf: TfKernelApi): KernelFunc {
  type Inputs = { x: TensorInfo; segmentIds: TensorInfo };
  return kernelFunc<Inputs, UnsortedSegmentSumAttrs>(
    tf,
    (run, { x, segmentIds }, { numSegments }) => {
      const rows = segmentIds.shape.reduce((size, dim) => size * dim, 1);
      const rowShape = x.shape.slice(segmentIds.shape.length);
      const rowSize = rowShape.reduce((size, dim) => size * dim, 1);
      const ids = run('Reshape', { x: segmentIds }, { shape: [rows] });
      const selector = run(
        'Transpose',
        { x: oneHotFloat(run, ids, numSegments) },
        { perm: [1, 0] }
      );
      const values = x.dtype === 'float32' ? x : run('Cast', { x }, { dtype: 'float32' });
      const matrix = run('Reshape', { x: values }, { shape: [rows, rowSize] });
      const sums = run(
        'BatchMatMul',
        { a: selector, b: matrix },
        { transposeA: false, transposeB: false }
      );
      const shaped = run('Reshape', { x: sums }, { shape: [numSegments, ...rowShape] });
      return x.dtype === 'float32' ? shaped : run('Cast', { x: shaped }, { dtype: x.dtype });
    }
  );
}
