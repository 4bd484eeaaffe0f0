import * as tf from '@tensorflow/tfjs-core';
import { initialiseNodeBackend } from '../../../models/pipeline/tfBackend';
import { buildModel, classifierOf } from '../../../models/pipeline/training/architectures';
import {
  calibrateBatchNorm,
  evenlySpaced,
} from '../../../models/pipeline/training/batchNormCalibration';
import { modelInputs } from '../../../models/pipeline/training/trainingSet';
import { TOY_SIZE, toySplit } from '../../fixtures/toyTrainingSet';

beforeAll(() => initialiseNodeBackend('wasm'));

test('evenly spaced slices cover the split from end to end, or take all of a short one', () => {
  expect(evenlySpaced(10, 4)).toEqual([1, 3, 6, 8]);
  expect(evenlySpaced(3, 8)).toEqual([0, 1, 2]);
});

test('after calibration the model in inference mode computes what training mode computes with the calibration slices in one batch, leaking nothing', () => {
  const split = toySplit(48, 'calibration', 3);
  const model = buildModel('strided', { size: TOY_SIZE, channels: 3 }, 7, 4);
  const classifier = classifierOf(model);
  const slices = evenlySpaced(split.records.length, 24);
  const x = tf.tensor4d(modelInputs(split, slices), [slices.length, TOY_SIZE, TOY_SIZE, 3]);
  const inBatch = () => (classifier.apply(x, { training: true }) as tf.Tensor).dataSync();
  const inference = () => (classifier.predict(x) as tf.Tensor).dataSync();
  const largestGap = (a: Float32Array | Int32Array | Uint8Array, b: typeof a) =>
    Math.max(...Array.from(a, (value, n) => Math.abs(value - b[n])));
  const target = tf.tidy(inBatch);
  expect(largestGap(tf.tidy(inference), target)).toBeGreaterThan(0.05);

  const tensorsBefore = tf.memory().numTensors;
  calibrateBatchNorm(classifier, x);
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  expect(largestGap(tf.tidy(inference), target)).toBeLessThan(1e-4);
  tf.dispose([x, ...model.getWeights()]);
});
