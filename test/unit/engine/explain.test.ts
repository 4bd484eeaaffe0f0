import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initialiseNodeBackend } from '../../../models/pipeline/tfBackend';
import { gradCam, saliency } from '../../../extension/src/core/explain';

const SIZE = 16;

/**
 * A model whose last "features" are the input itself (a 1×1 convolution with weight 1) and whose output
 * is sigmoid(mean): Grad-CAM must then peak where the input is brightest.
 */
function transparentModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [SIZE, SIZE, 1] });
  const features = tfl.layers
    .conv2d({
      filters: 1,
      kernelSize: 1,
      kernelInitializer: 'ones',
      biasInitializer: 'zeros',
      name: 'features',
    })
    .apply(input) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(features) as tfl.SymbolicTensor;
  const output = tfl.layers
    .dense({ units: 1, activation: 'sigmoid', kernelInitializer: 'ones', biasInitializer: 'zeros' })
    .apply(pooled) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output });
}

function imageWithSpot(row: number, column: number): Float32Array {
  const image = new Float32Array(SIZE * SIZE).fill(0.1);
  image[row * SIZE + column] = 1;
  return image;
}

beforeAll(async () => {
  await initialiseNodeBackend('wasm');
});

test('Grad-CAM peaks at the evidence, per slice, normalised to 0–1, with the model probabilities', () => {
  const model = transparentModel();
  const input = tf.tensor4d([...imageWithSpot(3, 12), ...imageWithSpot(10, 2)], [2, SIZE, SIZE, 1]);
  const before = tf.memory().numTensors;
  const { probabilities, maps } = gradCam({ tf, tfl }, model, input, 'features');
  expect(tf.memory().numTensors).toBe(before);
  const peak = (map: Float32Array) => map.indexOf(Math.max(...map));
  expect(maps.map(peak)).toEqual([3 * SIZE + 12, 10 * SIZE + 2]);
  for (const map of maps) {
    expect(Math.max(...map)).toBeCloseTo(1, 5);
    expect(Math.min(...map)).toBeGreaterThanOrEqual(0);
  }
  const expected = Array.from((model.predict(input) as tf.Tensor).dataSync());
  probabilities.forEach((p, n) => expect(p).toBeCloseTo(expected[n], 5));
  input.dispose();
});

test('saliency gives one 0–1 map per slice without leaking tensors', () => {
  const model = transparentModel();
  const input = tf.tensor4d(imageWithSpot(5, 5), [1, SIZE, SIZE, 1]);
  const before = tf.memory().numTensors;
  const { maps } = saliency(tf, model, input);
  expect(tf.memory().numTensors).toBe(before);
  expect(maps).toHaveLength(1);
  expect(maps[0]).toHaveLength(SIZE * SIZE);
  expect(Math.max(...maps[0])).toBeCloseTo(1, 5);
  input.dispose();
});

test('Grad-CAM refuses a model whose head after the feature layer is not a chain', () => {
  const input = tfl.input({ shape: [SIZE, SIZE, 1] });
  const a = tfl.layers
    .conv2d({ filters: 1, kernelSize: 1, name: 'a' })
    .apply(input) as tfl.SymbolicTensor;
  const b = tfl.layers.conv2d({ filters: 1, kernelSize: 1 }).apply(input) as tfl.SymbolicTensor;
  const merged = tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor;
  const model = tfl.model({
    inputs: input,
    outputs: tfl.layers.globalAveragePooling2d({}).apply(merged) as tfl.SymbolicTensor,
  });
  const tensor = tf.zeros([1, SIZE, SIZE, 1]) as tf.Tensor4D;
  expect(() => gradCam({ tf, tfl }, model, tensor, 'a')).toThrow(
    'Grad-CAM needs a chain of layers after a.'
  );
  tensor.dispose();
});
