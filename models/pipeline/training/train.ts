/**
 * Trains one candidate on a cached training set: balanced batches with flips and gain jitter, Adam on the
 * slice label plus the tuber mask (see architectures.ts), early stopping on validation binary
 * cross-entropy of the slice probability, and a checkpoint after every epoch from which a stopped run
 * resumes. `best/` holds the slice classifier alone, ready to evaluate and ship.
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { DEFAULT_PREPROCESSING, UPPER_CLIP } from '../../../extension/src/core/preprocessing';
import { POSITIVE_AREA_MM2 } from '../synthesis/subject';
import {
  areaUnderRoc,
  binaryCrossEntropy,
  indicesByContrast,
  toPredictions,
} from '../evaluation/metrics';
import { Random } from '../synthesis/random';
import type { Contrast } from '../synthesis/types';
import { buildModel, classifierOf, type InputShape, type MapStride } from './architectures';
import type { TrainingBatch } from './batchGradients';
import { calibrateBatchNorm, evenlySpaced } from './batchNormCalibration';
import type { TrainingConfig } from './config';
import { DataParallelSteps } from './dataParallel';
import { loadModel, saveModel } from './modelFiles';
import { modelInputs, type TrainingSplit } from './trainingSet';

export interface EpochRecord {
  epoch: number;
  phase?: string;
  /** Slice binary cross-entropy on the training batches. */
  trainLoss: number;
  /** Tuber-map binary cross-entropy (per cell) on the training batches. */
  trainMapLoss: number;
  validationLoss: number;
  validationAuc: number;
  /** Validation AUC of each contrast's slices alone (records before it have none). */
  validationAucByContrast?: Partial<Record<Contrast, number>>;
  seconds: number;
  examplesPerSecond: number;
}

export interface TrainingState {
  completedEpochs: number;
  /** The best epoch of the latest phase (see isBetter), whose classifier is in `best/`. */
  bestEpoch: number;
  /** Its validation binary cross-entropy: what candidates are selected by. */
  bestValidationLoss: number;
  history: EpochRecord[];
  /** Index of the phase in progress (see phasesOf) and the epoch count when it began. */
  phase?: number;
  phaseStartEpoch?: number;
}

const INITIAL_STATE: TrainingState = {
  completedEpochs: 0,
  bestEpoch: 0,
  bestValidationLoss: Infinity,
  history: [],
};

/** A stretch of training with its own input, learning rate and epoch budget. */
export interface Phase {
  name: string;
  /** Crop size in pixels; whole slices when left out. */
  cropSize?: number;
  epochs: number;
  learningRate: number;
  /** Share of the tuber-free examples drawn from the hardest tuber-free slices (see hardestNegatives). */
  hardNegativeShare?: number;
}

/**
 * Whole slices throughout; or crops first (with `cropAnnealing`, then more crops from the best crop
 * weights at a lower learning rate), then, with `fineTune`, whole slices from the best crop
 * weights at a lower learning rate, so that the head's highest cell and the batch-normalisation
 * statistics meet whole slices, backgrounds included, before the model is judged on them. With
 * `hardNegatives`, a last whole-slice phase from the best weights so far dwells on look-alikes.
 */
export function phasesOf({ training }: TrainingConfig): Phase[] {
  const { epochs, learningRate, cropSize, cropAnnealing, fineTune, hardNegatives } = training;
  const phases: Phase[] = cropSize
    ? [{ name: `${cropSize}² crops`, cropSize, epochs, learningRate }]
    : [{ name: 'whole slices', epochs, learningRate }];
  if (cropSize && cropAnnealing)
    phases.push({ name: `${cropSize}² crops, lower rate`, cropSize, ...cropAnnealing });
  if (cropSize && fineTune) phases.push({ name: 'whole-slice fine-tuning', ...fineTune });
  if (hardNegatives) {
    const { share, ...schedule } = hardNegatives;
    phases.push({ name: 'hard-negative fine-tuning', ...schedule, hardNegativeShare: share });
  }
  return phases;
}

