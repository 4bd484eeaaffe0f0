import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { evaluateModel } from '../../../models/pipeline/evaluation/evaluate';
import { areaUnderRoc } from '../../../models/pipeline/evaluation/metrics';
import { initialiseNodeBackend } from '../../../models/pipeline/tfBackend';
import {
  buildModel,
  classifierOf,
  GRAD_CAM_LAYER,
  TUBER_MAP_OUTPUT,
} from '../../../models/pipeline/training/architectures';
import { loadModel } from '../../../models/pipeline/training/modelFiles';
import {
  aucByContrast,
  bestOfPhase,
  brightLevel,
  calibrationExamples,
  examplePools,
  hardestNegatives,
  phasesOf,
  predictSplit,
  trainCandidate,
  type TrainingState,
} from '../../../models/pipeline/training/train';
import { TOY_SIZE, toyConfig, toySplit } from '../../fixtures/toyTrainingSet';

let folder: string;
beforeAll(async () => {
  await initialiseNodeBackend('wasm');
  folder = mkdtempSync(join(tmpdir(), 'tuberlens-train-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

test('trains with checkpoints every epoch, resumes after the last one to the very weights of a straight run, and learns an easy task', async () => {
  const data = { train: toySplit(512, 'train'), validation: toySplit(32, 'validation') };
  const messages: string[] = [];
  const first: TrainingState = await trainCandidate(toyConfig(2), data, folder, m =>
    messages.push(m)
  );
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
  const resumed = await trainCandidate(toyConfig(6), data, folder, m => messages.push(m));
  expect(messages.some(m => m.startsWith('Resuming plain (whole slices) after epoch 2'))).toBe(
    true
  );
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

  const straight = mkdtempSync(join(tmpdir(), 'tuberlens-train-straight-'));
  try {
    const uninterrupted = await trainCandidate(toyConfig(6), data, straight, () => {});
    expect(uninterrupted.history).toEqual(
      resumed.history.map(record => ({
        ...record,
        seconds: expect.any(Number),
        examplesPerSecond: expect.any(Number),
      }))
    );
    for (const file of ['latest/weights.bin', 'best/weights.bin', 'optimizer.bin']) {
      expect(readFileSync(join(straight, file)).equals(readFileSync(join(folder, file)))).toBe(
        true
      );
    }
  } finally {
    rmSync(straight, { recursive: true, force: true });
  }
}, 300_000);

test('trains on crops, then fine-tunes on whole slices from the best crop weights, leaking nothing', async () => {
  const cropFolder = join(folder, 'crops');
  const data = { train: toySplit(256, 'train'), validation: toySplit(32, 'validation') };
  const config = toyConfig(3);
  config.training.cropSize = 8;
  config.training.fineTune = { epochs: 2, learningRate: 0.001 };
  const tensorsBefore = tf.memory().numTensors;
  const messages: string[] = [];
  const state = await trainCandidate(config, data, cropFolder, m => messages.push(m));
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  expect(state.history.map(record => record.phase)).toEqual([
    '8² crops',
    '8² crops',
    '8² crops',
    'whole-slice fine-tuning',
    'whole-slice fine-tuning',
  ]);
  expect(state).toMatchObject({ completedEpochs: 5, phase: 1, phaseStartEpoch: 3 });
  expect(messages.some(m => m.includes('whole-slice fine-tuning from the best weights'))).toBe(
    true
  );
  const latest = await loadModel(join(cropFolder, 'latest'));
  const best = await loadModel(join(cropFolder, 'best'));
  expect(latest.inputs[0].shape).toEqual([null, TOY_SIZE, TOY_SIZE, 1]);
  expect(best.inputs[0].shape).toEqual([null, TOY_SIZE, TOY_SIZE, 1]);
  expect(best.outputs).toHaveLength(1);
  const probabilities = await predictSplit(best, data.validation);
  const correct = probabilities.filter(
    (p, n) => p >= 0.5 === data.validation.records[n].positive
  ).length;
  expect(correct / probabilities.length).toBeGreaterThan(0.8);
  tf.dispose([latest, best].flatMap(model => model.getWeights()));
}, 300_000);

test('with a map stride of 4, bright negative crops, weighted tuber cells, crops at a lower rate and a hard-negative phase, the Grad-CAM layer and tuber map are at 1/4 of the input', async () => {
  const fineFolder = join(folder, 'fine');
  const data = { train: toySplit(256, 'train'), validation: toySplit(32, 'validation') };
  const config = toyConfig(2);
  config.mapStride = 4;
  config.training.cropSize = 8;
  config.training.brightNegatives = 1;
  config.training.tuberCellWeight = 10;
  config.training.cropAnnealing = { epochs: 1, learningRate: 0.003 };
  config.training.fineTune = { epochs: 1, learningRate: 0.001 };
  config.training.hardNegatives = { epochs: 1, learningRate: 0.001, share: 1 };
  const tensorsBefore = tf.memory().numTensors;
  const messages: string[] = [];
  const state = await trainCandidate(config, data, fineFolder, m => messages.push(m));
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  expect(state).toMatchObject({ completedEpochs: 5, phase: 3, phaseStartEpoch: 4 });
  expect(state.history.map(record => record.phase)).toEqual([
    '8² crops',
    '8² crops',
    '8² crops, lower rate',
    'whole-slice fine-tuning',
    'hard-negative fine-tuning',
  ]);
  expect(messages.some(m => m.includes('hard-negative fine-tuning from the best weights'))).toBe(
    true
  );
  const latest = await loadModel(join(fineFolder, 'latest'));
  expect(latest.getLayer(GRAD_CAM_LAYER).outputShape).toEqual([
    null,
    TOY_SIZE / 4,
    TOY_SIZE / 4,
    32,
  ]);
  expect(latest.getLayer(TUBER_MAP_OUTPUT).outputShape).toEqual([
    null,
    TOY_SIZE / 4,
    TOY_SIZE / 4,
    1,
  ]);
  const best = await loadModel(join(fineFolder, 'best'));
  const probabilities = await predictSplit(best, data.validation);
  const auc = areaUnderRoc(
    probabilities.map((probability, n) => ({
      probability,
      positive: data.validation.records[n].positive,
    }))
  );
  expect(auc).toBeGreaterThan(0.8);
  tf.dispose([latest, best].flatMap(model => model.getWeights()));
}, 300_000);

test('the phases: crops, whole-slice fine-tuning, then hard negatives; without crops, whole slices then hard negatives', () => {
  const config = toyConfig(8);
  config.training.hardNegatives = { epochs: 2, learningRate: 0.0001, share: 0.5 };
  expect(phasesOf(config)).toEqual([
    { name: 'whole slices', epochs: 8, learningRate: 0.01 },
    { name: 'hard-negative fine-tuning', epochs: 2, learningRate: 0.0001, hardNegativeShare: 0.5 },
  ]);
  config.training.cropSize = 64;
  config.training.fineTune = { epochs: 2, learningRate: 0.0003 };
  expect(phasesOf(config).map(phase => phase.name)).toEqual([
    '64² crops',
    'whole-slice fine-tuning',
    'hard-negative fine-tuning',
  ]);
  config.training.cropAnnealing = { epochs: 3, learningRate: 0.0005 };
  expect(phasesOf(config).slice(0, 2)).toEqual([
    { name: '64² crops', cropSize: 64, epochs: 8, learningRate: 0.01 },
    { name: '64² crops, lower rate', cropSize: 64, epochs: 3, learningRate: 0.0005 },
  ]);
});

test('crop examples are drawn from one pool of all slices, or from one pool per contrast at its share', () => {
  const split = toySplit(40, 'pools');
  split.records.forEach((record, n) => (record.contrast = n < 20 ? 'T2' : 'FLAIR'));
  const [all] = examplePools(split);
  expect(all).toMatchObject({ share: 1, positives: [0, 4, 8, 12, 16, 20, 24, 28, 32, 36] });
  expect(all.negatives).toHaveLength(30);
  const [t2, flair] = examplePools(split, { T2: 3, FLAIR: 1 });
  expect(t2).toMatchObject({ contrast: 'T2', share: 0.75, positives: [0, 4, 8, 12, 16] });
  expect(flair).toMatchObject({ contrast: 'FLAIR', share: 0.25, positives: [20, 24, 28, 32, 36] });
  expect([...t2.negatives, ...flair.negatives].sort((a, b) => a - b)).toEqual(all.negatives);
  split.records.forEach(record => (record.contrast = 'T2'));
  expect(() => examplePools(split, { T2: 3, FLAIR: 1 })).toThrow(
    'The training split has no positive FLAIR slice.'
  );
});

test("the hardest negatives are the top tenth of each contrast's tuber-free slices by the model's score", async () => {
  // Scores rise with a slice's mean brightness; FLAIR negatives are all dimmer than T2 ones.
  const model = tfl.sequential({
    layers: [
      tfl.layers.globalAveragePooling2d({ inputShape: [TOY_SIZE, TOY_SIZE, 1] }),
      tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: 'ones' }),
    ],
  });
  const split = toySplit(60, 'hard');
  const pixels = TOY_SIZE * TOY_SIZE;
  split.records.forEach((record, n) => {
    if (record.positive) return;
    record.contrast = n < 30 ? 'T2' : 'FLAIR';
    split.images.fill(n < 30 ? 100 + n : n - 30, n * pixels, (n + 1) * pixels);
  });
  const negatives = (contrast: string) =>
    split.records.filter(r => !r.positive && r.contrast === contrast).length;
  expect([negatives('T2'), negatives('FLAIR')]).toEqual([22, 23]);
  const hardest = await hardestNegatives(model, split);
  // 10 % of 22 and of 23 rounds to 2 each: the two brightest of each contrast.
  expect(hardest).toEqual([29, 27, 59, 58]);
  tf.dispose(model.getWeights());
});

test("the bright level lies below the brightest 3 % of the head's pixels", () => {
  const image = new Uint8Array(1000);
  image.fill(0, 0, 200); // background
  image.fill(100, 200, 900); // 700 head pixels
  image.fill(250, 900, 1000); // 100 bright ones: more than 3 % of the head
  expect(brightLevel(image)).toBe(250);
  image.fill(100, 900, 1000);
  image[999] = 240;
  expect(brightLevel(image)).toBe(100);
});

test('a crop phase keeps its epoch of highest validation AUC, a whole-slice phase its lowest validation BCE', () => {
  const record = (epoch: number, validationLoss: number, validationAuc: number) => ({
    epoch,
    trainLoss: 0,
    trainMapLoss: 0,
    validationLoss,
    validationAuc,
    seconds: 1,
    examplesPerSecond: 1,
  });
  // Crop epochs grow less calibrated on whole slices (BCE up) while they rank better (AUC up).
  const history = [record(1, 0.6, 0.56), record(2, 0.78, 0.75), record(3, 0.9, 0.78)];
  const state = { completedEpochs: 3, bestEpoch: 3, bestValidationLoss: 0.9, history };
  const crops = { name: '64² crops', cropSize: 64, epochs: 8, learningRate: 0.001 };
  const wholeSlices = { name: 'whole-slice fine-tuning', epochs: 2, learningRate: 0.0003 };
  expect(bestOfPhase(state, crops, 0)?.epoch).toBe(3);
  expect(bestOfPhase(state, wholeSlices, 0)?.epoch).toBe(1);

  const fineTuned = [...history, record(4, 0.41, 0.84), record(5, 0.38, 0.83)];
  expect(bestOfPhase({ ...state, history: fineTuned }, wholeSlices, 3)?.epoch).toBe(5);
  expect(bestOfPhase(state, wholeSlices, 3)).toBeUndefined();
});

test('a 2.5D candidate trains on crops of the slice and its neighbours, in two shares, and is evaluated on them', async () => {
  const stackFolder = join(folder, 'neighbours');
  const data = { train: toySplit(256, 'train', 3), validation: toySplit(32, 'validation', 3) };
  const config = toyConfig(3);
  config.training.cropSize = 8;
  config.training.fineTune = { epochs: 1, learningRate: 0.001 };
  config.training.shares = 2;
  const tensorsBefore = tf.memory().numTensors;
  await trainCandidate(config, data, stackFolder, () => {});
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  const best = await loadModel(join(stackFolder, 'best'));
  expect(best.inputs[0].shape).toEqual([null, TOY_SIZE, TOY_SIZE, 3]);
  const test = toySplit(48, 'test', 3);
  const evaluation = await evaluateModel(best, data.validation, test, TOY_SIZE * 1.875);
  expect(evaluation.slices.metrics.auc.estimate).toBeGreaterThan(0.9);
  expect(evaluation.pointingGame.slices).toBe(12);
  tf.dispose(best.getWeights());
}, 300_000);

test.each(['crops', 'wholeSlices'] as const)(
  'with batch-norm calibration from %s, each crop epoch is judged, and its best weights kept, with the statistics of those examples, and training takes the same steps',
  async from => {
    const data = { train: toySplit(64, 'train'), validation: toySplit(32, 'validation') };
    const config = toyConfig(2);
    config.training.cropSize = 8;
    const plain = await trainCandidate(config, data, join(folder, `plain-${from}`), () => {});
    config.training.batchNormCalibration = { examples: 16, from };
    const tensorsBefore = tf.memory().numTensors;
    const calibrated = await trainCandidate(
      config,
      data,
      join(folder, `calibrated-${from}`),
      () => {}
    );
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(calibrated.history.map(record => record.trainLoss)).toEqual(
      plain.history.map(record => record.trainLoss)
    );
    const best = await loadModel(join(folder, `calibrated-${from}`, 'best'));
    const examples = calibrationExamples(config, phasesOf(config)[0], data.train);
    if (!examples) throw new Error('no calibration examples');
    expect(examples.shape).toEqual(from === 'crops' ? [16, 8, 8, 1] : [16, TOY_SIZE, TOY_SIZE, 1]);
    const sized = buildModel('plain', { size: examples.shape[1], channels: 1 }, 0);
    sized.setWeights(best.getWeights());
    const classifier = classifierOf(sized);
    const [inBatch, inference] = tf.tidy(() =>
      [
        classifier.apply(examples, { training: true }) as tf.Tensor,
        classifier.predict(examples) as tf.Tensor,
      ].map(output => output.dataSync())
    );
    inference.forEach((probability, n) => expect(probability).toBeCloseTo(inBatch[n], 4));
    tf.dispose([examples, ...best.getWeights()]);
    sized.dispose();
  },
  300_000
);

test('each epoch is also judged per contrast: a contrast with slices of one class only has no AUC', () => {
  const records = [
    { contrast: 'T2' as const, positive: true },
    { contrast: 'T2' as const, positive: false },
    { contrast: 'T2' as const, positive: false },
    { contrast: 'FLAIR' as const, positive: false },
  ];
  expect(aucByContrast([0.6, 0.7, 0.2, 0.9], records)).toEqual({ T2: 0.5 });
});
