import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initialiseNodeBackend } from '../../../models/pipeline/tfBackend';
import { sha256File } from '../../../models/pipeline/training/modelFiles';
import {
  loadDetectionEngine,
  ModelCompatibilityError,
  ModelIntegrityError,
  type DetectionEngine,
  type EngineOptions,
  type SliceResult,
} from '../../../extension/src/core/engine/detectionEngine';
import {
  fixtureSlices,
  nodeProbabilities,
  writeModelCard,
  writeModelPackage,
} from '../../fixtures/tuberModel';

const SIZE = 128;
/** In Node, Emscripten reads the wasm binaries from this folder with fs. */
const WASM_FOLDER = `${dirname(createRequire(__filename).resolve('@tensorflow/tfjs-backend-wasm'))}/`;

/** A fetch that serves file: URLs from disk, as the server serves the models folder. */
const readFromDisk: typeof fetch = async input => {
  try {
    return new Response(await readFile(fileURLToPath(String(input))));
  } catch {
    return new Response('Not found', { status: 404 });
  }
};

let root: string;
let modelFolder: string;
let classifier: tfl.LayersModel;
const slices = fixtureSlices(6);
let expected: number[];

beforeAll(async () => {
  await initialiseNodeBackend('wasm');
  root = await mkdtemp(join(tmpdir(), 'tuberlens-engine-'));
  modelFolder = join(root, 'tuber-net-fixture');
  classifier = await writeModelPackage(modelFolder);
  expected = nodeProbabilities(classifier, slices);
}, 60_000);

afterAll(async () => {
  classifier?.dispose();
  await rm(root, { recursive: true, force: true });
});

function load(folder = modelFolder, options: Partial<EngineOptions> = {}) {
  return loadDetectionEngine({
    modelUrl: pathToFileURL(folder).href,
    backends: ['wasm'],
    fetch: readFromDisk,
    wasmUrl: WASM_FOLDER,
    ...options,
  });
}

/** A copy of the fixture package for a test to spoil. */
async function copyOfModel(name: string): Promise<string> {
  const copy = join(root, name);
  await cp(modelFolder, copy, { recursive: true });
  return copy;
}

function expectMap(map: Float32Array | undefined) {
  expect(map).toHaveLength(SIZE * SIZE);
  const values = Array.from(map!);
  expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...values)).toBeLessThanOrEqual(1 + 1e-6);
}

