/**
 * Model selection as the 2020 study did it: the candidate with the lowest validation BCE wins. The
 * loss is measured on the evaluation's validation brains (the ones the thresholds are chosen on), not
 * taken from training's log: training monitors fewer brains and chose each candidate's best epoch on
 * them, so its lowest loss there is partly luck.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  parseEngineModelCard,
  type EngineModelCard,
} from '../../../extension/src/core/engine/modelPackage';
import { MODEL_CARD_FILE } from '../../../extension/src/core/modelAvailability';
import {
  DEFAULT_PREPROCESSING,
  preprocessingFingerprint,
} from '../../../extension/src/core/preprocessing';
import { binaryCrossEntropy, toPredictions } from './metrics';
import type { CandidateSummary } from './report';
import { ConfigError, type TrainingConfig } from '../training/config';
import { loadModel } from '../training/modelFiles';
import { predictSplit, type TrainingState } from '../training/train';
import { centreChannels, labelledSlices, type TrainingSplit } from '../training/trainingSet';

export interface Candidate {
  configPath: string;
  config: TrainingConfig;
  runFolder: string;
  state: TrainingState;
}

export interface ScoredCandidate extends Candidate {
  /** Binary cross-entropy of the best checkpoint on the evaluation's validation slices. */
  selectionLoss: number;
}

/** Candidates must share the package name, the data and the evaluation, so that their losses compare. */
export function assertComparable(candidates: Candidate[]): void {
  const [first] = candidates;
  for (const other of candidates) {
    if (other.config.name !== first.config.name)
      throw new ConfigError(`${other.configPath} names another model than ${first.configPath}.`);
    if (JSON.stringify(other.config.data) !== JSON.stringify(first.config.data))
      throw new ConfigError(`${other.configPath} trains on other data than ${first.configPath}.`);
    if (JSON.stringify(other.config.evaluation) !== JSON.stringify(first.config.evaluation))
      throw new ConfigError(`${other.configPath} is evaluated otherwise than ${first.configPath}.`);
  }
}

/** Each candidate's best checkpoint scored on the validation split's clearly labelled slices. */
export async function scoreCandidates(
  candidates: Candidate[],
  validation: TrainingSplit,
  log: (line: string) => void = () => {}
): Promise<ScoredCandidate[]> {
  const labelled = labelledSlices(validation);
  const scored: ScoredCandidate[] = [];
  for (const candidate of candidates) {
    const model = await loadModel(join(candidate.runFolder, 'best'));
    const selectionLoss = await validationLoss(model, labelled);
    model.dispose();
    log(
      `${candidate.configPath}: validation BCE ${selectionLoss.toFixed(4)} on ${labelled.records.length} slices.`
    );
    scored.push({ ...candidate, selectionLoss });
  }
  return scored;
}

/** Binary cross-entropy of the model's slice probabilities on the (labelled) slices. */
async function validationLoss(model: tfl.LayersModel, labelled: TrainingSplit): Promise<number> {
  const probabilities = await predictSplit(model, labelled);
  return binaryCrossEntropy(toPredictions(probabilities, labelled.records));
}

export function selectCandidate(candidates: ScoredCandidate[]): ScoredCandidate {
  return candidates.reduce((best, candidate) =>
    candidate.selectionLoss < best.selectionLoss ? candidate : best
  );
}

/**
 * What the validation split holds, labels and model inputs alike: two selections compare when their
 * digests match, however their sets were named or cached.
 */
export function validationSetDigest(split: TrainingSplit): string {
  return createHash('sha256')
    .update(JSON.stringify({ size: split.size, channels: split.channels, records: split.records }))
    .update(split.images)
    .update(split.masks)
    .digest('hex');
}

/** The shipped package in models/<name>/: its card and the label maps it was trained on. */
export interface ShippedPackage {
  folder: string;
  card: EngineModelCard;
  trainingMaps: number[];
  /** Its report.json, if it has one. */
  report: unknown;
}

/** A package folder whose card or report cannot be read, and why. */
export interface UnreadablePackage {
  folder: string;
  unreadable: string;
}