export async function trainCandidate(
  config: TrainingConfig,
  data: { train: TrainingSplit; validation: TrainingSplit },
  runFolder: string,
  log: (message: string) => void
): Promise<TrainingState> {
  await mkdir(runFolder, { recursive: true });
  const statePath = join(runFolder, 'state.json');
  let state: TrainingState = existsSync(statePath)
    ? JSON.parse(await readFile(statePath, 'utf8'))
    : INITIAL_STATE;
  const phases = phasesOf(config);
  for (let phase = state.phase ?? 0; phase < phases.length; phase++) {
    if (phase !== (state.phase ?? 0)) {
      state = { ...state, phase, phaseStartEpoch: state.completedEpochs };
      await writeFile(statePath, `${JSON.stringify(state, null, 2)}\n`);
    }
    state = await trainPhase(config, phases[phase], state, data, runFolder, log);
  }
  return state;
}

async function trainPhase(
  config: TrainingConfig,
  phase: Phase,
  initial: TrainingState,
  data: { train: TrainingSplit; validation: TrainingSplit },
  runFolder: string,
  log: (message: string) => void
): Promise<TrainingState> {
  let state = initial;
  const phaseStart = state.phaseStartEpoch ?? 0;
  const resuming = state.completedEpochs > phaseStart;
  const model = resuming
    ? await loadModel(join(runFolder, 'latest'))
    : await startingModel(config, phase, data.train, phaseStart, runFolder);
  const optimizer = tf.train.adam(phase.learningRate);
  if (resuming) {
    await restoreOptimizer(optimizer, runFolder);
    log(
      `Resuming ${config.architecture} (${phase.name}) after epoch ${state.completedEpochs} (best validation BCE ${state.bestValidationLoss.toFixed(4)} at epoch ${state.bestEpoch}).`
    );
  } else if (phaseStart > 0) {
    log(`${config.architecture}: ${phase.name} from the best weights (epoch ${state.bestEpoch}).`);
  }
  const steps = await DataParallelSteps.start(model, optimizer, config.training.shares ?? 1);
  const run: PhaseRun = {
    config,
    phase,
    phaseStart,
    data,
    runFolder,
    model,
    optimizer,
    steps,
    calibration: calibrationExamples(config, phase, data.train),
    log,
  };
  try {
    const sinceBest = () =>
      state.completedEpochs - (bestOfPhase(state, phase, phaseStart)?.epoch ?? phaseStart);
    while (
      state.completedEpochs - phaseStart < phase.epochs &&
      sinceBest() < config.training.patience
    ) {
      state = await runEpoch(run, state);
    }
  } finally {
    await steps.dispose();
    run.calibration?.dispose();
    model.dispose();
    optimizer.dispose();
  }
  return state;
}

/** What the epochs of one phase share. */
interface PhaseRun {
  config: TrainingConfig;
  phase: Phase;
  phaseStart: number;
  data: { train: TrainingSplit; validation: TrainingSplit };
  runFolder: string;
  model: tfl.LayersModel;
  optimizer: tf.AdamOptimizer;
  steps: DataParallelSteps;
  /** What a crop epoch's batch-norm statistics are measured on before it is judged (see config). */
  calibration?: tf.Tensor4D;
  log: (message: string) => void;
}

