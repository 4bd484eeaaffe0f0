// Correct versions of two TF.js 4.22 gradient kernels that give wrong values, registered over the
// originals on whichever of their backends is loaded. Framework-free, like wasmTraining.ts.
// - cpu's ResizeNearestNeighborGrad reads dy at the images' batch offset instead of dy's, so every
//   image after the first in a batch gets another image's gradient: on cpu, saliency through the
//   decoder's upsampling was wrong for all but the first slice of a batch (and training too).
// - wasm's MaxPoolGrad gives no gradient to a pooling window whose values are all negative. The
//   TuberLens nets pool only ReLU outputs, whose ReLU gradient drops such (all-zero) windows anyway,
//   but a gradient must not depend on that.
import type * as tfCore from '@tensorflow/tfjs-core';
import type {
  DataId,
  MaxPoolGradAttrs,
  ResizeNearestNeighborGradAttrs,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { overrideKernel, type TfKernelApi } from './kernelOverride';

type Shape4 = [number, number, number, number];

interface ReadableBackend {
  readSync(dataId: DataId): ArrayLike<number>;
}

interface CpuBackend extends ReadableBackend {
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

interface WasmBackend extends ReadableBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

/** Registers the corrected kernels over the originals; harmless to call again. */
export function registerGradientFixes(tf: TfKernelApi): void {
  overrideKernel(tf, 'cpu', 'ResizeNearestNeighborGrad', () => args => {
    const { images, dy } = args.inputs as { images: TensorInfo; dy: TensorInfo };
    const { alignCorners } = args.attrs as unknown as ResizeNearestNeighborGradAttrs;
    const backend = args.backend as unknown as CpuBackend;
    const values = resizeNearestNeighborGradient(
      backend.readSync(dy.dataId),
      images.shape as Shape4,
      dy.shape as Shape4,
      alignCorners
    );
    return backend.makeTensorInfo(images.shape, 'float32', values);
  });
  overrideKernel(tf, 'wasm', 'MaxPoolGrad', () => args => {
    const { input, dy } = args.inputs as { input: TensorInfo; dy: TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
    const backend = args.backend as unknown as WasmBackend;
    const pooling = tf.backend_util.computePool2DInfo(
      input.shape as Shape4,
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode
    );
    const values = maxPoolGradient(
      backend.readSync(input.dataId),
      backend.readSync(dy.dataId),
      pooling
    );
    const dx = backend.makeOutput(input.shape, 'float32');
    backend.typedArrayFromHeap(dx).set(values);
    return dx;
  });
}

/**
 * The gradient of a nearest-neighbour resize (NHWC) with respect to its images: each dy value added
 * to the image pixel it was copied from, as TF.js' forward kernels choose it (half-pixel centres
 * off, as the gradient kernels of every backend assume).
 */
export function resizeNearestNeighborGradient(
  dy: ArrayLike<number>,
  [batch, inHeight, inWidth, depth]: Shape4,
  [, outHeight, outWidth]: Shape4,
  alignCorners: boolean
): Float32Array {
  const sourceRow = nearestSources(inHeight, outHeight, alignCorners);
  const sourceColumn = nearestSources(inWidth, outWidth, alignCorners);
  const dx = new Float32Array(batch * inHeight * inWidth * depth);
  let at = 0;
  for (let b = 0; b < batch; b++) {
    for (let row = 0; row < outHeight; row++) {
      for (let column = 0; column < outWidth; column++) {
        const source = ((b * inHeight + sourceRow[row]) * inWidth + sourceColumn[column]) * depth;
        for (let d = 0; d < depth; d++) dx[source + d] += dy[at++];
      }
    }
  }
  return dx;
}

/** For each output index, the input index a nearest-neighbour resize copies. */
function nearestSources(inSize: number, outSize: number, alignCorners: boolean): Int32Array {
  const corners = alignCorners && outSize > 1;
  const scale = corners ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  return Int32Array.from({ length: outSize }, (_, index) =>
    Math.min(inSize - 1, corners ? Math.round(index * scale) : Math.floor(index * scale))
  );
}

/**
 * The gradient of max pooling (NHWC) with respect to its input: each dy value added to the largest
 * input of its window (padding never wins); among equal ones the last, as wasm's own kernel chooses,
 * so that a recipe trained before this fix (flat background ties often) trains exactly as it did.
 */
export function maxPoolGradient(
  input: ArrayLike<number>,
  dy: ArrayLike<number>,
  pooling: tfCore.backend_util.Conv2DInfo
): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, padInfo } = pooling;
  const rowWindows = windows(
    pooling.outHeight,
    pooling.strideHeight,
    padInfo.top,
    pooling.effectiveFilterHeight,
    inHeight
  );
  const columnWindows = windows(
    pooling.outWidth,
    pooling.strideWidth,
    padInfo.left,
    pooling.effectiveFilterWidth,
    inWidth
  );
  const pixelIndex = (b: number, row: number, column: number) =>
    ((b * inHeight + row) * inWidth + column) * inChannels;
  const dx = new Float32Array(batchSize * inHeight * inWidth * inChannels);
  let at = 0;
  for (let b = 0; b < batchSize; b++) {
    for (const rows of rowWindows) {
      for (const columns of columnWindows) {
        for (let d = 0; d < inChannels; d++, at++) {
          let largest = -Infinity;
          let winner = -1;
          for (let row = rows.start; row < rows.end; row++) {
            for (let column = columns.start; column < columns.end; column++) {
              const index = pixelIndex(b, row, column) + d;
              if (input[index] >= largest) {
                largest = input[index];
                winner = index;
              }
            }
          }
          if (winner >= 0) dx[winner] += dy[at];
        }
      }
    }
  }
  return dx;
}

/** For each output index along one axis, the input indices its window covers (padding left out). */
function windows(outSize: number, stride: number, padBefore: number, size: number, inSize: number) {
  return Array.from({ length: outSize }, (_, out) => {
    const corner = out * stride - padBefore;
    return { start: Math.max(0, corner), end: Math.min(inSize, corner + size) };
  });
}
