/** Saves and loads TensorFlow.js layers models as model.json + one weights file, in Node folders. */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export const WEIGHTS_FILE = 'weights.bin';

/** Writes `folder/model.json` and `folder/weights.bin` atomically (a temporary folder renamed into place). */
export async function saveModel(model: tfl.LayersModel, folder: string): Promise<void> {
  const staging = `${folder}.partial`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async artifacts => {
      const weightData = tf.io.concatenateArrayBuffers(
        Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData!]
      );
      await writeFile(join(staging, WEIGHTS_FILE), Buffer.from(weightData));
      const modelJson = {
        format: 'layers-model',
        generatedBy: 'TuberLens',
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
      };
      await writeFile(join(staging, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    })
  );
  await rm(folder, { recursive: true, force: true });
  await rename(staging, folder);
}

export async function loadModel(folder: string): Promise<tfl.LayersModel> {
  const modelJson = JSON.parse(await readFile(join(folder, 'model.json'), 'utf8'));
  const weights = await readFile(join(folder, WEIGHTS_FILE));
  const weightData = weights.buffer.slice(
    weights.byteOffset,
    weights.byteOffset + weights.byteLength
  );
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest[0].weights,
      weightData,
    })
  );
}

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}