/** Trains one epoch, judges it on the validation slices and checkpoints it; returns the new state. */
async function runEpoch(run: PhaseRun, state: TrainingState): Promise<TrainingState> {
  const { config, phase, phaseStart, data, runFolder, model, log } = run;
  const epoch = state.completedEpochs + 1;
  const started = Date.now();
  const { trainLoss, trainMapLoss } = await trainEpoch(run, epoch);
  const classifier = wholeSliceClassifier(model, config, data.train, run.calibration);
  const probabilities = await predictSplit(classifier.model, data.validation);
  const predictions = toPredictions(probabilities, data.validation.records);
  const seconds = (Date.now() - started) / 1000;
  const record: EpochRecord = {
    epoch,
    phase: phase.name,
    trainLoss,
    trainMapLoss,
    validationLoss: binaryCrossEntropy(predictions),
    validationAuc: areaUnderRoc(predictions),
    validationAucByContrast: aucByContrast(probabilities, data.validation.records),
    seconds,
    examplesPerSecond: (stepsPerEpoch(data.train, config) * config.training.batchSize) / seconds,
  };
  const improved = isBetter(phase, record, bestOfPhase(state, phase, phaseStart));
  const next: TrainingState = {
    ...state,
    completedEpochs: epoch,
    bestEpoch: improved ? epoch : state.bestEpoch,
    bestValidationLoss: improved ? record.validationLoss : state.bestValidationLoss,
    history: [...state.history, record],
  };
  await saveModel(model, join(runFolder, 'latest'));
  if (improved) await saveModel(classifier.model, join(runFolder, 'best'));
  classifier.release();
  await saveOptimizer(run.optimizer, runFolder);
  await writeFile(join(runFolder, 'state.json'), `${JSON.stringify(next, null, 2)}\n`);
  await appendFile(join(runFolder, 'training.log'), `${JSON.stringify(record)}\n`);
  const byContrast = Object.entries(record.validationAucByContrast ?? {})
    .map(([contrast, auc]) => `${contrast} ${auc.toFixed(4)}`)
    .join(', ');
  log(
    `epoch ${epoch} (${phase.name}): train BCE ${trainLoss.toFixed(4)} (map ${trainMapLoss.toFixed(4)}), validation BCE ${record.validationLoss.toFixed(4)}, AUC ${record.validationAuc.toFixed(4)} (${byContrast}), ${seconds.toFixed(0)} s${improved ? ' (best so far)' : ''}`
  );
  return next;
}

/** AUC of each contrast's slices; a contrast whose slices are all of one class has none. */
export function aucByContrast(
  probabilities: number[],
  records: ReadonlyArray<{ contrast: Contrast; positive: boolean }>
): Partial<Record<Contrast, number>> {
  const aucs = [...indicesByContrast(records)].map(([contrast, indices]) => {
    const predictions = toPredictions(
      indices.map(n => probabilities[n]),
      indices.map(n => records[n])
    );
    return [contrast, areaUnderRoc(predictions)] as const;
  });
  return Object.fromEntries(aucs.filter(([, auc]) => !Number.isNaN(auc)));
}

/**
 * Crop phases are judged by validation AUC: a crop-trained net's whole-slice probabilities are not
 * calibrated until it is fine-tuned on whole slices, so binary cross-entropy would favour its
 * least-trained epoch. Whole-slice phases are judged by binary cross-entropy, as candidates are.
 */
function isBetter(phase: Phase, record: EpochRecord, best: EpochRecord | undefined): boolean {
  if (!best) return true;
  return phase.cropSize
    ? record.validationAuc > best.validationAuc
    : record.validationLoss < best.validationLoss;
}

export function bestOfPhase(
  state: TrainingState,
  phase: Phase,
  phaseStart: number
): EpochRecord | undefined {
  return state.history
    .filter(record => record.epoch > phaseStart)
    .reduce<EpochRecord | undefined>(
      (best, record) => (isBetter(phase, record, best) ? record : best),
      undefined
    );
}

/** A seeded new model for the first phase; later phases start from the best weights so far. */
async function startingModel(
  config: TrainingConfig,
  phase: Phase,
  { size, channels }: TrainingSplit,
  phaseStart: number,
  runFolder: string
): Promise<tfl.LayersModel> {
  const input = { size: phase.cropSize ?? size, channels };
  const model = buildModel(config.architecture, input, config.training.seed, mapStrideOf(config));
  if (phaseStart === 0) return model;
  const best = await loadModel(join(runFolder, 'best'));
  model.setWeights(best.getWeights());
  best.dispose();
  return model;
}

/**
 * The slice classifier at whole-slice size with the training model's current weights: the model itself
 * when it trains on whole slices, else a twin built at slice size that takes over its weights, with
 * batch-norm statistics measured on the calibration examples when there are some.
 */
