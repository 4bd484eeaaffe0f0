import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  DEFAULT_PREPROCESSING,
  preprocessingFingerprint,
} from '../../../extension/src/core/preprocessing';
import type { Split } from '../synthesis/dataset';
import type { Acquisition } from '../synthesis/render';
import type { Contrast } from '../synthesis/types';
import { ARCHITECTURES, MAP_STRIDES, type Architecture, type MapStride } from './architectures';
import { SPLITS, type TrainingSetSpec } from './trainingSet';

export interface TrainingConfig {
  name: string;
  architecture: Architecture;
  /** Input pixels per tuber-map cell (see architectures.ts); 8 when left out. */
  mapStride?: MapStride;
  data: {
    labelMapsDir: string;
    seed: string;
    /** SynthSeg label map numbers per split: a brain never serves two splits. */
    labelMaps: Record<Split, number[]>;
    subjects: Record<Split, number>;
    contrasts: Contrast[];
    acquisition?: Partial<Acquisition>;
    /**
     * Adjacent slices of the scanner's series on either side of each slice, given to the model as
     * extra channels (2.5D); 0 or left out for the slice alone.
     */
    neighbours?: number;
  };
  training: {
    epochs: number;
    batchSize: number;
    learningRate: number;
    patience: number;
    seed: number;
    /**
     * Train on square windows of this many pixels (a multiple of 8) cut from the slices instead of whole
     * slices: about (size / cropSize)² times faster per example. The candidates are fully
     * convolutional up to their highest-cell head, so the weights serve whole slices unchanged.
     */
    cropSize?: number;
    /**
     * Share of the crops from tuber-free slices centred on the slice's brightest head pixels instead of
     * anywhere in the head: on T2 those are CSF, the look-alike that a tuber must be told from.
     */
    brightNegatives?: number;
    /**
     * Share of the crop epochs' examples drawn from each contrast's slices (relative weights; every
     * contrast of the data when left out, as the slices come). Lets a recipe dwell on the contrast it
     * finds harder (T2) without dropping the other.
     */
    cropContrasts?: Partial<Record<Contrast, number>>;
    /**
     * How many times a tuber cell's cross-entropy counts in the tuber-map loss against a tuber-free
     * cell's (1 when left out). Most cells of most examples hold no tuber; weighting the few that do
     * makes the map loss dense in the tubers themselves.
     */
    tuberCellWeight?: number;
    /**
     * Before each crop epoch is judged on whole validation slices, measure its batch-normalisation
     * statistics on this many fixed examples (see batchNormCalibration.ts) instead of keeping the
     * moving averages of its last training batches: crops drawn as the crop epochs draw them, or
     * whole training slices spread evenly through the split. The weights kept as the best carry them
     * into the next phase.
     */
    batchNormCalibration?: { examples: number; from: 'crops' | 'wholeSlices' };
    /**
     * After the crop epochs, more crop epochs from the best crop weights at a lower learning rate,
     * before whole-slice fine-tuning.
     */
    cropAnnealing?: { epochs: number; learningRate: number };
    /**
     * Parts each batch is cut into, whose gradients are computed in parallel threads (see
     * dataParallel.ts); 1 (default) trains on one thread. Batch normalisation sees each part on its
     * own, so this is part of the recipe, not a machine setting.
     */
    shares?: number;
    /** After the crop epochs, whole-slice epochs from the best crop weights (see train.ts). */
    fineTune?: { epochs: number; learningRate: number };
    /**
     * After fine-tuning, whole-slice epochs in which this `share` of the tuber-free examples come from
     * the hardest tuber-free slices: those the model scores highest (see train.ts). A series is
     * called by its highest slice, so one look-alike slice decides a control brain.
     */
    hardNegatives?: { epochs: number; learningRate: number; share: number };
  };
  evaluation?: {
    /**
     * Validation brains the thresholds are chosen on: training's own validation subjects and more from
     * the same label maps (subjects are numbered, so the first `data.subjects.validation` are
     * training's). A threshold picked on more brains is steadier, and training is left as it was.
     */
    validationSubjects?: number;
  };
}

const ROOT = resolve(__dirname, '..', '..', '..');

export class ConfigError extends Error {}

