/**
 * Batch-normalisation statistics measured on whole slices. A net trained on crops keeps moving
 * averages of crop statistics (head tissue, little background), so at whole-slice size it normalises
 * with the wrong ones, and its whole-slice validation scores swing from epoch to epoch for that alone.
 * Measuring the statistics on whole slices first lets each crop epoch be judged on what its weights
 * can do on a slice.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { modelInputs, type TrainingSplit } from './trainingSet';

/**
 * Sets every batch-normalisation layer's moving mean and variance to the per-channel mean and
 * (population) variance of its input when `count` slices, spread evenly through the split, pass
 * through the model in training mode as one batch. Afterwards the model in inference mode computes for
 * those slices what training mode computes with them in one batch.
 */
export function calibrateBatchNorm(
  model: tfl.LayersModel,
  split: TrainingSplit,
  count: number
): void {
  const layers = model.layers.filter(layer => layer.getClassName() === 'BatchNormalization');
  const probe = tfl.model({
    inputs: model.inputs,
    outputs: layers.map(layer => layer.input as tfl.SymbolicTensor),
  });
  const slices = evenlySpaced(split.records.length, count);
  const { size, channels } = split;
  tf.tidy(() => {
    const x = tf.tensor4d(modelInputs(split, slices), [slices.length, size, size, channels]);
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
