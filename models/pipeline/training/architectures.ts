/**
 * Candidate tuber classifiers, sized for the browser, plus the paper's InceptionV3 for speed comparison.
 * Every candidate names the activation of its last convolution GRAD_CAM_LAYER, which Grad-CAM reads.
 */
import * as tfl from '@tensorflow/tfjs-layers';

export const GRAD_CAM_LAYER = 'gradcam_features';
export const ARCHITECTURES = ['plain', 'residual', 'inception'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export interface InputShape {
  size: number;
  channels: number;
}

type Tensor = tfl.SymbolicTensor;

export function buildModel(architecture: Architecture, input: InputShape): tfl.LayersModel {
  const inputs = tfl.input({ shape: [input.size, input.size, input.channels], name: 'slice' });
  const features = {
    plain: plainFeatures,
    residual: residualFeatures,
    inception: inceptionFeatures,
  }[architecture](inputs);
  return tfl.model({ inputs, outputs: classifierHead(features), name: `tuber_${architecture}` });
}

/** Global average pooling, dropout and one sigmoid unit: the probability that the slice holds a tuber. */
function classifierHead(features: Tensor): Tensor {
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(features) as Tensor;
  const dropped = tfl.layers.dropout({ rate: 0.3 }).apply(pooled) as Tensor;
  return tfl.layers
    .dense({ units: 1, activation: 'sigmoid', name: 'probability' })
    .apply(dropped) as Tensor;
}

function convBnRelu(
  x: Tensor,
  filters: number,
  kernel: [number, number] = [3, 3],
  options: { strides?: number; name?: string } = {}
): Tensor {
  const conv = tfl.layers
    .conv2d({
      filters,
      kernelSize: kernel,
      strides: options.strides ?? 1,
      padding: 'same',
      useBias: false,
    })
    .apply(x) as Tensor;
  const normalised = tfl.layers.batchNormalization({}).apply(conv) as Tensor;
  return tfl.layers
    .activation({ activation: 'relu', name: options.name })
    .apply(normalised) as Tensor;
}

function maxPool(x: Tensor): Tensor {
  return tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x) as Tensor;
}

/** Five conv-BN-ReLU stages, pooling after the first four (about 0.19 M parameters). */
function plainFeatures(inputs: Tensor): Tensor {
  let x = inputs;
  for (const filters of [16, 32, 64, 96]) x = maxPool(convBnRelu(x, filters));
  return convBnRelu(x, 128, [3, 3], { name: GRAD_CAM_LAYER });
}

/** A small ResNet: residual blocks of two 3×3 convolutions with identity or 1×1 projection shortcuts. */
function residualFeatures(inputs: Tensor): Tensor {
  let x = maxPool(convBnRelu(inputs, 16));
  const stages = [32, 64, 96, 128];
  stages.forEach((filters, stage) => {
    x = residualBlock(x, filters, stage === stages.length - 1 ? GRAD_CAM_LAYER : undefined);
    if (stage < stages.length - 1) x = maxPool(x);
  });
  return x;
}

function residualBlock(x: Tensor, filters: number, name?: string): Tensor {
  const branch = tfl.layers
    .batchNormalization({})
    .apply(
      tfl.layers
        .conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false })
        .apply(convBnRelu(x, filters)) as Tensor
    ) as Tensor;
  const inputChannels = x.shape[x.shape.length - 1];
  const shortcut =
    inputChannels === filters
      ? x
      : (tfl.layers
          .batchNormalization({})
          .apply(
            tfl.layers.conv2d({ filters, kernelSize: 1, useBias: false }).apply(x) as Tensor
          ) as Tensor);
  const sum = tfl.layers.add().apply([branch, shortcut]) as Tensor;
  return tfl.layers.activation({ activation: 'relu', name }).apply(sum) as Tensor;
}

/** Inception-style modules: parallel 1×1, 3×3 and factorised 5×5 branches and a pooled projection. */
function inceptionFeatures(inputs: Tensor): Tensor {
  let x = maxPool(convBnRelu(inputs, 16));
  x = maxPool(convBnRelu(x, 32));
  x = maxPool(inceptionModule(x, 16));
  x = maxPool(inceptionModule(x, 24));
  return inceptionModule(x, 32, GRAD_CAM_LAYER);
}

function inceptionModule(x: Tensor, width: number, name?: string): Tensor {
  const oneByOne = convBnRelu(x, width, [1, 1]);
  const threeByThree = convBnRelu(convBnRelu(x, width, [1, 1]), width, [3, 3]);
  const fiveByFive = convBnRelu(
    convBnRelu(convBnRelu(x, width / 2, [1, 1]), width, [3, 3]),
    width,
    [3, 3]
  );
  const pooled = tfl.layers
    .maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' })
    .apply(x) as Tensor;
  const projected = convBnRelu(pooled, width, [1, 1]);
  return tfl.layers
    .concatenate({ name })
    .apply([oneByOne, threeByThree, fiveByFive, projected]) as Tensor;
}