/** The package in `folder`; undefined when it has no model card. */
export async function readShippedPackage(
  folder: string
): Promise<ShippedPackage | UnreadablePackage | undefined> {
  const cardPath = join(folder, MODEL_CARD_FILE);
  if (!existsSync(cardPath)) return undefined;
  try {
    const json = (await readJson(cardPath)) as {
      trainingData?: { labelMaps?: { train?: number[] } };
    };
    const reportPath = join(folder, 'report.json');
    return {
      folder,
      card: parseEngineModelCard(json),
      trainingMaps: json.trainingData?.labelMaps?.train ?? [],
      report: existsSync(reportPath) ? await readJson(reportPath) : undefined,
    };
  } catch (error) {
    return { folder, unreadable: (error as Error).message.replace(/\.$/, '') };
  }
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new Error(`${basename(path)} is not valid JSON (${(error as Error).message})`);
  }
}

/**
 * Why the shipped package's model cannot be scored on this validation split; undefined when it can: it
 * preprocesses as the set does, at the set's size, reads no more neighbours than the set holds, and
 * was trained on none of the label maps the set validates on.
 */
export function whyUnscorable(
  { card, trainingMaps }: ShippedPackage,
  validation: TrainingSplit,
  validationMaps: number[]
): string | undefined {
  const [size, , channels] = card.input.shape;
  const fingerprint = preprocessingFingerprint(DEFAULT_PREPROCESSING);
  if (card.input.preprocessing !== fingerprint)
    return `it preprocesses as "${card.input.preprocessing}", these slices as "${fingerprint}"`;
  if (size !== validation.size) return `it reads ${size}² slices, these are ${validation.size}²`;
  if (channels > validation.channels)
    return `it reads ${channels} slices per input, these hold ${validation.channels}`;
  const seen = validationMaps.filter(map => trainingMaps.includes(map));
  if (seen.length > 0)
    return `it was trained on label map${seen.length > 1 ? 's' : ''} ${seen.join(', ')}, which these brains come from`;
  return undefined;
}

/** The shipped package's model on this evaluation's validation slices, or why it cannot be scored. */
export type ShippedScore =
  { version: string; selectionLoss: number } | { version?: string; unscorable: string };

/**
 * The shipped package scored as the candidates are, on the same validation slices (given the centre
 * channels when it reads fewer neighbours than they hold), so that a new selection must beat the
 * model in use on the very brains it was selected on.
 */
export async function scoreShipped(
  shipped: ShippedPackage | UnreadablePackage,
  validation: TrainingSplit,
  validationMaps: number[]
): Promise<ShippedScore> {
  if ('unreadable' in shipped) return { unscorable: shipped.unreadable };
  const { version } = shipped.card;
  const unscorable = whyUnscorable(shipped, validation, validationMaps);
  if (unscorable) return { version, unscorable };
  let model: tfl.LayersModel;
  try {
    model = await loadModel(shipped.folder);
  } catch (error) {
    return { version, unscorable: `its model cannot be loaded: ${(error as Error).message}` };
  }
  const selectionLoss = await validationLoss(
    model,
    centreChannels(labelledSlices(validation), shipped.card.input.shape[2])
  );
  model.dispose();
  return { version, selectionLoss };
}

/** How a new selection stands against the package it would replace. */
export type AgainstShipped =
  | { outcome: 'no package' }
  | { outcome: 'not comparable'; version?: string; reason: string }
  | { outcome: 'not beaten' | 'beaten'; version: string; selectionLoss: number };

export function againstShipped(
  shipped: ShippedScore | undefined,
  selectionLoss: number
): AgainstShipped {
  if (!shipped) return { outcome: 'no package' };
  if ('unscorable' in shipped)
    return { outcome: 'not comparable', version: shipped.version, reason: shipped.unscorable };
  const outcome = selectionLoss < shipped.selectionLoss ? 'beaten' : 'not beaten';
  return { outcome, version: shipped.version, selectionLoss: shipped.selectionLoss };
}

/**
 * The candidates of the shipped package's report, marked with the version that scored them, when that
 * report was made on the same validation set (by validationSetDigest); none otherwise.
 */
export function carriedCandidates(report: unknown, validationSet: string): CandidateSummary[] {
  const recorded = report as
    Partial<{ version: string; validationSet: string; candidates: CandidateSummary[] }> | undefined;
  const version = recorded?.version;
  if (recorded?.validationSet !== validationSet || typeof version !== 'string') return [];
  return (recorded.candidates ?? []).map(c => ({ ...c, scoredFor: c.scoredFor ?? version }));
}

/** This selection's candidates, then the carried ones that were not scored again. */
export function candidateTable(
  scored: CandidateSummary[],
  carried: CandidateSummary[]
): CandidateSummary[] {
  const labels = new Set(scored.map(candidate => candidate.architecture));
  return [...scored, ...carried.filter(candidate => !labels.has(candidate.architecture))];
}
