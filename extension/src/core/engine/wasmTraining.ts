// Gradient kernels that @tensorflow/tfjs-backend-wasm 4.22 lacks, composed from its own kernels so
// that conv nets can be trained (and input saliency computed) on wasm. Framework-free: the caller
// passes its tfjs-core namespace, so Node and browser bundles register into their own registry.
import type * as tfCore from '@tensorflow/tfjs-core';
import type {
  Conv2DBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  TensorInfo,
  UnsortedSegmentSumAttrs,
} from '@tensorflow/tfjs-core';

export type TfKernelApi = Pick<typeof tfCore, 'backend_util' | 'getKernel' | 'registerKernel'>;

/** The kernels this module adds to the wasm backend (unless wasm already has them). */
export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
] as const;

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
