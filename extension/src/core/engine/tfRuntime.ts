/** TF.js core and layers (the lazily loaded "tfjs" chunk) and the start of a backend. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ActiveBackend, BackendName } from './loadTf';
import { registerGradientFixes } from './gradientFixes';
import { registerWasmTrainingKernels } from './wasmTraining';

export { tf, tfl };

/**
 * Makes `name` TF.js' backend: imports its package (a chunk of its own), then initialises it. Throws,
 * saying why, where the backend cannot run here. `wasmUrl` is the folder of the tfjs-backend-wasm
 * binaries.
 */
export async function startBackend(name: BackendName, wasmUrl: string): Promise<ActiveBackend> {
  if (name === 'webgpu' && !(globalThis.navigator as { gpu?: unknown } | undefined)?.gpu) {
    throw new Error('this browser offers no WebGPU');
  }
  const describe = await BACKEND_IMPORTS[name](wasmUrl);
  registerGradientFixes(tf);
  if (!tf.findBackendFactory(name)) throw new Error('TensorFlow.js does not offer it here');
  if (!(await tf.setBackend(name))) throw new Error('it did not initialise');
  return { name, description: await describe(), isLost: lossWatch(name) };
}

type Describe = () => Promise<string> | string;

/** Imports each backend's package (which registers the backend) and says how to describe it. */
const BACKEND_IMPORTS: Record<BackendName, (wasmUrl: string) => Promise<Describe>> = {
  webgpu: async () => {
    await import(/* webpackChunkName: "tfjs-backend-webgpu" */ '@tensorflow/tfjs-backend-webgpu');
    return () => 'WebGPU';
  },
  webgl: async () => {
    await import(/* webpackChunkName: "tfjs-backend-webgl" */ '@tensorflow/tfjs-backend-webgl');
    return () => `WebGL ${tf.env().getNumber('WEBGL_VERSION')}`;
  },
  wasm: async wasmUrl => {
    const wasm = await import(
      /* webpackChunkName: "tfjs-backend-wasm" */ '@tensorflow/tfjs-backend-wasm'
    );
    wasm.setWasmPaths(wasmUrl);
    // Grad-CAM and saliency differentiate through convolutions, whose gradient kernels wasm lacks.
    registerWasmTrainingKernels(tf);
    return async () => {
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      const threads = wasm.getThreadsCount();
      return `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads} ${threads === 1 ? 'thread' : 'threads'})`;
    };
  },
  cpu: async () => {
    await import(/* webpackChunkName: "tfjs-backend-cpu" */ '@tensorflow/tfjs-backend-cpu');
    return () => 'cpu (plain JavaScript, slow)';
  },
};

function lossWatch(name: BackendName): () => boolean {
  if (name === 'webgl') {
    const gl = (tf.backend() as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl;
    return () => gl?.isContextLost() ?? false;
  }
  if (name === 'webgpu') {
    let lost = false;
    (tf.backend() as { device?: { lost?: Promise<unknown> } }).device?.lost?.then(() => {
      lost = true;
    });
    return () => lost;
  }
  return () => false;
}
