/** Model selection as the 2020 study did it: the candidate with the lowest validation BCE wins. */
import { ConfigError, type TrainingConfig } from '../training/config';
import type { TrainingState } from '../training/train';

export interface Candidate {
  configPath: string;
  config: TrainingConfig;
  runFolder: string;
  state: TrainingState;
}

/** Candidates must share the package name and the data, so that their validation losses compare. */
export function selectCandidate(candidates: Candidate[]): Candidate {
  const [first] = candidates;
  for (const other of candidates) {
    if (other.config.name !== first.config.name)
      throw new ConfigError(`${other.configPath} names another model than ${first.configPath}.`);
    if (JSON.stringify(other.config.data) !== JSON.stringify(first.config.data))
      throw new ConfigError(`${other.configPath} trains on other data than ${first.configPath}.`);
  }
  return candidates.reduce((best, candidate) =>
    candidate.state.bestValidationLoss < best.state.bestValidationLoss ? candidate : best
  );
}
