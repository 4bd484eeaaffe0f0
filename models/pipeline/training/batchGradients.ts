/**
 * The training loss of a batch and its gradients with respect to a model's trainable weights, on plain
 * arrays, so that the same code runs on the training thread and in the gradient workers
 * (dataParallel.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** Examples of one batch, or of one share of it: inputs, slice labels and tuber-map targets. */
export interface TrainingBatch {
  /** Input pixels per side. */
  size: number;
  /** Input channels: 1, or the slice and its neighbours. */
  channels: number;
  /** Tuber-map cells per side. */
  cells: number;
  /** examples × size × size × channels. */
  x: Float32Array;
  /** One label (0–1) per example. */
  labels: Float32Array;
  /** examples × cells × cells targets (0–1). */
  maps: Float32Array;
  /** How many times a tuber cell counts in the map loss (see TrainingConfig); 1 when left out. */
  tuberCellWeight?: number;
}

/**
 * Weight of the tuber-map loss: it is a mean over every cell of the map, most of them tuber-free, and is
 * weighted up so that localising tubers counts about as much as labelling the slice.
 */
export const MAP_LOSS_WEIGHT = 8;

export interface BatchLosses {
  /** Slice binary cross-entropy, mean over the examples. */
  sliceLoss: number;
  /** Tuber-map binary cross-entropy per cell, mean over the examples (tuber cells weighted). */
  mapLoss: number;
}

export interface BatchGradients extends BatchLosses {
  /** One per trainable weight, in model.trainableWeights order. */
  gradients: Float32Array[];
}

export function examplesIn(batch: TrainingBatch): number {
  return batch.labels.length;
}

/** Examples [start, end) of a batch. */
export function batchPart(batch: TrainingBatch, start: number, end: number): TrainingBatch {
  const values = batch.size * batch.size * batch.channels;
  const cells = batch.cells * batch.cells;
  return {
    ...batch,
    x: batch.x.slice(start * values, end * values),
    labels: batch.labels.slice(start, end),
    maps: batch.maps.slice(start * cells, end * cells),
  };
}

/**
 * The batch's losses and the gradients of their sum (slice loss plus MAP_LOSS_WEIGHT × map loss) in
 * training mode: batch normalisation uses the batch's own statistics and updates its moving averages.
 */
export function batchGradients(model: tfl.LayersModel, batch: TrainingBatch): BatchGradients {
  const variables = model.trainableWeights.map(weight => weight.read() as tf.Variable);
  const losses: tf.Scalar[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const [slice, map] = lossesOf(model, batch);
    losses.push(tf.keep(slice), tf.keep(map));
    return tf.add(slice, tf.mul(map, MAP_LOSS_WEIGHT));
  }, variables);
  const gradients = variables.map(variable => grads[variable.name].dataSync() as Float32Array);
  const [sliceLoss, mapLoss] = losses.map(loss => loss.dataSync()[0]);
  tf.dispose([value, ...Object.values(grads), ...losses]);
  return { sliceLoss, mapLoss, gradients };
}

function lossesOf(model: tfl.LayersModel, batch: TrainingBatch): [tf.Scalar, tf.Scalar] {
  const count = examplesIn(batch);
  const x = tf.tensor4d(batch.x, [count, batch.size, batch.size, batch.channels]);
  const labels = tf.tensor2d(batch.labels, [count, 1]);
  const maps = tf.tensor4d(batch.maps, [count, batch.cells, batch.cells, 1]);
  const [probabilities, map] = model.apply(x, { training: true }) as tf.Tensor[];
  return [
    tf.mean(tfl.metrics.binaryCrossentropy(labels, probabilities)),
    tf.mean(
      weighTuberCells(tfl.metrics.binaryCrossentropy(maps, map), maps, batch.tuberCellWeight)
    ),
  ];
}

/**
 * Each cell's cross-entropy times 1 + (weight − 1) × its tuber fraction: a cell full of tuber counts
 * `weight` times. Left as it is at weight 1, so that earlier recipes keep their exact steps.
 */
function weighTuberCells(cellLosses: tf.Tensor, maps: tf.Tensor4D, weight = 1): tf.Tensor {
  if (weight === 1) return cellLosses;
  return tf.mul(cellLosses, tf.add(1, tf.mul(tf.squeeze(maps, [3]), weight - 1)));
}
