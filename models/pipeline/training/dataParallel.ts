/**
 * Data-parallel training steps. TF.js's wasm backend runs on one thread, so a training step uses one
 * core; here each batch is cut into `shares`, share 0's gradients are computed on this thread and every
 * other share's in a worker thread with its own TF.js and a copy of the weights, and their mean,
 * weighted by share size, is applied by this thread's optimizer.
 *
 * Batch normalisation sees each share on its own (its statistics are per share, as in multi-GPU
 * training) and its moving averages follow share 0. What a step computes depends on the number of
 * shares, never on the number of cores: a machine with fewer cores runs the workers in turn.
 *
 * Protocol: the worker gets a `model` message (topology and backend) and answers `ready`; then, per
 * step, a `share` message (this step's trainable weights and its examples) answered by `gradients`.
 * A failure is posted as `error`, or surfaces as the worker's 'error' or 'exit'.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  batchGradients,
  batchPart,
  examplesIn,
  type BatchGradients,
  type BatchLosses,
  type TrainingBatch,
} from './batchGradients';

export type ToGradientWorker =
  | { type: 'model'; topology: object; backend: string }
  | { type: 'share'; weights: Float32Array[]; batch: TrainingBatch };

export type FromGradientWorker =
  | { type: 'ready' }
  | ({ type: 'gradients' } & BatchGradients)
  | { type: 'error'; message: string; stack?: string };

/** The bootstrap that registers tsx and loads gradientWorker.ts, so the worker runs under jest and node. */
const WORKER_FILE = join(__dirname, 'gradientWorker.cjs');

let liveWorkers = 0;

/** Gradient workers started and not yet exited (for checks that nothing is left running). */
export function liveGradientWorkers(): number {
  return liveWorkers;
}

export class DataParallelSteps {
  private constructor(
    private readonly model: tfl.LayersModel,
    private readonly optimizer: tf.Optimizer,
    private readonly workers: Worker[]
  ) {}

  /** Starts `shares − 1` workers holding the model's topology; dispose() stops them. */
  static async start(
    model: tfl.LayersModel,
    optimizer: tf.Optimizer,
    shares: number
  ): Promise<DataParallelSteps> {
    if (!(Number.isInteger(shares) && shares >= 1))
      throw new RangeError(`shares must be a positive integer, not ${shares}`);
    const workers: Worker[] = [];
    const steps = new DataParallelSteps(model, optimizer, workers);
    try {
      const topology = model.toJSON(null, false) as object;
      for (let n = 1; n < shares; n++) workers.push(startWorker());
      await Promise.all(
        workers.map(worker =>
          request(worker, { type: 'model', topology, backend: tf.getBackend() }, 'ready')
        )
      );
    } catch (error) {
      await steps.dispose();
      throw error;
    }
    return steps;
  }

  /** One optimiser step on the batch; returns its losses (means over all its examples). */
  async run(batch: TrainingBatch): Promise<BatchLosses> {
    const parts = shareBounds(examplesIn(batch), this.workers.length + 1).map(([start, end]) =>
      batchPart(batch, start, end)
    );
    const weights = this.workers.length
      ? this.model.trainableWeights.map(weight => weight.read().dataSync() as Float32Array)
      : [];
    const others = Promise.all(
      this.workers.map((worker, n) =>
        request(worker, { type: 'share', weights, batch: parts[n + 1] }, 'gradients')
      )
    );
    let own: BatchGradients;
    try {
      own = batchGradients(this.model, parts[0]);
    } catch (error) {
      await others.catch(() => {});
      throw error;
    }
    const results = [own, ...(await others)];
    const shareOf = parts.map(part => examplesIn(part) / examplesIn(batch));
    this.apply(results, shareOf);
    const mean = (key: keyof BatchLosses) =>
      results.reduce((sum, result, n) => sum + result[key] * shareOf[n], 0);
    return { sliceLoss: mean('sliceLoss'), mapLoss: mean('mapLoss') };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map(worker => worker.terminate()));
    this.workers.length = 0;
  }

  private apply(results: BatchGradients[], shareOf: number[]): void {
    const weights = this.model.trainableWeights;
    const gradients = tf.tidy(() =>
      Object.fromEntries(
        weights.map((weight, k) => {
          const variable = weight.read() as tf.Variable;
          const parts = results.map((result, n) =>
            tf.mul(tf.tensor(result.gradients[k], variable.shape), shareOf[n])
          );
          return [variable.name, parts.length === 1 ? parts[0] : tf.addN(parts)];
        })
      )
    );
    this.optimizer.applyGradients(gradients);
    tf.dispose(Object.values(gradients));
  }
}

/** [start, end) of each share: as equal as can be, the larger ones first. */
export function shareBounds(examples: number, shares: number): Array<[number, number]> {
  if (examples < shares)
    throw new RangeError(`a batch of ${examples} examples cannot be cut into ${shares} shares`);
  const base = Math.floor(examples / shares);
  const larger = examples % shares;
  const bounds: Array<[number, number]> = [];
  let start = 0;
  for (let n = 0; n < shares; n++) {
    const end = start + base + (n < larger ? 1 : 0);
    bounds.push([start, end]);
    start = end;
  }
  return bounds;
}

function startWorker(): Worker {
  const worker = new Worker(WORKER_FILE);
  liveWorkers++;
  worker.once('exit', () => liveWorkers--);
  return worker;
}

/** Posts a message and waits for the worker's answer of the expected type; rejects on any failure. */
function request<T extends FromGradientWorker['type']>(
  worker: Worker,
  message: ToGradientWorker,
  expected: T
): Promise<Extract<FromGradientWorker, { type: T }>> {
  return new Promise((resolve, reject) => {
    const settle = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const fail = (error: Error) => {
      settle();
      reject(error);
    };
    const onMessage = (answer: FromGradientWorker) => {
      settle();
      if (answer.type === expected) resolve(answer as Extract<FromGradientWorker, { type: T }>);
      else if (answer.type === 'error') {
        const error = new Error(`the gradient worker failed: ${answer.message}`);
        if (answer.stack) error.stack = answer.stack;
        reject(error);
      } else reject(new Error(`the gradient worker answered ${answer.type}, not ${expected}`));
    };
    const onError = (error: Error) =>
      fail(new Error(`the gradient worker failed: ${error.message}`));
    const onExit = (code: number) =>
      fail(new Error(`the gradient worker stopped (exit code ${code})`));
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(message);
  });
}
