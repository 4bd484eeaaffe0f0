// The runtime the browser engine loads starts a backend with the corrected gradient kernels.
import { startBackend, tf } from '../../../extension/src/core/engine/tfRuntime';

test('cpu, once started, gives each image of a batch its own resize gradient', async () => {
  // TF.js advises tfjs-node once, which the browser engine has no use for.
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  const backend = await startBackend('cpu', '');
  warn.mockRestore();
  expect(backend.name).toBe('cpu');
  const gradient = tf.tidy(() => {
    const weights = tf.reshape(tf.range(1, 33), [2, 4, 4, 1]);
    const upsampled = (x: tf.Tensor) =>
      tf.sum(tf.mul(tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [4, 4]), weights));
    return Array.from(
      tf
        .grad(upsampled)(tf.zeros([2, 2, 2, 1]))
        .dataSync()
    );
  });
  // Each input pixel gathers the weights of the 2 × 2 block it was copied to.
  expect(gradient).toEqual([14, 22, 46, 54, 78, 86, 110, 118]);
});
