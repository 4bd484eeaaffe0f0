/**
 * A model package as `npm run evaluate` writes it (model-card.json, model.json, weights), fetched and
 * checked before any of it runs: every file against the SHA-256 in the card, the card against the
 * preprocessing this build applies. Needs no TF.js, so it runs while TF.js downloads.
 */
import type { io } from '@tensorflow/tfjs-core';
import { MODEL_CARD_FILE, parseModelCard } from '../modelAvailability';
import { SERIES_VERDICT_CONTRASTS, type SeriesThresholds } from '../operatingPoint';
import { preprocessingFingerprint } from '../preprocessing';

export interface EngineModelCard {
  name: string;
  version: string;
  /** The slice threshold, chosen on validation slices. */
  threshold: number;
  /** Series verdict thresholds per contrast (see operatingPoint.ts); absent in older cards. */
  seriesThresholds?: SeriesThresholds;
  gradCamLayer: string;
  input: {
    shape: [number, number, number];
    preprocessing: string;
    /**
     * Slices of the series on either side of each slice that its input holds as channels (2.5D, see
     * neighbours.ts); 0 for the slice alone, also when the card does not say.
     */
    neighbours: number;
  };
  /** File name → SHA-256, lower-case hex. */
  files: Record<string, string>;
}

export interface ModelPackage {
  card: EngineModelCard;
  /** The verified model, ready for tf.io.fromMemory. */
  artifacts: io.ModelArtifacts;
}

export const MODEL_JSON_FILE = 'model.json';

/** A file of the package does not match the SHA-256 its card gives: the model must not run. */
export class ModelIntegrityError extends Error {
  override name = 'ModelIntegrityError';
}

/** The card is malformed, or the model does not fit this build (preprocessing, input shape, layers). */
export class ModelCompatibilityError extends Error {
  override name = 'ModelCompatibilityError';
}

type Fetch = typeof fetch;

export async function fetchModelPackage(modelUrl: string, fetchFile: Fetch): Promise<ModelPackage> {
  const card = parseEngineModelCard(
    JSON.parse(decodeText(await fetchBytes(new URL(MODEL_CARD_FILE, modelUrl).href, fetchFile)))
  );
  const fingerprint = preprocessingFingerprint();
  if (card.input.preprocessing !== fingerprint) {
    throw new ModelCompatibilityError(
      `The model ${card.name} ${card.version} was trained on input preprocessed as "${card.input.preprocessing}", but this viewer preprocesses as "${fingerprint}"; it will not run.`
    );
  }
  const fetchChecked = (file: string) => fetchVerified(card, modelUrl, file, fetchFile);
  const modelJson = JSON.parse(decodeText(await fetchChecked(MODEL_JSON_FILE))) as {
    modelTopology?: object;
    weightsManifest?: io.WeightsManifestConfig;
  };
  if (!modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
    throw new ModelCompatibilityError(`${MODEL_JSON_FILE} is not a TensorFlow.js layers model.`);
  }
  const groups = modelJson.weightsManifest;
  const weightData = await Promise.all(groups.flatMap(group => group.paths).map(fetchChecked));
  return {
    card,
    artifacts: {
      modelTopology: modelJson.modelTopology,
      weightSpecs: groups.flatMap(group => group.weights),
      weightData,
    },
  };
}

async function fetchVerified(
  card: EngineModelCard,
  modelUrl: string,
  file: string,
  fetchFile: Fetch
): Promise<ArrayBuffer> {
  const expected = card.files[file];
  if (!expected) {
    throw new ModelIntegrityError(
      `The model card lists no SHA-256 for ${file}, so the file cannot be checked; the model will not run.`
    );
  }
  const bytes = await fetchBytes(new URL(file, modelUrl).href, fetchFile);
  const actual = await sha256Hex(bytes);
  if (actual !== expected.toLowerCase()) {
    throw new ModelIntegrityError(
      `${file} of the model ${card.name} ${card.version} is not the file its model card names (SHA-256 ${actual}, expected ${expected}); the model will not run.`
    );
  }
  return bytes;
}

async function fetchBytes(url: string, fetchFile: Fetch): Promise<ArrayBuffer> {
  const response = await fetchFile(url);
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}.`);
  return response.arrayBuffer();
}

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new ModelIntegrityError(
      'This page is not a secure context (https or localhost), so the browser offers no SHA-256 to check the model with; the model will not run.'
    );
  }
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  return Array.from(digest, byte => byte.toString(16).padStart(2, '0')).join('');
}

function decodeText(bytes: ArrayBuffer): string {
  return new TextDecoder().decode(bytes);
}

export function parseEngineModelCard(json: unknown): EngineModelCard {
  try {
    const { name, version } = parseModelCard(json);
    const { threshold, seriesThresholds, gradCamLayer, input, files } = json as Record<
      string,
      unknown
    >;
    if (!isProbability(threshold)) throw new Error('its "threshold" is not a number from 0 to 1');
    if (seriesThresholds !== undefined && !isSeriesThresholds(seriesThresholds))
      throw new Error(
        `its "seriesThresholds" is not a map from ${SERIES_VERDICT_CONTRASTS.join(' or ')} to a number from 0 to 1`
      );
    if (typeof gradCamLayer !== 'string' || gradCamLayer === '')
      throw new Error('it has no "gradCamLayer"');
    const { shape, preprocessing, neighbours = 0 } = (input ?? {}) as Record<string, unknown>;
    if (!isInputShape(shape)) throw new Error('its "input.shape" is not [size, size, channels]');
    if (typeof preprocessing !== 'string') throw new Error('it has no "input.preprocessing"');
    if (!(Number.isInteger(neighbours) && (neighbours as number) >= 0))
      throw new Error('its "input.neighbours" is not a whole number of slices');
    const channels = 2 * (neighbours as number) + 1;
    if (shape[2] !== channels)
      throw new Error(
        `its "input.shape" gives ${shape[2]} channels, not the ${channels} that "input.neighbours" ${neighbours} asks for`
      );
    if (!isHashList(files)) throw new Error('its "files" is not a list of SHA-256 hashes');
    return {
      name,
      version,
      threshold,
      ...(seriesThresholds ? { seriesThresholds } : {}),
      gradCamLayer,
      input: { shape, preprocessing, neighbours: neighbours as number },
      files,
    };
  } catch (error) {
    throw new ModelCompatibilityError(
      `The model card is unusable: ${error instanceof Error ? error.message : String(error)}.`
    );
  }
}

function isProbability(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= 1;
}

function isSeriesThresholds(value: unknown): value is SeriesThresholds {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.entries(value).every(
      ([contrast, threshold]) =>
        (SERIES_VERDICT_CONTRASTS as readonly string[]).includes(contrast) &&
        isProbability(threshold)
    )
  );
}

function isInputShape(shape: unknown): shape is [number, number, number] {
  return (
    Array.isArray(shape) &&
    shape.length === 3 &&
    shape.every(value => Number.isInteger(value) && value > 0) &&
    shape[0] === shape[1]
  );
}

function isHashList(files: unknown): files is Record<string, string> {
  return (
    typeof files === 'object' &&
    files !== null &&
    Object.values(files).every(hash => typeof hash === 'string' && /^[0-9a-f]{64}$/i.test(hash))
  );
}
