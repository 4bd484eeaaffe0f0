import { ConfigError } from '../../../models/pipeline/training/config';
import { selectCandidate, type Candidate } from '../../../models/pipeline/evaluation/selection';
import { toyConfig } from '../../fixtures/toyTrainingSet';

function candidate(architecture: Candidate['config']['architecture'], loss: number): Candidate {
  return {
    configPath: `${architecture}.json`,
    config: { ...toyConfig(4), architecture },
    runFolder: architecture,
    state: { completedEpochs: 4, bestEpoch: 2, bestValidationLoss: loss, history: [] },
  };
}

test('the candidate with the lowest validation BCE is selected', () => {
  const selected = selectCandidate([
    candidate('plain', 0.31),
    candidate('residual', 0.27),
    candidate('inception', 0.4),
  ]);
  expect(selected.config.architecture).toBe('residual');
});

test('candidates trained on other data or for another package are not compared', () => {
  const other = candidate('residual', 0.2);
  other.config = { ...other.config, data: { ...other.config.data, seed: 'other' } };
  expect(() => selectCandidate([candidate('plain', 0.3), other])).toThrow(ConfigError);
  const renamed = candidate('inception', 0.2);
  renamed.config = { ...renamed.config, name: 'another-net' };
  expect(() => selectCandidate([candidate('plain', 0.3), renamed])).toThrow(/another model/);
});
