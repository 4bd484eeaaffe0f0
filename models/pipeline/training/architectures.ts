/**
 * Candidate tuber classifiers, sized for the browser, plus the paper's InceptionV3 for speed comparison.
 *
 * Every candidate ends in the same localising head: its last convolution (named GRAD_CAM_LAYER, which
 * Grad-CAM reads) at 1/8 of the input resolution (or, with a map stride of 4, a decoder step that joins
 * those features with the 1/4-resolution ones) feeds a 1×1 convolution that scores each cell for tuber
 * (TUBER_LOGITS_LAYER). The slice probability is the sigmoid of the highest cell score, so a slice is
 * positive because of a place in it, and Grad-CAM of that probability is the cell score map itself.
 * During training a second output, the sigmoid of every cell score (TUBER_MAP_OUTPUT), is fitted to the
 * synthetic tuber masks; the shipped classifier (classifierOf) drops it.
 */
import * as tfl from '@tensorflow/tfjs-layers';

export const GRAD_CAM_LAYER = 'gradcam_features';
export const TUBER_LOGITS_LAYER = 'tuber_logits';
export const PROBABILITY_OUTPUT = 'probability';
export const TUBER_MAP_OUTPUT = 'tuber_map';
/**
 * Input pixels per tuber-map cell in each direction: 8 after the three 2× poolings (15 mm cells for a
 * 240 mm slice at 128²), or 4 with one decoder step (7.5 mm cells, a sharper Grad-CAM).
 */
export const MAP_STRIDES = [8, 4] as const;
export type MapStride = (typeof MAP_STRIDES)[number];
export const ARCHITECTURES = [
  'plain',
  'residual',
  'lean',
  'strided',
  'compact',
  'inception',
] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export interface InputShape {
  size: number;
  channels: number;
}

type Tensor = tfl.SymbolicTensor;

/** A candidate's feature maps at 1/4 and 1/8 of the input; `lastName` names its last 1/8 layer. */
type FeatureExtractor = (inputs: Tensor, lastName?: string) => { quarter: Tensor; eighth: Tensor };

/** Hands each layer its own initialiser seed, so that a seeded build always starts from the same weights. */
class Seeds {
  private next: number;
  constructor(seed: number) {
    this.next = seed * 1000;
  }
  kernel() {
    return tfl.initializers.glorotUniform({ seed: this.next++ });
  }
}

let seeds = new Seeds(0);

/** The training model: outputs [slice probability, cell tuber map]. */
export function buildModel(
  architecture: Architecture,
  input: InputShape,
  seed = 0,
  mapStride: MapStride = 8
): tfl.LayersModel {
  seeds = new Seeds(seed);
  const inputs = tfl.input({ shape: [input.size, input.size, input.channels], name: 'slice' });
  const extract: FeatureExtractor = {
    plain: plainFeatures,
    residual: residualFeatures,
    lean: leanResidualFeatures,
    strided: stridedLeanFeatures,
    compact: compactResidualFeatures,
    inception: inceptionFeatures,
  }[architecture];
  const { quarter, eighth } = extract(inputs, mapStride === 8 ? GRAD_CAM_LAYER : undefined);
  const features = mapStride === 8 ? eighth : quarterResolution(eighth, quarter);
  const logits = tfl.layers
    .conv2d({
      filters: 1,
      kernelSize: 1,
      kernelInitializer: seeds.kernel(),
      name: TUBER_LOGITS_LAYER,
    })
    .apply(features) as Tensor;
  const highest = tfl.layers.globalMaxPooling2d({}).apply(logits) as Tensor;
  const probability = sigmoid(highest, PROBABILITY_OUTPUT);
  const map = sigmoid(logits, TUBER_MAP_OUTPUT);
  return tfl.model({ inputs, outputs: [probability, map], name: `tuber_${architecture}` });
}

/**
 * One decoder step: the 1/8 features, narrowed and brought up to 1/4, joined with the 1/4 features, so
 * that the tuber map has cells half as wide while still seeing the deep features' context.
 */
function quarterResolution(eighth: Tensor, quarter: Tensor): Tensor {
  const narrowed = convBnRelu(eighth, 24, [1, 1]);
  const upsampled = tfl.layers.upSampling2d({ size: [2, 2] }).apply(narrowed) as Tensor;
  const joined = tfl.layers.concatenate({}).apply([upsampled, quarter]) as Tensor;
  return convBnRelu(joined, 32, [3, 3], { name: GRAD_CAM_LAYER });
}

