import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { gradCam } from '../../../extension/src/core/explain';
import { initialiseNodeBackend } from '../../../models/pipeline/tfBackend';
import {
  ARCHITECTURES,
  buildModel,
  classifierOf,
  GRAD_CAM_LAYER,
  MAP_STRIDES,
  type MapStride,
} from '../../../models/pipeline/training/architectures';
import { foldIntoConvolutions } from '../../../models/pipeline/training/foldIntoConvolutions';

const SIZE = 32;

beforeAll(() => initialiseNodeBackend('wasm'));

/** A classifier whose batch normalisations hold statistics far from the identity, as trained ones do. */
function trainedLookingClassifier(
  architecture: (typeof ARCHITECTURES)[number],
  mapStride: MapStride = 8
): tfl.LayersModel {
  const model = classifierOf(buildModel(architecture, { size: SIZE, channels: 1 }, 3, mapStride));
  let seed = 0;
  for (const layer of model.layers.filter(l => l.getClassName() === 'BatchNormalization')) {
    layer.setWeights(
      layer.getWeights().map((weight, index) =>
        // gamma, beta, moving mean, moving variance (> 0)
        index === 3
          ? tf.randomUniform(weight.shape, 0.5, 2, 'float32', seed++)
          : tf.randomNormal(weight.shape, 0, 0.5, 'float32', seed++)
      )
    );
  }
  return model;
}

const layerCount = (model: tfl.LayersModel, className: string) =>
  model.layers.filter(layer => layer.getClassName() === className).length;

const CANDIDATES = ARCHITECTURES.flatMap(architecture =>
  MAP_STRIDES.map(stride => [architecture, stride] as const)
);

describe.each(CANDIDATES)(
  'folding the %s classifier with map stride %d',
  (architecture, stride) => {
    test('leaves no batch normalisation, keeps the Grad-CAM layer, and computes the same', async () => {
      const model = trainedLookingClassifier(architecture, stride);
      expect(model.getLayer(GRAD_CAM_LAYER).outputShape.slice(1, 3)).toEqual([
        SIZE / stride,
        SIZE / stride,
      ]);
      const folded = await foldIntoConvolutions(model, [GRAD_CAM_LAYER]);

      expect(layerCount(model, 'BatchNormalization')).toBeGreaterThan(0);
      expect(layerCount(folded, 'BatchNormalization')).toBe(0);
      expect(layerCount(folded, 'Activation')).toBeLessThan(layerCount(model, 'Activation'));
      expect(folded.getLayer(GRAD_CAM_LAYER).getClassName()).toBe(
        model.getLayer(GRAD_CAM_LAYER).getClassName()
      );

      const input = tf.randomNormal([3, SIZE, SIZE, 1], 0, 1, 'float32', 11) as tf.Tensor4D;
      const expected = gradCam({ tf, tfl }, model, input, GRAD_CAM_LAYER);
      const actual = gradCam({ tf, tfl }, folded, input, GRAD_CAM_LAYER);
      actual.probabilities.forEach((p, n) => expect(p).toBeCloseTo(expected.probabilities[n], 5));
      actual.maps.forEach((map, n) =>
        map.forEach((value, i) => expect(value).toBeCloseTo(expected.maps[n][i], 4))
      );
      input.dispose();
    });
  }
);

test('a layer named to be preserved is not folded away', async () => {
  const model = trainedLookingClassifier('plain');
  // In the plain net the Grad-CAM layer is the ReLU right after the last convolution.
  const reluAfterConv = model.getLayer(GRAD_CAM_LAYER);
  const folded = await foldIntoConvolutions(model, [reluAfterConv.name]);
  expect(() => folded.getLayer(GRAD_CAM_LAYER)).not.toThrow();
  const unpreserved = await foldIntoConvolutions(model);
  expect(() => unpreserved.getLayer(GRAD_CAM_LAYER)).toThrow();
});
