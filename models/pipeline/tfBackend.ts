// Node only: picks the TensorFlow.js backend for training and inference scripts and tests.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerGradientFixes } from '../../extension/src/core/engine/gradientFixes';
import { registerWasmTrainingKernels } from '../../extension/src/core/engine/wasmTraining';

export type NodeBackendName = 'wasm' | 'cpu';

/**
 * Sets wasm (SIMD, single-threaded; ~60× faster than cpu here) with its training kernels, or cpu
 * when wasm is not preferred or fails to start. Returns the backend now in use.
 */
export async function initialiseNodeBackend(preferred: NodeBackendName = 'wasm'): Promise<string> {
  registerWasmTrainingKernels(tf);
  registerGradientFixes(tf);
  if (preferred === 'wasm' && (await startWasm())) return tf.getBackend();
  if (!(await tf.setBackend('cpu')))
    throw new Error('Neither the wasm nor the cpu backend started');
  return tf.getBackend();
}

async function startWasm(): Promise<boolean> {
  try {
    // An explicit folder makes Emscripten read the binary from disk with fs, never fetch it, also
    // when this module is bundled or run under jest.
    setWasmPaths(`${wasmBinaryFolder()}/`);
    return await tf.setBackend('wasm');
  } catch {
    return false;
  }
}

function wasmBinaryFolder(): string {
  return dirname(createRequire(__filename).resolve('@tensorflow/tfjs-backend-wasm'));
}
