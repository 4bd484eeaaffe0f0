/**
 * Batch-normalisation statistics measured on a fixed set of examples. A net trained with batch
 * normalisation keeps moving averages of its training batches' statistics; with small batches (8
 * examples per share) and a momentum of 0.99 they follow the last hundred or so batches, so a crop
 * epoch was judged with statistics that drift from one epoch to the next. Measuring them on the same
 * examples before every judgement takes that noise out of the choice of epoch.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/**
 * Sets every batch-normalisation layer's moving mean and variance to the per-channel mean and
 * (population) variance of its input when the examples `x` pass through the model in training mode
 * as one batch. Afterwards the model in inference mode computes for them what training mode computes
 * with them in one batch.
 */
export function calibrateBatchNorm(model: tfl.LayersModel, x: tf.Tensor4D): void {
  const layers = model.layers.filter(layer => layer.getClassName() === 'BatchNormalization');
  const probe = tfl.model({
    inputs: model.inputs,
    outputs: layers.map(layer => layer.input as tfl.SymbolicTensor),
  });
  tf.tidy(() => {
    // Training mode also nudges the moving averages; they are overwritten just after.
    const inputs = probe.apply(x, { training: true }) as tf.Tensor[];
    layers.forEach((layer, n) => {
      const { mean, variance } = tf.moments(inputs[n], [0, 1, 2]);
      movingWeight(layer, 'moving_mean').write(mean);
      movingWeight(layer, 'moving_variance').write(variance);
    });
  });
}

function movingWeight(layer: tfl.layers.Layer, suffix: string): tfl.LayerVariable {
  const weight = layer.weights.find(w => w.originalName.endsWith(suffix));
  if (!weight) throw new Error(`${layer.name} has no ${suffix}`);
  return weight;
}

/** `count` indices from 0 to `length` − 1, evenly spaced (all of them when there are fewer). */
export function evenlySpaced(length: number, count: number): number[] {
  if (count >= length) return Array.from({ length }, (_, n) => n);
  return Array.from({ length: count }, (_, n) => Math.floor(((n + 0.5) * length) / count));
}
