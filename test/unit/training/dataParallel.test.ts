import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Random } from '../../../models/pipeline/synthesis/random';
import { initialiseNodeBackend } from '../../../models/pipeline/tfBackend';
import { loadModel } from '../../../models/pipeline/training/modelFiles';
import {
  batchGradients,
  type TrainingBatch,
} from '../../../models/pipeline/training/batchGradients';
import {
  DataParallelSteps,
  liveGradientWorkers,
  shareBounds,
} from '../../../models/pipeline/training/dataParallel';
import { predictSplit, trainCandidate } from '../../../models/pipeline/training/train';
import { toyConfig, toySplit } from '../../fixtures/toyTrainingSet';

const SIZE = 8;

let folder: string;
beforeAll(async () => {
  await initialiseNodeBackend('wasm');
  folder = mkdtempSync(join(tmpdir(), 'tuberlens-parallel-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));
afterEach(() => expect(liveGradientWorkers()).toBe(0));

/** A seeded two-output model without batch normalisation: [slice probability, per-pixel map]. */
function mapModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [SIZE, SIZE, 1] });
  const features = tfl.layers
    .conv2d({
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    })
    .apply(input) as tfl.SymbolicTensor;
  const logits = tfl.layers
    .conv2d({
      filters: 1,
      kernelSize: 1,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
    })
    .apply(features) as tfl.SymbolicTensor;
  const highest = tfl.layers.globalMaxPooling2d({}).apply(logits) as tfl.SymbolicTensor;
  const probability = tfl.layers.activation({ activation: 'sigmoid' }).apply(highest);
  const map = tfl.layers.activation({ activation: 'sigmoid' }).apply(logits);
  return tfl.model({
    inputs: input,
    outputs: [probability, map] as tfl.SymbolicTensor[],
  });
}

function randomBatch(examples: number, seed: string): TrainingBatch {
  const random = new Random(seed);
  const values = (count: number) => Float32Array.from({ length: count }, () => random.next());
  return {
    size: SIZE,
    channels: 1,
    cells: SIZE,
    x: values(examples * SIZE * SIZE),
    labels: Float32Array.from({ length: examples }, (_, n) => n % 2),
    maps: values(examples * SIZE * SIZE),
  };
}

/** Trainable weights after one plain gradient step (w − ∂loss/∂w) cut into `shares`. */
async function afterOneStep(shares: number, batch: TrainingBatch): Promise<Float32Array[]> {
  const model = mapModel();
  const optimizer = tf.train.sgd(1);
  const steps = await DataParallelSteps.start(model, optimizer, shares);
  try {
    await steps.run(batch);
    return model.trainableWeights.map(weight => weight.read().dataSync() as Float32Array);
  } finally {
    await steps.dispose();
    model.dispose();
    optimizer.dispose();
  }
}

test('shares are as equal as can be, the larger first, and never empty', () => {
  expect(shareBounds(16, 2)).toEqual([
    [0, 8],
    [8, 16],
  ]);
  expect(shareBounds(7, 3)).toEqual([
    [0, 3],
    [3, 5],
    [5, 7],
  ]);
  expect(shareBounds(5, 1)).toEqual([[0, 5]]);
  expect(() => shareBounds(2, 3)).toThrow(/cannot be cut into 3 shares/);
});

test('the gradient of a batch cut into shares computed in worker threads is the gradient of the whole batch', async () => {
  const batch = randomBatch(6, 'gradients');
  const tensorsBefore = tf.memory().numTensors;
  const whole = await afterOneStep(1, batch);
  const inThree = await afterOneStep(3, batch);
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  const initial = mapModel();
  const start = initial.trainableWeights.map(weight => weight.read().dataSync() as Float32Array);
  initial.dispose();
  whole.forEach((weights, k) => {
    // The step moved every weight tensor, so the comparison is not between two unchanged models.
    expect(weights.some((value, n) => Math.abs(value - start[k][n]) > 1e-4)).toBe(true);
    weights.forEach((value, n) => expect(inThree[k][n]).toBeCloseTo(value, 5));
  });
}, 120_000);

test('a tuber cell weight counts each cell by its tuber fraction, also in the workers', async () => {
  const batch = randomBatch(4, 'weighted');
  const weighted = { ...batch, tuberCellWeight: 5 };
  const model = mapModel();
  const [plain, heavy] = [batch, weighted].map(b => batchGradients(model, b).mapLoss);
  const predicted = tf.tidy(() => {
    const x = tf.tensor4d(batch.x, [4, SIZE, SIZE, 1]);
    return (model.predict(x) as tf.Tensor[])[1].dataSync() as Float32Array;
  });
  model.dispose();
  // Cross-entropy of each cell as Keras computes it (probabilities clipped to [ε, 1 − ε]).
  const clip = (p: number) => Math.min(Math.max(p, 1e-7), 1 - 1e-7);
  const cellLosses = Array.from(predicted, (p, n) => {
    const target = batch.maps[n];
    return -(target * Math.log(clip(p)) + (1 - target) * Math.log(1 - clip(p)));
  });
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
  expect(plain).toBeCloseTo(mean(cellLosses), 4);
  expect(heavy).toBeCloseTo(mean(cellLosses.map((loss, n) => loss * (1 + 4 * batch.maps[n]))), 4);
  const [whole, inTwo] = [await afterOneStep(1, weighted), await afterOneStep(2, weighted)];
  const unweighted = await afterOneStep(1, batch);
  expect(
    unweighted.some((weights, k) => weights.some((v, n) => Math.abs(v - whole[k][n]) > 1e-4))
  ).toBe(true);
  whole.forEach((weights, k) =>
    weights.forEach((value, n) => expect(inTwo[k][n]).toBeCloseTo(value, 5))
  );
}, 120_000);

test('training with two shares learns, and a run stopped and resumed ends with the very weights of a straight one', async () => {
  const data = { train: toySplit(256, 'train'), validation: toySplit(32, 'validation') };
  const config = (epochs: number) => {
    const toy = toyConfig(epochs);
    toy.training.shares = 2;
    return toy;
  };
  const stopped = join(folder, 'stopped');
  const straight = join(folder, 'straight');
  const tensorsBefore = tf.memory().numTensors;
  await trainCandidate(config(2), data, stopped, () => {});
  const resumed = await trainCandidate(config(4), data, stopped, () => {});
  const uninterrupted = await trainCandidate(config(4), data, straight, () => {});
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  expect(resumed.history.map(record => record.trainLoss)).toEqual(
    uninterrupted.history.map(record => record.trainLoss)
  );
  for (const file of ['latest/weights.bin', 'optimizer.bin']) {
    expect(readFileSync(join(stopped, file)).equals(readFileSync(join(straight, file)))).toBe(true);
  }
  const best = await loadModel(join(straight, 'best'));
  const probabilities = await predictSplit(best, data.validation);
  const correct = probabilities.filter(
    (p, n) => p >= 0.5 === data.validation.records[n].positive
  ).length;
  expect(correct / probabilities.length).toBeGreaterThan(0.8);
  tf.dispose(best.getWeights());
}, 300_000);

test("a worker's failure rejects the step with its reason", async () => {
  const model = mapModel();
  const optimizer = tf.train.sgd(1);
  const steps = await DataParallelSteps.start(model, optimizer, 2);
  // The second share, the worker's, has no pixels.
  const batch = randomBatch(4, 'short');
  const short = { ...batch, x: batch.x.slice(0, 2 * SIZE * SIZE) };
  try {
    await expect(steps.run(short)).rejects.toThrow(
      /^the gradient worker failed: .*should have 128 values but has 0/
    );
  } finally {
    await steps.dispose();
    model.dispose();
    optimizer.dispose();
  }
}, 120_000);
