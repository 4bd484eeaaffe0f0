/**
 * A gradient worker of DataParallelSteps, loaded through gradientWorker.cjs: its own TF.js and a copy of
 * the model, whose weights it takes from each `share` message before computing that share's gradients.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initialiseNodeBackend, type NodeBackendName } from '../tfBackend';
import { batchGradients } from './batchGradients';
import type { FromGradientWorker, ToGradientWorker } from './dataParallel';

if (!parentPort) throw new Error('gradientWorker.ts runs in a worker thread of DataParallelSteps');
const port = parentPort;
let model: tfl.LayersModel | undefined;

async function answer(message: ToGradientWorker): Promise<FromGradientWorker> {
  if (message.type === 'model') {
    await initialiseNodeBackend(message.backend as NodeBackendName);
    model = await tfl.models.modelFromJSON({ modelTopology: message.topology } as never);
    return { type: 'ready' };
  }
  if (!model) throw new Error('a share arrived before the model');
  const weights = model.trainableWeights;
  weights.forEach((weight, k) => {
    const value = tf.tensor(message.weights[k], weight.read().shape);
    weight.write(value);
    value.dispose();
  });
  return { type: 'gradients', ...batchGradients(model, message.batch) };
}

port.on('message', (message: ToGradientWorker) => {
  answer(message).then(
    reply => port.postMessage(reply, reply.type === 'gradients' ? buffersOf(reply.gradients) : []),
    (error: unknown) =>
      port.postMessage({
        type: 'error',
        message: error instanceof Error ? error.message : String(error),
        stack: error instanceof Error ? error.stack : undefined,
      } satisfies FromGradientWorker)
  );
});

/** Each buffer once: a transfer list may not repeat one. */
function buffersOf(arrays: Float32Array[]): ArrayBuffer[] {
  return [...new Set(arrays.map(array => array.buffer as ArrayBuffer))];
}