export function readTrainingConfig(path: string): TrainingConfig {
  let config: TrainingConfig;
  try {
    config = JSON.parse(readFileSync(path, 'utf8')) as TrainingConfig;
  } catch (error) {
    throw new ConfigError(`cannot read the training config ${path}: ${(error as Error).message}`);
  }
  if (!ARCHITECTURES.includes(config.architecture)) {
    throw new ConfigError(`${path}: architecture must be one of ${ARCHITECTURES.join(', ')}`);
  }
  if (config.mapStride !== undefined && !MAP_STRIDES.includes(config.mapStride)) {
    throw new ConfigError(`${path}: mapStride must be one of ${MAP_STRIDES.join(', ')}`);
  }
  const { neighbours } = config.data;
  if (neighbours !== undefined && !(Number.isInteger(neighbours) && neighbours >= 0))
    throw new ConfigError(`${path}: data.neighbours must be a whole number, 0 or more`);
  const { shares, batchSize } = config.training;
  if (shares !== undefined && !(Number.isInteger(shares) && shares >= 1 && shares <= batchSize))
    throw new ConfigError(
      `${path}: training.shares must be a whole number from 1 to training.batchSize (${batchSize})`
    );
  checkCropRecipe(path, config);
  const share = config.training.hardNegatives?.share;
  if (share !== undefined && !(share > 0 && share <= 1))
    throw new ConfigError(`${path}: training.hardNegatives.share must lie in (0, 1]`);
  const validationSubjects = config.evaluation?.validationSubjects;
  if (
    validationSubjects !== undefined &&
    !(Number.isInteger(validationSubjects) && validationSubjects >= config.data.subjects.validation)
  )
    throw new ConfigError(
      `${path}: evaluation.validationSubjects must be a whole number of at least data.subjects.validation (${config.data.subjects.validation})`
    );
  const used = SPLITS.flatMap(split => config.data.labelMaps[split] ?? []);
  if (new Set(used).size !== used.length)
    throw new ConfigError(`${path}: a label map is listed in two splits`);
  return config;
}

function checkCropRecipe(path: string, { data, training }: TrainingConfig): void {
  const { cropContrasts, tuberCellWeight, cropAnnealing, cropSize } = training;
  if ((cropContrasts || cropAnnealing) && !cropSize)
    throw new ConfigError(
      `${path}: training.cropContrasts and training.cropAnnealing need training.cropSize`
    );
  if (cropContrasts) {
    const entries = Object.entries(cropContrasts);
    const unknown = entries.find(([contrast]) => !data.contrasts.includes(contrast as Contrast));
    if (unknown)
      throw new ConfigError(
        `${path}: training.cropContrasts names ${unknown[0]}, which data.contrasts (${data.contrasts.join(', ')}) does not render`
      );
    if (entries.length === 0 || entries.some(([, share]) => !(share > 0)))
      throw new ConfigError(
        `${path}: training.cropContrasts must give each contrast a share above 0`
      );
  }
  const calibration = training.batchNormCalibration;
  if (calibration) checkBatchNormCalibration(path, calibration, cropSize);
  if (tuberCellWeight !== undefined && !(tuberCellWeight >= 1))
    throw new ConfigError(`${path}: training.tuberCellWeight must be 1 or more`);
}

function checkBatchNormCalibration(
  path: string,
  { examples, from }: NonNullable<TrainingConfig['training']['batchNormCalibration']>,
  cropSize: number | undefined
): void {
  if (!cropSize)
    throw new ConfigError(`${path}: training.batchNormCalibration needs training.cropSize`);
  if (!(Number.isInteger(examples) && examples >= 1))
    throw new ConfigError(
      `${path}: training.batchNormCalibration.examples must be a whole number, 1 or more`
    );
  if (!['crops', 'wholeSlices'].includes(from))
    throw new ConfigError(
      `${path}: training.batchNormCalibration.from must be "crops" or "wholeSlices"`
    );
}

export function trainingSetSpec(config: TrainingConfig): TrainingSetSpec {
  const folder = resolve(ROOT, config.data.labelMapsDir);
  const file = (n: number) => join(folder, `training_seg_${String(n).padStart(2, '0')}.nii.gz`);
  return {
    seed: config.data.seed,
    labelMaps: Object.fromEntries(
      SPLITS.map(split => [split, config.data.labelMaps[split].map(file)])
    ) as Record<Split, string[]>,
    subjects: config.data.subjects,
    contrasts: config.data.contrasts,
    preprocessing: DEFAULT_PREPROCESSING,
    acquisition: config.data.acquisition,
    ...(config.data.neighbours ? { neighbours: config.data.neighbours } : {}),
  };
}

/**
 * The set evaluation selects the candidate and chooses thresholds on: training's, with the validation
 * split grown as configured.
 */
export function evaluationSetSpec(config: TrainingConfig): TrainingSetSpec {
  const spec = trainingSetSpec(config);
  const validation = config.evaluation?.validationSubjects ?? spec.subjects.validation;
  return { ...spec, subjects: { ...spec.subjects, validation } };
}

/** Bumped whenever what a rendered set holds changes (2: ambiguous slices kept and flagged). */
const TRAINING_SET_FORMAT = 2;

/**
 * Where a training set is cached: a hash of everything that shapes it: the spec, the synthesis engine's
 * sources and the preprocessing's fingerprint (versioned by hand, so that edits to the preprocessing
 * module that leave its output alone keep the cache).
 */
export function trainingSetFolder(spec: TrainingSetSpec): string {
  const hash = createHash('sha256').update(JSON.stringify(spec));
  const synthesis = join(ROOT, 'models', 'pipeline', 'synthesis');
  for (const name of [
    'subject.ts',
    'render.ts',
    'tubers.ts',
    'contrast.ts',
    'labels.ts',
    'anatomy.ts',
  ]) {
    hash.update(readFileSync(join(synthesis, name)));
  }
  hash.update(`training-set format ${TRAINING_SET_FORMAT}`);
  hash.update(preprocessingFingerprint(spec.preprocessing));
  return join(ROOT, '.cache', 'training-sets', hash.digest('hex').slice(0, 12));
}