function wholeSliceClassifier(
  model: tfl.LayersModel,
  config: TrainingConfig,
  { size, channels }: TrainingSplit,
  calibration?: tf.Tensor4D
): { model: tfl.LayersModel; release: () => void } {
  if (model.inputs[0].shape[1] === size) return { model: classifierOf(model), release: () => {} };
  const twin = twinOf(model, config, { size, channels });
  if (calibration) {
    const measured = twinOf(model, config, { size: calibration.shape[1], channels });
    calibrateBatchNorm(measured, calibration);
    twin.setWeights(measured.getWeights());
    measured.dispose();
  }
  return { model: classifierOf(twin), release: () => twin.dispose() };
}

function twinOf(
  model: tfl.LayersModel,
  config: TrainingConfig,
  input: InputShape
): tfl.LayersModel {
  const twin = buildModel(config.architecture, input, 0, mapStrideOf(config));
  twin.setWeights(model.getWeights());
  return twin;
}

/**
 * The fixed examples of a crop phase's batch-norm calibration: crops drawn as its epochs draw them
 * (from a random stream of their own, so that the epochs' batches stay as they were), or whole
 * training slices spread evenly through the split.
 */
export function calibrationExamples(
  config: TrainingConfig,
  phase: Phase,
  split: TrainingSplit
): tf.Tensor4D | undefined {
  const calibration = config.training.batchNormCalibration;
  if (!phase.cropSize || !calibration) return undefined;
  const { size, channels } = split;
  if (calibration.from === 'wholeSlices') {
    const slices = evenlySpaced(split.records.length, calibration.examples);
    return tf.tensor4d(modelInputs(split, slices), [slices.length, size, size, channels]);
  }
  const random = new Random(`${config.training.seed}-batch-norm`);
  const pools = examplePools(split, config.training.cropContrasts);
  const indices = drawExamples(calibration.examples, pools, random, pool => pool.negatives);
  const crops = { size: phase.cropSize, brightNegatives: config.training.brightNegatives ?? 0 };
  const { x } = trainingBatch(split, indices, random, mapStrideOf(config), crops);
  return tf.tensor4d(x, [indices.length, phase.cropSize, phase.cropSize, channels]);
}

function mapStrideOf(config: TrainingConfig): MapStride {
  return config.mapStride ?? 8;
}

function stepsPerEpoch(split: TrainingSplit, config: TrainingConfig): number {
  return Math.ceil(split.records.length / config.training.batchSize);
}

/** Model pixels of tuber (at full fraction) that make a map cell fully positive: about 14 mm². */
const CELL_POSITIVE_PIXELS = 4;

/** One epoch of balanced batches (half positive, half negative slices), seeded by the epoch. */
async function trainEpoch(
  { model, steps, data, config, phase, log }: PhaseRun,
  epoch: number
): Promise<{ trainLoss: number; trainMapLoss: number }> {
  const split = data.train;
  const random = new Random(`${config.training.seed}-epoch-${epoch}`);
  const pools = examplePools(split, phase.cropSize ? config.training.cropContrasts : undefined);
  const share = phase.hardNegativeShare ?? 0;
  const hard = share > 0 ? await hardestNegatives(model, split) : [];
  const pickNegatives = (pool: ExamplePool) =>
    share > 0 && random.chance(share) ? hard : pool.negatives;
  const stepCount = stepsPerEpoch(split, config);
  const { batchSize, tuberCellWeight } = config.training;
  const crops = phase.cropSize
    ? { size: phase.cropSize, brightNegatives: config.training.brightNegatives ?? 0 }
    : undefined;
  let [sliceSum, mapSum] = [0, 0];
  const started = Date.now();
  for (let step = 0; step < stepCount; step++) {
    const batch = drawExamples(batchSize, pools, random, pickNegatives);
    const examples = trainingBatch(split, batch, random, mapStrideOf(config), crops);
    const losses = await steps.run(
      tuberCellWeight === undefined ? examples : { ...examples, tuberCellWeight }
    );
    sliceSum += losses.sliceLoss;
    mapSum += losses.mapLoss;
    if ((step + 1) % 50 === 0) {
      const rate = ((step + 1) * batchSize) / ((Date.now() - started) / 1000);
      log(
        `  epoch ${epoch} step ${step + 1}/${stepCount}: BCE ${(sliceSum / (step + 1)).toFixed(4)} (map ${(mapSum / (step + 1)).toFixed(4)}), ${rate.toFixed(1)} examples/s`
      );
    }
  }
  return { trainLoss: sliceSum / stepCount, trainMapLoss: mapSum / stepCount };
}