describe('a verified model on the wasm backend', () => {
  let engine: DetectionEngine;
  const statuses: string[] = [];

  beforeAll(async () => {
    engine = await load(modelFolder, { onStatus: message => statuses.push(message) });
  }, 60_000);

  afterAll(() => engine?.dispose());

  test('says which backend it runs on and gives the Node pipeline’s probabilities, with a Grad-CAM map per slice', async () => {
    expect(engine.backend).toBe('wasm');
    expect(engine.card).toMatchObject({
      name: 'tuber-net-fixture',
      gradCamLayer: 'gradcam_features',
    });
    expect(statuses.at(-1)).toMatch(/^Ready on wasm \(SIMD, \d+ threads?\)\.$/);
    const delivered: number[] = [];
    const results = await engine.run(slices, { onSlice: index => delivered.push(index) });
    expect(delivered).toEqual([0, 1, 2, 3, 4, 5]);
    expect(results).toHaveLength(slices.length);
    results.forEach(({ probability }, n) =>
      expect(Math.abs(probability - expected[n])).toBeLessThan(1e-4)
    );
    // An untrained net still tells the slices apart: parity is not a constant matched to a constant.
    expect(new Set(expected.map(p => p.toFixed(5))).size).toBeGreaterThan(1);
    results.forEach(result => expectMap(result.gradCam));
    expect(results.every(result => result.saliency === undefined)).toBe(true);
  }, 60_000);

  test('adds a saliency map per slice when asked', async () => {
    const results = await engine.run(slices.slice(0, 2), { saliency: true });
    results.forEach(result => expectMap(result.saliency));
  }, 60_000);

  test('leaves the tensor count at its baseline after every run', async () => {
    const baseline = tf.memory().numTensors;
    await engine.run(slices);
    expect(tf.memory().numTensors).toBe(baseline);
    await engine.run(slices.slice(0, 3), { saliency: true });
    expect(tf.memory().numTensors).toBe(baseline);
  }, 60_000);

  test('tells TF.js’s live tensor count, for leak checks outside the engine', async () => {
    const baseline = engine.tensorCount();
    expect(baseline).toBe(tf.memory().numTensors);
    const extra = tf.zeros([2]);
    expect(engine.tensorCount()).toBe(baseline + 1);
    extra.dispose();
    await engine.run(slices.slice(0, 2), { saliency: true });
    expect(engine.tensorCount()).toBe(baseline);
  }, 60_000);

  test('stops at once when aborted, delivering nothing after the Stop and leaking nothing', async () => {
    const baseline = tf.memory().numTensors;
    const controller = new AbortController();
    const delivered: SliceResult[] = [];
    const run = engine.run(slices, {
      signal: controller.signal,
      onSlice: (_, result) => {
        delivered.push(result);
        controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(delivered).toHaveLength(1);
    expect(tf.memory().numTensors).toBe(baseline);

    const onSlice = jest.fn();
    await expect(
      engine.run(slices, { signal: AbortSignal.abort(), onSlice })
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(onSlice).not.toHaveBeenCalled();
  }, 60_000);

  test('refuses slices that are not of the model’s size', async () => {
    await expect(engine.run([new Float32Array(64 * 64)])).rejects.toThrow(
      'Slice 0 has 4096 values; the model takes 128×128×1 = 16384.'
    );
  });
});

test('frees the model’s tensors on dispose', async () => {
  const before = tf.memory().numTensors;
  const engine = await load();
  expect(tf.memory().numTensors).toBeGreaterThan(before);
  engine.dispose();
  expect(tf.memory().numTensors).toBe(before);
  await expect(engine.run(slices)).rejects.toThrow('The detection engine has been disposed.');
}, 60_000);

test('falls back along the list to the first backend that runs here', async () => {
  const statuses: string[] = [];
  const engine = await load(modelFolder, {
    backends: ['webgpu', 'webgl', 'wasm'],
    onStatus: message => statuses.push(message),
  });
  expect(engine.backend).toBe('wasm');
  expect(statuses).toEqual(
    expect.arrayContaining([
      'webgpu cannot run the model here (this browser offers no WebGPU).',
      'webgl cannot run the model here (TensorFlow.js does not offer it here).',
    ])
  );
  engine.dispose();
}, 60_000);

test('gives the same probabilities on the cpu backend', async () => {
  // TF.js advises tfjs-node once, which the browser engine has no use for.
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  const engine = await load(modelFolder, { backends: ['cpu'] });
  warn.mockRestore();
  expect(engine.backend).toBe('cpu');
  const results = await engine.run(slices.slice(0, 2));
  results.forEach(({ probability }, n) =>
    expect(Math.abs(probability - expected[n])).toBeLessThan(1e-4)
  );
  engine.dispose();
  await tf.setBackend('wasm');
}, 120_000);

test('refuses weights whose SHA-256 differs from the model card, naming the file and both hashes', async () => {
  const folder = await copyOfModel('tampered');
  const weightsPath = join(folder, 'weights.bin');
  const expectedHash = await sha256File(weightsPath);
  const weights = await readFile(weightsPath);
  weights[100] ^= 1;
  await writeFile(weightsPath, weights);
  const actualHash = await sha256File(weightsPath);
  const before = tf.memory().numTensors;

  const loading = load(folder);
  await expect(loading).rejects.toBeInstanceOf(ModelIntegrityError);
  await expect(loading).rejects.toThrow(
    `weights.bin of the model tuber-net-fixture 0.0.0-test is not the file its model card names (SHA-256 ${actualHash}, expected ${expectedHash}); the model will not run.`
  );
  expect(tf.memory().numTensors).toBe(before);
});

test('refuses a model trained on other preprocessing', async () => {
  const folder = await copyOfModel('other-preprocessing');
  await writeModelCard(folder, {
    input: { shape: [SIZE, SIZE, 1], preprocessing: 'pre0-128px-200mm-p1-99-h0.1' },
  });
  const loading = load(folder);
  await expect(loading).rejects.toBeInstanceOf(ModelCompatibilityError);
  await expect(loading).rejects.toThrow(
    'was trained on input preprocessed as "pre0-128px-200mm-p1-99-h0.1", but this viewer preprocesses as "pre1-128px-240mm-p1-99.5-h0.1"'
  );
});

test('refuses a card whose input shape is not the model’s', async () => {
  const folder = await copyOfModel('other-shape');
  const card = JSON.parse(await readFile(join(folder, 'model-card.json'), 'utf8'));
  await writeModelCard(folder, { input: { ...card.input, shape: [64, 64, 1] } });
  await expect(load(folder)).rejects.toThrow(
    'The model takes input of 128×128×1, but its card says 64×64×1.'
  );
}, 60_000);

test('says which file could not be fetched', async () => {
  await expect(load(join(root, 'no-such-model'))).rejects.toThrow(
    /no-such-model\/model-card\.json answered HTTP 404\./
  );
});

test('refuses a card whose neighbours do not make its input channels', async () => {
  const folder = await copyOfModel('neighbours-mismatch');
  const card = JSON.parse(await readFile(join(folder, 'model-card.json'), 'utf8'));
  await writeModelCard(folder, { input: { ...card.input, neighbours: 1 } });
  const loading = load(folder);
  await expect(loading).rejects.toBeInstanceOf(ModelCompatibilityError);
  await expect(loading).rejects.toThrow(
    'The model card is unusable: its "input.shape" gives 1 channels, not the 3 that "input.neighbours" 1 asks for.'
  );
}, 60_000);
