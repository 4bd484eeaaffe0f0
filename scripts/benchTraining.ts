// npx tsx scripts/benchTraining.ts [--backend wasm|cpu]... : training and inference speed of a
// ~0.25M-parameter CNN at 128×128×1 on the TensorFlow.js Node backends, as a markdown table.
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initialiseNodeBackend, type NodeBackendName } from '../models/pipeline/tfBackend';

const SIZE = 128;
const BLOCK_FILTERS = [16, 32, 64, 128, 128];
const TRAIN_BATCH = 16;
const INFER_BATCH = 24;
/** Timed repetitions after one warm-up; a cpu training step takes minutes, so it gets no warm-up. */
const REPEATS: Record<
  NodeBackendName,
  { trainWarmUps: number; trainSteps: number; inferBatches: number }
> = {
  wasm: { trainWarmUps: 1, trainSteps: 5, inferBatches: 5 },
  cpu: { trainWarmUps: 0, trainSteps: 1, inferBatches: 2 },
};

interface Result {
  backend: string;
  examplesPerSecond: number;
  msPerSlice: number;
}

/** Conv-bn-relu-pool blocks, global average pooling, one sigmoid unit. */
export function buildBenchCnn(): tfl.Sequential {
  const model = tfl.sequential();
  BLOCK_FILTERS.forEach((filters, index) => {
    const last = index === BLOCK_FILTERS.length - 1;
    model.add(
      tfl.layers.conv2d({
        ...(index === 0 ? { inputShape: [SIZE, SIZE, 1] } : {}),
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        ...(last ? { name: 'last_conv' } : {}),
      })
    );
    model.add(tfl.layers.batchNormalization());
    model.add(tfl.layers.reLU());
    model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  });
  model.add(tfl.layers.globalAveragePooling2d({}));
  model.add(tfl.layers.dense({ units: 1, activation: 'sigmoid' }));
  return model;
}

async function seconds(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return (performance.now() - started) / 1000;
}

async function trainingSpeed(
  model: tfl.Sequential,
  { trainWarmUps, trainSteps }: (typeof REPEATS)[NodeBackendName]
): Promise<number> {
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy' });
  const images = tf.randomNormal([TRAIN_BATCH, SIZE, SIZE, 1]);
  const labels = tf.cast(tf.greater(tf.randomUniform([TRAIN_BATCH, 1]), 0.5), 'float32');
  const step = () => model.trainOnBatch(images, labels);
  for (let i = 0; i < trainWarmUps; i++) await step();
  let total = 0;
  for (let i = 0; i < trainSteps; i++) total += await seconds(step);
  tf.dispose([images, labels]);
  return (trainSteps * TRAIN_BATCH) / total;
}

async function inferenceSpeed(model: tfl.Sequential, batches: number): Promise<number> {
  const slices = tf.randomNormal([INFER_BATCH, SIZE, SIZE, 1]);
  const predict = async () => {
    const scores = model.predict(slices) as tf.Tensor;
    await scores.data();
    scores.dispose();
  };
  await predict();
  let total = 0;
  for (let i = 0; i < batches; i++) total += await seconds(predict);
  slices.dispose();
  return (total * 1000) / (batches * INFER_BATCH);
}

async function measure(preferred: NodeBackendName): Promise<Result> {
  const backend = await initialiseNodeBackend(preferred);
  const repeats = REPEATS[preferred];
  const model = buildBenchCnn();
  const examplesPerSecond = await trainingSpeed(model, repeats);
  const msPerSlice = await inferenceSpeed(model, repeats.inferBatches);
  model.dispose();
  return { backend, examplesPerSecond, msPerSlice };
}

function table(results: Result[], parameters: number): string {
  return [
    `CNN: ${parameters.toLocaleString('en')} parameters, ${SIZE}×${SIZE}×1; ${cpus()[0]?.model ?? 'CPU'}`,
    '',
    `| backend | training (examples/s, batch ${TRAIN_BATCH}, Adam) | inference (ms/slice, batch ${INFER_BATCH}) |`,
    '| --- | ---: | ---: |',
    ...results.map(
      result =>
        `| ${result.backend} | ${result.examplesPerSecond.toFixed(2)} | ${result.msPerSlice.toFixed(1)} |`
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { backend: { type: 'string', multiple: true } } });
  const backends = (values.backend ?? ['wasm', 'cpu']) as NodeBackendName[];
  const results: Result[] = [];
  for (const backend of backends) results.push(await measure(backend));
  await initialiseNodeBackend('wasm');
  const parameters = buildBenchCnn().countParams();
  console.log(table(results, parameters));
}

if (require.main === module) void main();
