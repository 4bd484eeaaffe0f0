/**
 * Model selection as the 2020 study did it: the candidate with the lowest validation BCE wins. The
 * loss is measured on the evaluation's validation brains (the ones the thresholds are chosen on), not
 * taken from training's log: training monitors fewer brains and chose each candidate's best epoch on
 * them, so its lowest loss there is partly luck.
 */
import { join } from 'node:path';
import { binaryCrossEntropy, toPredictions } from './metrics';
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
