// npm run bench (second part), or npx tsx scripts/benchModel.ts [--model models/tuber-net] [--backend wasm|cpu]…
// Latency of the shipped tuber model on the TensorFlow.js Node backends: detection, Grad-CAM and
// saliency of a 24-slice series, against the paper's InceptionV3 at 299×299 (random weights: speed only).
import { statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { gradCam, saliency } from '../extension/src/core/explain';
import { initialiseNodeBackend, type NodeBackendName } from '../models/pipeline/tfBackend';
import { buildInceptionV3Reference } from '../models/pipeline/training/architectures';
import { loadModel, WEIGHTS_FILE } from '../models/pipeline/training/modelFiles';

const SERIES_SLICES = 24;
const SERIES_TARGET_MS = 500;
const SPEED_UP_TARGET = 50;
const REFERENCE_BATCH = 4;
/**
 * Timed repetitions: enough for a stable median on a shared (noisy) machine. The cpu backend is
 * 60–100× slower and compiles nothing on its first run, so it gets one run and no warm-up.
 */
const REPEATS: Record<NodeBackendName, number> = { wasm: 9, cpu: 1 };
const WARM_UP: Record<NodeBackendName, boolean> = { wasm: true, cpu: false };
const INTERLEAVED_PAIRS = 7;

interface SeriesTimings {
  backend: string;
  detectionMs: number;
  gradCamMs: number;
  saliencyMs: number;
  leakedTensors: number;
}

async function medianMs(
  repeats: number,
  action: () => Promise<void> | void,
  warmUp = true
): Promise<number> {
  if (warmUp) await action();
  const times: number[] = [];
  for (let n = 0; n < repeats; n++) {
    const started = performance.now();
    await action();
    times.push(performance.now() - started);
  }
  return median(times);
}

/** A series of random slices shaped for the model's input. */
function randomSeries(model: tfl.LayersModel): tf.Tensor4D {
  const [size, , channels] = model.inputs[0].shape.slice(1) as number[];
  return tf.randomUniform([SERIES_SLICES, size, size, channels]) as tf.Tensor4D;
}

async function timeSeries(
  backend: NodeBackendName,
  modelFolder: string,
  layer: string
): Promise<SeriesTimings> {
  const used = await initialiseNodeBackend(backend);
  const model = await loadModel(modelFolder);
  const series = randomSeries(model);
  const baseline = tf.memory().numTensors;
  const time = async (what: string, action: () => Promise<void> | void) => {
    const ms = await medianMs(REPEATS[backend], action, WARM_UP[backend]);
    // On stderr at once: the cpu leg takes minutes, and a stopped run still shows what it measured.
    console.error(`${used}: ${what} of ${SERIES_SLICES} slices in ${ms.toFixed(0)} ms`);
    return ms;
  };
  const detectionMs = await time('detection', async () => {
    const output = model.predict(series) as tf.Tensor;
    await output.data();
    output.dispose();
  });
  const gradCamMs = await time('detection + Grad-CAM', () => {
    gradCam({ tf, tfl }, model, series, layer);
  });
  const saliencyMs = await time('detection + saliency', () => {
    saliency(tf, model, series);
  });
  const leakedTensors = tf.memory().numTensors - baseline;
  series.dispose();
  model.dispose();
  return { backend: used, detectionMs, gradCamMs, saliencyMs, leakedTensors };
}

interface ReferenceComparison {
  /** InceptionV3, median ms per slice. */
  referenceMs: number;
  /** Per interleaved pair: reference ms per slice over tuber model ms per slice. */
  speedUps: number[];
}

/**
 * The paper's InceptionV3 against the tuber model on wasm, in interleaved pairs (one reference batch,
 * then one series), so that a shared VM speeding up or slowing down between runs moves both sides of
 * each ratio alike; separate medians taken minutes apart can differ by half on this machine.
 */
async function compareWithReference(modelFolder: string): Promise<ReferenceComparison> {
  await initialiseNodeBackend('wasm');
  const reference = buildInceptionV3Reference();
  const model = await loadModel(modelFolder);
  const referenceBatch = tf.randomUniform([REFERENCE_BATCH, 299, 299, 3]);
  const series = randomSeries(model);
  const msPerSlice = async (network: tfl.LayersModel, input: tf.Tensor) => {
    const started = performance.now();
    const output = network.predict(input) as tf.Tensor;
    await output.data();
    output.dispose();
    return (performance.now() - started) / input.shape[0];
  };
  await msPerSlice(reference, referenceBatch);
  await msPerSlice(model, series);
  const pairs: Array<{ referenceMs: number; speedUp: number }> = [];
  for (let n = 0; n < INTERLEAVED_PAIRS; n++) {
    const referenceMs = await msPerSlice(reference, referenceBatch);
    pairs.push({ referenceMs, speedUp: referenceMs / (await msPerSlice(model, series)) });
  }
  tf.dispose([referenceBatch, series]);
  reference.dispose();
  model.dispose();
  return {
    referenceMs: median(pairs.map(p => p.referenceMs)),
    speedUps: pairs.map(p => p.speedUp),
  };
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

function report(
  timings: SeriesTimings[],
  { referenceMs, speedUps }: ReferenceComparison,
  modelFolder: string
): string {
  const wasm = timings.find(t => t.backend === 'wasm');
  const perSlice = (ms: number) => (ms / SERIES_SLICES).toFixed(1);
  const weightBytes = statSync(join(modelFolder, WEIGHTS_FILE)).size;
  const lines = [
    `Model ${modelFolder} (${(weightBytes / 1024).toFixed(0)} KiB of weights); a ${SERIES_SLICES}-slice series in one batch; median of timed runs after a warm-up;`,
    `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, one thread.`,
    '',
    '| backend | detection (ms/series) | ms/slice | detection + Grad-CAM (ms/series) | detection + saliency (ms/series) | tensors leaked |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...timings.map(
      t =>
        `| ${t.backend} | ${t.detectionMs.toFixed(0)} | ${perSlice(t.detectionMs)} | ${t.gradCamMs.toFixed(0)} | ${t.saliencyMs.toFixed(0)} | ${t.leakedTensors} |`
    ),
    '',
    `InceptionV3 reference (299×299×3, wasm, batch ${REFERENCE_BATCH}): ${referenceMs.toFixed(0)} ms/slice.`,
  ];
  const speedUp = median(speedUps);
  lines.push(
    `Speed-up on wasm, median of ${speedUps.length} interleaved reference/series pairs: ${speedUp.toFixed(0)}× (pairs ${Math.min(...speedUps).toFixed(0)}–${Math.max(...speedUps).toFixed(0)}×; target ≥ ${SPEED_UP_TARGET}×: ${speedUp >= SPEED_UP_TARGET ? 'met' : 'missed'}).`
  );
  if (wasm) {
    lines.push(
      `Series with Grad-CAM on wasm: ${wasm.gradCamMs.toFixed(0)} ms (target ≤ ${SERIES_TARGET_MS} ms: ${wasm.gradCamMs <= SERIES_TARGET_MS ? 'met' : 'missed'}).`
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: join('models', 'tuber-net') },
      backend: { type: 'string', multiple: true },
    },
  });
  const modelFolder = resolve(values.model);
  const { gradCamLayer } = (await import(join(modelFolder, 'model-card.json'))) as {
    gradCamLayer: string;
  };
  const timings: SeriesTimings[] = [];
  for (const backend of (values.backend ?? ['wasm', 'cpu']) as NodeBackendName[]) {
    timings.push(await timeSeries(backend, modelFolder, gradCamLayer));
  }
  console.log(report(timings, await compareWithReference(modelFolder), values.model));
}

main().catch(error => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