/**
 * InceptionV3 (Szegedy et al. 2016) at 299×299×3, the architecture the 2020 tuber study selected,
 * with random weights: used only to compare speed.
 */
export function buildInceptionV3Reference(): tfl.LayersModel {
  const inputs = tfl.input({ shape: [299, 299, 3] });
  let x = convBnReluValid(inputs, 32, [3, 3], 2);
  x = convBnReluValid(x, 32, [3, 3]);
  x = convBnRelu(x, 64);
  x = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2 }).apply(x) as Tensor;
  x = convBnReluValid(x, 80, [1, 1]);
  x = convBnReluValid(x, 192, [3, 3]);
  x = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2 }).apply(x) as Tensor;
  for (const poolFilters of [32, 64, 64]) x = inceptionA(x, poolFilters);
  x = reductionA(x);
  for (const width of [128, 160, 160, 192]) x = inceptionB(x, width);
  x = reductionB(x);
  for (let n = 0; n < 2; n++) x = inceptionC(x);
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(x) as Tensor;
  const outputs = tfl.layers.dense({ units: 1, activation: 'sigmoid' }).apply(pooled) as Tensor;
  return tfl.model({ inputs, outputs, name: 'inception_v3_reference' });
}

function convBnReluValid(
  x: Tensor,
  filters: number,
  kernel: [number, number],
  strides = 1
): Tensor {
  const conv = tfl.layers
    .conv2d({ filters, kernelSize: kernel, strides, padding: 'valid', useBias: false })
    .apply(x) as Tensor;
  const normalised = tfl.layers.batchNormalization({}).apply(conv) as Tensor;
  return tfl.layers.activation({ activation: 'relu' }).apply(normalised) as Tensor;
}

function averagePoolSame(x: Tensor): Tensor {
  return tfl.layers
    .averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' })
    .apply(x) as Tensor;
}

function concat(branches: Tensor[]): Tensor {
  return tfl.layers.concatenate({}).apply(branches) as Tensor;
}

function inceptionA(x: Tensor, poolFilters: number): Tensor {
  return concat([
    convBnRelu(x, 64, [1, 1]),
    convBnRelu(convBnRelu(x, 48, [1, 1]), 64, [5, 5]),
    convBnRelu(convBnRelu(convBnRelu(x, 64, [1, 1]), 96, [3, 3]), 96, [3, 3]),
    convBnRelu(averagePoolSame(x), poolFilters, [1, 1]),
  ]);
}

function reductionA(x: Tensor): Tensor {
  return concat([
    convBnReluValid(x, 384, [3, 3], 2),
    convBnReluValid(convBnRelu(convBnRelu(x, 64, [1, 1]), 96, [3, 3]), 96, [3, 3], 2),
    tfl.layers.maxPooling2d({ poolSize: 3, strides: 2 }).apply(x) as Tensor,
  ]);
}

function inceptionB(x: Tensor, width: number): Tensor {
  const seven = (t: Tensor, filters: number, horizontalFirst: boolean) =>
    convBnRelu(
      convBnRelu(t, width, horizontalFirst ? [1, 7] : [7, 1]),
      filters,
      horizontalFirst ? [7, 1] : [1, 7]
    );
  return concat([
    convBnRelu(x, 192, [1, 1]),
    seven(convBnRelu(x, width, [1, 1]), 192, true),
    seven(seven(convBnRelu(x, width, [1, 1]), width, false), 192, false),
    convBnRelu(averagePoolSame(x), 192, [1, 1]),
  ]);
}

function reductionB(x: Tensor): Tensor {
  return concat([
    convBnReluValid(convBnRelu(x, 192, [1, 1]), 320, [3, 3], 2),
    convBnReluValid(
      convBnRelu(convBnRelu(convBnRelu(x, 192, [1, 1]), 192, [1, 7]), 192, [7, 1]),
      192,
      [3, 3],
      2
    ),
    tfl.layers.maxPooling2d({ poolSize: 3, strides: 2 }).apply(x) as Tensor,
  ]);
}

function inceptionC(x: Tensor): Tensor {
  const split = (t: Tensor) => concat([convBnRelu(t, 384, [1, 3]), convBnRelu(t, 384, [3, 1])]);
  return concat([
    convBnRelu(x, 320, [1, 1]),
    split(convBnRelu(x, 384, [1, 1])),
    split(convBnRelu(convBnRelu(x, 448, [1, 1]), 384, [3, 3])),
    convBnRelu(averagePoolSame(x), 192, [1, 1]),
  ]);
}
