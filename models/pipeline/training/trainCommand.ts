// npm run train -- --config models/configs/<name>.json [--backend wasm|cpu]
// Renders (or reuses) the config's training set, then trains or resumes the candidate. Stop it at any
// time: the next run resumes after the last completed epoch.
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initialiseNodeBackend, type NodeBackendName } from '../tfBackend';
import { ConfigError, readTrainingConfig, trainingSetFolder, trainingSetSpec } from './config';
import { trainCandidate } from './train';
import { ensureTrainingSet, labelledSlices, loadTrainingSplit } from './trainingSet';

const ROOT = resolve(__dirname, '..', '..', '..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { config: { type: 'string' }, backend: { type: 'string', default: 'wasm' } },
  });
  if (!values.config) throw new ConfigError('--config <file> is required');
  const config = readTrainingConfig(values.config);
  const log = (message: string) => console.log(`${new Date().toISOString()} ${message}`);
  const backend = await initialiseNodeBackend(values.backend as NodeBackendName);
  log(`Backend: ${backend}.`);
  const spec = trainingSetSpec(config);
  const folder = trainingSetFolder(spec);
  await ensureTrainingSet(spec, folder, log);
  const [train, validation] = (
    await Promise.all([loadTrainingSplit(folder, 'train'), loadTrainingSplit(folder, 'validation')])
  ).map(labelledSlices);
  const count = (split: typeof train) =>
    `${split.records.length} slices (${split.records.filter(r => r.positive).length} positive)`;
  log(`Training set ${basename(folder)}: train ${count(train)}, validation ${count(validation)}.`);
  const runFolder = join(ROOT, '.cache', 'runs', basename(values.config, '.json'));
  const state = await trainCandidate(config, { train, validation }, runFolder, log);
  log(
    `Done: best validation BCE ${state.bestValidationLoss.toFixed(4)} at epoch ${state.bestEpoch}; checkpoints in ${runFolder}.`
  );
}

main().catch(error => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
