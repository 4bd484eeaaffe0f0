// Registering a replacement for a backend's TF.js kernel, once, however often it is asked for.
import type * as tfCore from '@tensorflow/tfjs-core';
import type { KernelFunc } from '@tensorflow/tfjs-core';

export type KernelRegistry = Pick<
  typeof tfCore,
  'getKernel' | 'registerKernel' | 'unregisterKernel'
>;

/** What the kernel modules need of a tfjs-core namespace: its registry and backend utilities. */
export type TfKernelApi = KernelRegistry & Pick<typeof tfCore, 'backend_util'>;

/** Builds the replacement from the original kernel function (which it may fall back to). */
export type Override = (original: KernelFunc) => KernelFunc;

/** The kernel functions registered in place of a backend's own, so as not to wrap twice. */
const overridingFuncs = new WeakSet<KernelFunc>();

/** Replaces `kernelName` on `backendName`; does nothing where that backend has no such kernel. */
export function overrideKernel(
  tf: KernelRegistry,
  backendName: string,
  kernelName: string,
  override: Override
): void {
  const original = tf.getKernel(kernelName, backendName);
  if (original == null || overridingFuncs.has(original.kernelFunc)) return;
  const kernelFunc = override(original.kernelFunc);
  overridingFuncs.add(kernelFunc);
  tf.unregisterKernel(kernelName, backendName);
  // Keeping setupFunc lets the engine still set up the original when the backend starts.
  tf.registerKernel({ ...original, kernelFunc });
}
