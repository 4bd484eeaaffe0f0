// Renders (or finds cached) the training set of a config: tsx scripts/buildTrainingSet.ts <config.json>
import {
  readTrainingConfig,
  trainingSetFolder,
  trainingSetSpec,
} from '../models/pipeline/training/config';
import { ensureTrainingSet } from '../models/pipeline/training/trainingSet';

const configPath = process.argv[2] ?? 'models/configs/tuber-net-plain.json';
const spec = trainingSetSpec(readTrainingConfig(configPath));
const folder = trainingSetFolder(spec);
ensureTrainingSet(spec, folder, message =>
  console.log(`${new Date().toISOString()} ${message}`)
).then(
  () => console.log(`Training set ready: ${folder}`),
  error => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
);