function sigmoid(x: Tensor, name: string): Tensor {
  return tfl.layers.activation({ activation: 'sigmoid', name }).apply(x) as Tensor;
}

/** The slice classifier inside a training model (sharing its weights): what is evaluated and shipped. */
export function classifierOf(model: tfl.LayersModel): tfl.LayersModel {
  if (model.outputs.length === 1) return model;
  return tfl.model({
    inputs: model.inputs,
    outputs: model.getLayer(PROBABILITY_OUTPUT).output as Tensor,
    name: model.name,
  });
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
      kernelInitializer: seeds.kernel(),
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

/** Conv-BN-ReLU stages, pooling after the first three, two more at 1/8 resolution (about 0.2 M parameters). */
function plainFeatures(inputs: Tensor, lastName?: string) {
  const quarter = maxPool(convBnRelu(maxPool(convBnRelu(inputs, 16)), 32));
  const x = convBnRelu(maxPool(convBnRelu(quarter, 64)), 96);
  return { quarter, eighth: convBnRelu(x, 128, [3, 3], { name: lastName }) };
}

/** A small ResNet: residual blocks of two 3×3 convolutions with identity or 1×1 projection shortcuts. */
function residualFeatures(inputs: Tensor, lastName?: string) {
  const quarter = maxPool(residualBlock(maxPool(convBnRelu(inputs, 16)), 24));
  const x = residualBlock(maxPool(residualBlock(quarter, 48)), 64);
  return { quarter, eighth: residualBlock(x, 96, lastName) };
}

/**
 * The residual net with its 1/2-resolution block kept at the stem's 16 channels (identity shortcut)
 * instead of widened to 24 with a projection: wasm spends more of its time there than the multiply-adds
 * say, so this takes about a quarter off the time per slice while keeping nearly all the parameters.
 */
function leanResidualFeatures(inputs: Tensor, lastName?: string) {
  return leanResidualAfterStem(maxPool(convBnRelu(inputs, 16)), lastName);
}

/**
 * The lean net with a stride-2 first convolution in place of a full-resolution convolution and
 * pooling. That stem takes about an eighth of the lean net's time per slice on wasm (its convolution
 * reads only three channels, which keeps wasm well below its usual throughput); the strided one saves
 * most of it: 8 % less time per series.
 */
function stridedLeanFeatures(inputs: Tensor, lastName?: string) {
  return leanResidualAfterStem(convBnRelu(inputs, 16, [3, 3], { strides: 2 }), lastName);
}

function leanResidualAfterStem(half: Tensor, lastName?: string) {
  const quarter = maxPool(residualBlock(half, 16));
  const x = residualBlock(maxPool(residualBlock(quarter, 48)), 64);
  return { quarter, eighth: residualBlock(x, 96, lastName) };
}

/**
 * The residual net made cheaper where wasm spends its time: one convolution instead of a block at 1/2
 * resolution, and a last block of 64 channels instead of 96 (about 30 % fewer multiply-adds).
 */
function compactResidualFeatures(inputs: Tensor, lastName?: string) {
  const quarter = maxPool(convBnRelu(maxPool(convBnRelu(inputs, 16)), 24));
  const x = residualBlock(maxPool(residualBlock(quarter, 48)), 64);
  return { quarter, eighth: residualBlock(x, 64, lastName) };
}

function residualBlock(x: Tensor, filters: number, name?: string): Tensor {
  const branch = tfl.layers.batchNormalization({}).apply(
    tfl.layers
      .conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: seeds.kernel(),
      })
      .apply(convBnRelu(x, filters)) as Tensor
  ) as Tensor;
  const inputChannels = x.shape[x.shape.length - 1];
  const shortcut =
    inputChannels === filters
      ? x
      : (tfl.layers
          .batchNormalization({})
          .apply(
            tfl.layers
              .conv2d({ filters, kernelSize: 1, useBias: false, kernelInitializer: seeds.kernel() })
              .apply(x) as Tensor
          ) as Tensor);
  const sum = tfl.layers.add().apply([branch, shortcut]) as Tensor;
  return tfl.layers.activation({ activation: 'relu', name }).apply(sum) as Tensor;
}

/** Inception-style modules: parallel 1×1, 3×3 and factorised 5×5 branches and a pooled projection. */
function inceptionFeatures(inputs: Tensor, lastName?: string) {
  const quarter = maxPool(convBnRelu(maxPool(convBnRelu(inputs, 16)), 32));
  const x = inceptionModule(maxPool(inceptionModule(quarter, 16)), 24);
  return { quarter, eighth: inceptionModule(x, 32, lastName) };
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
