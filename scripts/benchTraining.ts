// npm run bench (third part), or npx tsx scripts/benchTraining.ts [--backend wasm|cpu] [--architecture lean]
// Training speed of a tuber-net candidate as `npm run train` runs it (Adam, batch 16, slice and tuber-map
// losses): 64² crops and whole 128² slices, each batch on one thread and cut into two shares computed in
// parallel threads (dataParallel.ts), as a markdown table.
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { Random } from '../models/pipeline/synthesis/random';
import { initialiseNodeBackend, type NodeBackendName } from '../models/pipeline/tfBackend';
import {
  ARCHITECTURES,
  buildModel,
  type Architecture,
} from '../models/pipeline/training/architectures';
import type { TrainingBatch } from '../models/pipeline/training/batchGradients';
import { DataParallelSteps } from '../models/pipeline/training/dataParallel';

const BATCH = 16;
const MAP_STRIDE = 4;
const INPUTS = [64, 128];
const SHARES = [1, 2];
/** Timed steps after the warm-up ones (the first steps compile and allocate). */
const STEPS: Record<NodeBackendName, { warmUp: number; timed: number }> = {
  wasm: { warmUp: 2, timed: 6 },
  cpu: { warmUp: 0, timed: 1 },
};

interface Row {
  size: number;
  shares: number;
  examplesPerSecond: number;
}

function randomBatch(size: number): TrainingBatch {
  const random = new Random(`bench-${size}`);
  const cells = size / MAP_STRIDE;
  return {
    size,
    channels: 1,
    cells,
    x: Float32Array.from({ length: BATCH * size * size }, () => random.uniform(0, 1.2)),
    labels: Float32Array.from({ length: BATCH }, (_, n) => n % 2),
    maps: Float32Array.from({ length: BATCH * cells * cells }, () => (random.chance(0.05) ? 1 : 0)),
  };
}

async function examplesPerSecond(
  architecture: Architecture,
  size: number,
  shares: number,
  steps: (typeof STEPS)[NodeBackendName]
): Promise<number> {
  const model = buildModel(architecture, { size, channels: 1 }, 1, MAP_STRIDE);
  const optimizer = tf.train.adam(1e-3);
  const parallel = await DataParallelSteps.start(model, optimizer, shares);
  const batch = randomBatch(size);
  try {
    for (let n = 0; n < steps.warmUp; n++) await parallel.run(batch);
    const started = performance.now();
    for (let n = 0; n < steps.timed; n++) await parallel.run(batch);
    return (steps.timed * BATCH) / ((performance.now() - started) / 1000);
  } finally {
    await parallel.dispose();
    model.dispose();
    optimizer.dispose();
  }
}

function table(architecture: Architecture, backend: string, rows: Row[]): string {
  const single = (size: number) => rows.find(row => row.size === size && row.shares === 1)!;
  return [
    `Training ${architecture} (map stride ${MAP_STRIDE}), batch ${BATCH}, Adam, ${backend}; ${availableParallelism()} cores, ${cpus()[0]?.model ?? 'CPU'}`,
    '',
    '| input | shares (threads) | examples/s | speed-up |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map(
      row =>
        `| ${row.size}² | ${row.shares} | ${row.examplesPerSecond.toFixed(1)} | ${(row.examplesPerSecond / single(row.size).examplesPerSecond).toFixed(2)}× |`
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'wasm' },
      architecture: { type: 'string', default: 'lean' },
    },
  });
  const architecture = values.architecture as Architecture;
  if (!ARCHITECTURES.includes(architecture))
    throw new Error(`--architecture must be one of ${ARCHITECTURES.join(', ')}`);
  const preferred = values.backend as NodeBackendName;
  const backend = await initialiseNodeBackend(preferred);
  const rows: Row[] = [];
  for (const size of INPUTS) {
    for (const shares of SHARES) {
      const speed = await examplesPerSecond(architecture, size, shares, STEPS[preferred]);
      rows.push({ size, shares, examplesPerSecond: speed });
    }
  }
  console.log(table(architecture, backend, rows));
}

void main();
