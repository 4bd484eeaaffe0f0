import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initialiseNodeBackend } from '../../../extension/src/core/engine/backend';
import type { TrainingConfig } from '../../../models/pipeline/training/config';
import { loadModel } from '../../../models/pipeline/training/modelFiles';
import {
  predictSplit,
  trainCandidate,
  type TrainingState,
} from '../../../models/pipeline/training/train';
import type { TrainingSplit } from '../../../models/pipeline/training/trainingSet';
import { Random } from '../../../models/pipeline/synthesis/random';

const SIZE = 16;

/** Noise slices; positives carry a bright 6×6 square somewhere: an easy, learnable task. */
function toySplit(count: number, seed: string): TrainingSplit {
  const random = new Random(seed);
  const images = new Uint8Array(count * SIZE * SIZE);
  const records = Array.from({ length: count }, (_, n) => {
    const positive = n % 2 === 0;
    for (let p = 0; p < SIZE * SIZE; p++) images[n * SIZE * SIZE + p] = random.integer(20, 60);
    if (positive) {
      const [top, left] = [random.integer(1, 9), random.integer(1, 9)];
      for (let r = top; r < top + 6; r++)
        for (let c = left; c < left + 6; c++) images[n * SIZE * SIZE + r * SIZE + c] = 220;
    }
    return {
      subjectId: `s${n}`,
      tsc: positive,
      contrast: 'T2' as const,
      slice: n,
      positive,
      tuberAreaMm2: positive ? 36 : 0,
    };
  });
  return { size: SIZE, records, images, masks: new Uint8Array(images.length) };
}

const config = (epochs: number): TrainingConfig => ({
  name: 'toy',
  architecture: 'plain',
  data: {
    labelMapsDir: '',
    seed: 'toy',
    labelMaps: { train: [], validation: [], test: [] },
    subjects: { train: 0, validation: 0, test: 0 },
    contrasts: ['T2'],
  },
  training: { epochs, batchSize: 8, learningRate: 0.01, patience: 10, seed: 1 },
});

let folder: string;
beforeAll(async () => {
  await initialiseNodeBackend('wasm');
  folder = mkdtempSync(join(tmpdir(), 'tuberlens-train-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

test('trains with checkpoints every epoch, resumes after the last one, and learns an easy task', async () => {
  const data = { train: toySplit(64, 'train'), validation: toySplit(32, 'validation') };
  const messages: string[] = [];
  const first: TrainingState = await trainCandidate(config(2), data, folder, m => messages.push(m));
  expect(first.completedEpochs).toBe(2);
  expect(first.history).toHaveLength(2);
  for (const file of [
    'latest/model.json',
    'latest/weights.bin',
    'best/model.json',
    'optimizer.bin',
    'state.json',
    'training.log',
  ]) {
    expect(existsSync(join(folder, file))).toBe(true);
  }

  const tensorsBefore = tf.memory().numTensors;
  const resumed = await trainCandidate(config(6), data, folder, m => messages.push(m));
  expect(messages.some(m => m.startsWith('Resuming plain after epoch 2'))).toBe(true);
  expect(resumed.history.map(record => record.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(readFileSync(join(folder, 'training.log'), 'utf8').trim().split('\n')).toHaveLength(6);
  expect(tf.memory().numTensors).toBe(tensorsBefore);

  const best = await loadModel(join(folder, 'best'));
  const probabilities = await predictSplit(best, data.validation);
  const correct = probabilities.filter(
    (p, n) => p >= 0.5 === data.validation.records[n].positive
  ).length;
  expect(correct / probabilities.length).toBeGreaterThan(0.8);
  expect(resumed.history[resumed.bestEpoch - 1].validationLoss).toBe(resumed.bestValidationLoss);
  best.dispose();
}, 300_000);
