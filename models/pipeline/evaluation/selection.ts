/**
 * Model selection as the 2020 study did it: the candidate with the lowest validation BCE wins. The
 * loss is measured on the evaluation's validation brains (the ones the thresholds are chosen on), not
 * taken from training's log: training monitors fewer brains and chose each candidate's best epoch on
 * them, so its lowest loss there is partly luck.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { binaryCrossEntropy, toPredictions } from './metrics';
import type { CandidateSummary } from './report';
import { ConfigError, type TrainingConfig } from '../training/config';
import { loadModel } from '../training/modelFiles';
import { predictSplit, type TrainingState } from '../training/train';
import { labelledSlices, type TrainingSplit } from '../training/trainingSet';

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
    const probabilities = await predictSplit(model, labelled);
    model.dispose();
    const predictions = toPredictions(probabilities, labelled.records);
    const selectionLoss = binaryCrossEntropy(predictions);
    log(
      `${candidate.configPath}: validation BCE ${selectionLoss.toFixed(4)} on ${predictions.length} slices.`
    );
    scored.push({ ...candidate, selectionLoss });
  }
  return scored;
}

export function selectCandidate(candidates: ScoredCandidate[]): ScoredCandidate {
  return candidates.reduce((best, candidate) =>
    candidate.selectionLoss < best.selectionLoss ? candidate : best
  );
}

/** The selection that made the shipped package, as its report.json records it. */
export interface ShippedSelection {
  version: string;
  selectionLoss: number;
  candidates: CandidateSummary[];
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

/**
 * The shipped package's selection when its report shows it was made on the same validation set (by
 * validationSetDigest), so that its losses compare with new candidates'; undefined otherwise.
 */
export function comparableShippedSelection(
  report: unknown,
  validationSet: string
): ShippedSelection | undefined {
  const recorded = report as Partial<ShippedSelection & { validationSet: string }>;
  if (
    recorded?.validationSet !== validationSet ||
    typeof recorded.version !== 'string' ||
    typeof recorded.selectionLoss !== 'number'
  )
    return undefined;
  const version = recorded.version;
  return {
    version,
    selectionLoss: recorded.selectionLoss,
    candidates: (recorded.candidates ?? []).map(c => ({ ...c, scoredFor: c.scoredFor ?? version })),
  };
}

/** How a new selection stands against the package it would replace. */
export type AgainstShipped =
  | { outcome: 'no package' }
  | { outcome: 'not comparable' }
  | { outcome: 'not beaten' | 'beaten'; shipped: ShippedSelection };

/** `report` is the shipped package's report.json, undefined where there is no package. */
export function againstShipped(
  report: unknown,
  validationSet: string,
  selectionLoss: number
): AgainstShipped {
  if (report === undefined) return { outcome: 'no package' };
  const shipped = comparableShippedSelection(report, validationSet);
  if (!shipped) return { outcome: 'not comparable' };
  return { outcome: selectionLoss < shipped.selectionLoss ? 'beaten' : 'not beaten', shipped };
}

/** This selection's candidates, then the shipped selection's that were not scored again. */
export function candidateTable(
  scored: CandidateSummary[],
  shipped: ShippedSelection | undefined
): CandidateSummary[] {
  const labels = new Set(scored.map(candidate => candidate.architecture));
  const carried = shipped?.candidates.filter(candidate => !labels.has(candidate.architecture));
  return [...scored, ...(carried ?? [])];
}