/** Share of each contrast's tuber-free slices that count as its hardest. */
const HARD_SHARE = 0.1;

/**
 * The tuber-free training slices the model now scores highest: the top tenth of each contrast's, so
 * that the contrast the model finds harder (T2) does not crowd out the other's look-alikes.
 */
export async function hardestNegatives(
  model: tfl.LayersModel,
  split: TrainingSplit
): Promise<number[]> {
  const probabilities = await predictSplit(classifierOf(model), split);
  const byContrast = new Map<string, number[]>();
  split.records.forEach((record, n) => {
    if (record.positive) return;
    const indices = byContrast.get(record.contrast) ?? [];
    indices.push(n);
    byContrast.set(record.contrast, indices);
  });
  return [...byContrast.values()].flatMap(indices =>
    indices
      .sort((a, b) => probabilities[b] - probabilities[a] || a - b)
      .slice(0, Math.max(1, Math.round(indices.length * HARD_SHARE)))
  );
}

/** Slices a batch draws from: its positive and negative examples, and the pool's share of draws. */
export interface ExamplePool {
  contrast?: Contrast;
  share: number;
  positives: number[];
  negatives: number[];
}

/**
 * One pool of all the split's slices; or, with contrast shares, one pool per contrast named, whose
 * examples are drawn at its share of the shares' sum.
 */
export function examplePools(
  split: TrainingSplit,
  contrastShares?: Partial<Record<Contrast, number>>
): ExamplePool[] {
  if (!contrastShares) return [poolOf(split, 1)];
  const entries = Object.entries(contrastShares) as Array<[Contrast, number]>;
  const total = entries.reduce((sum, [, share]) => sum + share, 0);
  return entries.map(([contrast, share]) => poolOf(split, share / total, contrast));
}

function poolOf(split: TrainingSplit, share: number, contrast?: Contrast): ExamplePool {
  const indicesWhere = (positive: boolean) => {
    const indices = split.records.flatMap((record, n) =>
      record.positive === positive && (!contrast || record.contrast === contrast) ? [n] : []
    );
    if (indices.length === 0) {
      const kind = [positive ? 'positive' : 'negative', contrast].filter(Boolean).join(' ');
      throw new Error(`The training split has no ${kind} slice.`);
    }
    return indices;
  };
  return { contrast, share, positives: indicesWhere(true), negatives: indicesWhere(false) };
}

/**
 * `count` training examples, alternately with tuber and without, each from a pool drawn at its share.
 * With one pool no random number is drawn for the pool, so earlier configs keep their exact batches.
 */
function drawExamples(
  count: number,
  pools: ExamplePool[],
  random: Random,
  negativesOf: (pool: ExamplePool) => number[]
): number[] {
  return Array.from({ length: count }, (_, n) => {
    const pool = pools.length === 1 ? pools[0] : pickByShare(pools, random);
    const indices = n % 2 === 0 ? pool.positives : negativesOf(pool);
    return indices[random.integer(0, indices.length - 1)];
  });
}

function pickByShare(pools: ExamplePool[], random: Random): ExamplePool {
  let draw = random.uniform(0, 1);
  for (const pool of pools) {
    draw -= pool.share;
    if (draw < 0) return pool;
  }
  return pools[pools.length - 1];
}

interface Window {
  top: number;
  left: number;
  size: number;
}

/**
 * Inputs, labels and tuber-map targets of a batch. With a crop size, each example is a window of its
 * slice: around a random tuber pixel for slices with tuber, anywhere in the head otherwise, labelled by
 * the tuber area inside it. Every example is randomly mirrored left–right (image and mask together)
 * and its gain jittered.
 */
