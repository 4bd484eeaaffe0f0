/**
 * TensorFlow.js on first use. Only this small loader is part of the extension's entry bundle: TF.js
 * (tfRuntime.ts and what it imports) is a lazily loaded chunk, and each backend another.
 */
export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** Fastest first; wasm uses threads and SIMD where the page allows them (cross-origin isolation). */
export const BACKEND_PREFERENCE: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** A backend TF.js now runs on. */
export interface ActiveBackend {
  name: BackendName;
  /** For people: the backend and how it runs, e.g. "wasm (SIMD, 4 threads)". */
  description: string;
  /** Whether the GPU context or device behind it is gone (results read from it since are garbage). */
  isLost(): boolean;
}

export type TfRuntime = typeof import('./tfRuntime');

let runtime: Promise<TfRuntime> | undefined;

export function loadTensorFlow(): Promise<TfRuntime> {
  runtime ??= import(/* webpackChunkName: "tfjs" */ './tfRuntime').catch(error => {
    // A failed download (say, the network dropped) may succeed when the user tries again.
    runtime = undefined;
    throw error;
  });
  return runtime;
}
