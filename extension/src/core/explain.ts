/**
 * Explanations of a slice classifier's output: Grad-CAM over the last convolutional features and input
 * saliency. Framework-free: the caller passes its tfjs namespaces, so the browser and Node share it.
 */
import type * as tfCore from '@tensorflow/tfjs-core';
import type * as tfLayers from '@tensorflow/tfjs-layers';

type Tf = typeof tfCore;
type Tfl = Pick<typeof tfLayers, 'model'>;

export interface Explanation {
  probabilities: number[];
  /** One map per slice, size × size, 0–1 (each normalised to its own maximum; all 0 when flat). */
  maps: Float32Array[];
}

/**
 * Grad-CAM (Selvaraju et al. 2017): feature maps of `layerName` weighted by the mean gradient of the
 * output with respect to them, ReLU, upsampled to the input size. The layers after `layerName` must form
 * a chain (pooling, dropout, dense), as in every TuberLens candidate.
 */
export function gradCam(
  { tf, tfl }: { tf: Tf; tfl: Tfl },
  model: tfLayers.LayersModel,
  input: tfCore.Tensor4D,
  layerName: string
): Explanation {
  const featureLayer = model.getLayer(layerName);
  const tail = model.layers.slice(model.layers.indexOf(featureLayer) + 1);
  if (tail.some(layer => layer.inboundNodes.some(node => node.inboundLayers.length !== 1))) {
    throw new Error(`Grad-CAM needs a chain of layers after ${layerName}.`);
  }
  const [height, width] = input.shape.slice(1, 3);
  const toFeatures = featureModel(tfl, model, layerName);
  const result = tf.tidy(() => {
    const features = toFeatures.predict(input) as tfCore.Tensor4D;
    const head = (f: tfCore.Tensor) =>
      tail.reduce((x, layer) => layer.apply(x, { training: false }) as tfCore.Tensor, f);
    const gradients = tf.grad((f: tfCore.Tensor) => tf.sum(head(f)))(features);
    const weights = tf.mean(gradients, [1, 2], true);
    const cam = tf.relu(tf.sum(tf.mul(features, weights), 3, true));
    const upsampled = tf.image.resizeBilinear(cam as tfCore.Tensor4D, [height, width]);
    return { probabilities: head(features), maps: normalisePerSlice(tf, upsampled) };
  });
  const explanation = {
    probabilities: Array.from(result.probabilities.dataSync()),
    maps: splitMaps(result.maps, height * width),
  };
  tf.dispose([result.probabilities, result.maps]);
  return explanation;
}

const FEATURE_MODELS = new WeakMap<tfLayers.LayersModel, Map<string, tfLayers.LayersModel>>();

/** The model up to `layerName`, sharing the model's weights; built once per model and layer. */
function featureModel(
  tfl: Tfl,
  model: tfLayers.LayersModel,
  layerName: string
): tfLayers.LayersModel {
  const byLayer = FEATURE_MODELS.get(model) ?? new Map<string, tfLayers.LayersModel>();
  FEATURE_MODELS.set(model, byLayer);
  let toFeatures = byLayer.get(layerName);
  if (!toFeatures) {
    toFeatures = tfl.model({ inputs: model.inputs, outputs: model.getLayer(layerName).output });
    byLayer.set(layerName, toFeatures);
  }
  return toFeatures;
}

/** Vanilla gradient saliency (Simonyan et al. 2014): |∂ output / ∂ input|, max over channels. */
export function saliency(tf: Tf, model: tfLayers.LayersModel, input: tfCore.Tensor4D): Explanation {
  const [height, width] = input.shape.slice(1, 3);
  const result = tf.tidy(() => {
    const forward = (x: tfCore.Tensor) => model.apply(x, { training: false }) as tfCore.Tensor;
    const gradients = tf.grad((x: tfCore.Tensor) => tf.sum(forward(x)))(input);
    const magnitude = tf.max(tf.abs(gradients), 3, true);
    return { probabilities: forward(input), maps: normalisePerSlice(tf, magnitude) };
  });
  const explanation = {
    probabilities: Array.from(result.probabilities.dataSync()),
    maps: splitMaps(result.maps, height * width),
  };
  tf.dispose([result.probabilities, result.maps]);
  return explanation;
}

function normalisePerSlice(tf: Tf, maps: tfCore.Tensor): tfCore.Tensor {
  const maxima = tf.max(maps, [1, 2, 3], true);
  return tf.div(maps, tf.maximum(maxima, 1e-12));
}

function splitMaps(maps: tfCore.Tensor, pixels: number): Float32Array[] {
  const data = maps.dataSync() as Float32Array;
  return Array.from({ length: data.length / pixels }, (_, n) =>
    data.slice(n * pixels, (n + 1) * pixels)
  );
}