function trainingBatch(
  split: TrainingSplit,
  indices: number[],
  random: Random,
  mapStride: MapStride,
  crops?: CropSpec
): TrainingBatch {
  const size = crops?.size ?? split.size;
  const cells = size / mapStride;
  const values = size * size * split.channels;
  const x = new Float32Array(indices.length * values);
  const maps = new Float32Array(indices.length * cells * cells);
  const labels = new Float32Array(indices.length);
  indices.forEach((index, n) => {
    const window = crops ? cropWindow(split, index, crops, random) : fullWindow(split);
    const tuberPixels = copyWindow(split, index, window, random, mapStride, {
      x: x.subarray(n * values, (n + 1) * values),
      map: maps.subarray(n * cells * cells, (n + 1) * cells * cells),
    });
    labels[n] = crops
      ? Math.min(1, (tuberPixels * pixelAreaMm2(split)) / POSITIVE_AREA_MM2)
      : Number(split.records[index].positive);
  });
  return {
    size,
    channels: split.channels,
    cells,
    x,
    labels,
    maps: maps.map(v => Math.min(1, v / CELL_POSITIVE_PIXELS)),
  };
}

function pixelAreaMm2(split: TrainingSplit): number {
  return (DEFAULT_PREPROCESSING.fieldOfViewMm / split.size) ** 2;
}

function fullWindow(split: TrainingSplit): Window {
  return { top: 0, left: 0, size: split.size };
}

interface CropSpec {
  size: number;
  /** See TrainingConfig.training.brightNegatives. */
  brightNegatives: number;
}

/**
 * A crop around a random tuber pixel (anywhere in it but its outer eighth); on a tuber-free slice, around
 * a random head pixel, or, for a `brightNegatives` share, one of the head's brightest pixels.
 */
function cropWindow(
  split: TrainingSplit,
  index: number,
  { size, brightNegatives }: CropSpec,
  random: Random
): Window {
  const pixels = split.size * split.size;
  const mask = split.masks.subarray(index * pixels, (index + 1) * pixels);
  const image = middleChannel(split, index);
  const tuber = pixelsWhere(mask, value => value >= 128);
  const level = random.chance(brightNegatives) ? brightLevel(image) : HEAD_LEVEL;
  const centres = tuber.length > 0 ? tuber : pixelsWhere(image, value => value >= level);
  const centre = centres.length > 0 ? centres[random.integer(0, centres.length - 1)] : pixels / 2;
  const margin = size / 8;
  const place = (at: number) =>
    Math.max(
      0,
      Math.min(split.size - size, at - Math.round(random.uniform(margin, size - margin)))
    );
  return { top: place(Math.floor(centre / split.size)), left: place(centre % split.size), size };
}

/** The stored slice itself, without its neighbours. */
function middleChannel(split: TrainingSplit, index: number): Uint8Array {
  const pixels = split.size * split.size;
  const { channels } = split;
  const image = split.images.subarray(index * pixels * channels, (index + 1) * pixels * channels);
  if (channels === 1) return image;
  const middle = (channels - 1) / 2;
  return Uint8Array.from({ length: pixels }, (_, pixel) => image[pixel * channels + middle]);
}

/** Stored image level of the head: 0.1 of the normalised range. */
const HEAD_LEVEL = Math.round((0.1 / UPPER_CLIP) * 255);
/** Share of the head's pixels that count as its brightest. */
const BRIGHT_SHARE = 0.03;

/** The stored level above which lie the brightest BRIGHT_SHARE of the slice's head pixels. */
export function brightLevel(image: Uint8Array): number {
  const histogram = new Array<number>(256).fill(0);
  for (const value of image) if (value >= HEAD_LEVEL) histogram[value]++;
  const head = histogram.reduce((sum, count) => sum + count, 0);
  let above = 0;
  for (let level = 255; level > HEAD_LEVEL; level--) {
    above += histogram[level];
    if (above >= head * BRIGHT_SHARE) return level;
  }
  return HEAD_LEVEL;
}

function pixelsWhere(values: Uint8Array, test: (value: number) => boolean): number[] {
  const found: number[] = [];
  values.forEach((value, n) => {
    if (test(value)) found.push(n);
  });
  return found;
}

/**
 * Writes the window's mirrored, gain-jittered pixels into `x` and its tuber fraction per map cell into
 * `map`; returns the window's tuber area in model pixels.
 */
function copyWindow(
  split: TrainingSplit,
  index: number,
  { top, left, size }: Window,
  random: Random,
  mapStride: MapStride,
  out: { x: Float32Array; map: Float32Array }
): number {
  const pixels = split.size * split.size;
  const { channels } = split;
  const image = split.images.subarray(index * pixels * channels, (index + 1) * pixels * channels);
  const mask = split.masks.subarray(index * pixels, (index + 1) * pixels);
  const cells = size / mapStride;
  const mirror = random.chance(0.5);
  const gain = (random.uniform(0.9, 1.1) * UPPER_CLIP) / 255;
  let tuberPixels = 0;
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      const from = (top + row) * split.size + left + (mirror ? size - 1 - column : column);
      const fraction = mask[from] / 255;
      for (let channel = 0; channel < channels; channel++)
        out.x[(row * size + column) * channels + channel] = image[from * channels + channel] * gain;
      out.map[Math.floor(row / mapStride) * cells + Math.floor(column / mapStride)] += fraction;
      tuberPixels += fraction;
    }
  }
  return tuberPixels;
}

/** Slice probabilities of a whole split, in batches, without augmentation. */
export async function predictSplit(
  model: tfl.LayersModel,
  split: TrainingSplit,
  batchSize = 64
): Promise<number[]> {
  const { size, channels } = split;
  const probabilities: number[] = [];
  for (let start = 0; start < split.records.length; start += batchSize) {
    const count = Math.min(batchSize, split.records.length - start);
    const x = modelInputs(
      split,
      Array.from({ length: count }, (_, n) => start + n)
    );
    const output = tf.tidy(
      () => model.predict(tf.tensor4d(x, [count, size, size, channels])) as tf.Tensor
    );
    probabilities.push(...(await output.data()));
    output.dispose();
  }
  return probabilities;
}

async function saveOptimizer(optimizer: tf.Optimizer, runFolder: string): Promise<void> {
  const weights = await optimizer.getWeights();
  // getWeights returns the iteration count as a new tensor; the moments are the optimizer's own.
  const iterations = weights.find(weight => weight.name === 'iter');
  const { data, specs } = await tf.io.encodeWeights(weights);
  await writeFile(
    join(runFolder, 'optimizer.bin'),
    Buffer.from(tf.io.concatenateArrayBuffers(Array.isArray(data) ? data : [data]))
  );
  await writeFile(join(runFolder, 'optimizer.json'), JSON.stringify(specs));
  iterations?.tensor.dispose();
}

async function restoreOptimizer(optimizer: tf.AdamOptimizer, runFolder: string): Promise<void> {
  const specs = JSON.parse(
    await readFile(join(runFolder, 'optimizer.json'), 'utf8')
  ) as tf.io.WeightsManifestEntry[];
  const bytes = await readFile(join(runFolder, 'optimizer.bin'));
  const decoded = tf.io.decodeWeights(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    specs
  );
  await optimizer.setWeights(Object.entries(decoded).map(([name, tensor]) => ({ name, tensor })));
  tf.dispose(Object.values(decoded));
  restoreStepwiseBetaPowers(optimizer);
}

/**
 * Adam's bias corrections use β₁ᵗ and β₂ᵗ, which every training step multiplies by β once more, but
 * which tfjs' setWeights recomputes with pow(): the two differ in the last bits, and a resumed run
 * would drift away from one that ran straight through. This rebuilds them step by step, as float32
 * products (Math.fround rounds each exact product of two float32 values as the backend does).
 */
function restoreStepwiseBetaPowers(optimizer: tf.AdamOptimizer): void {
  const adam = optimizer as unknown as Record<'accBeta1' | 'accBeta2', tf.Variable> &
    Record<'beta1' | 'beta2', number>;
  const stepwisePower = (beta: number) => {
    const factor = Math.fround(beta);
    let power = factor;
    for (let step = 0; step < optimizer.iterations; step++) power = Math.fround(power * factor);
    return power;
  };
  tf.tidy(() => {
    adam.accBeta1.assign(tf.scalar(stepwisePower(adam.beta1)));
    adam.accBeta2.assign(tf.scalar(stepwisePower(adam.beta2)));
  });
}
