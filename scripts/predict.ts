// tuberlens predict <path> [--json] [--cam <dir>] [--contrast FLAIR|T2] [--model <folder>]:
// the successor of the 2020 study's app.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initialiseNodeBackend } from '../models/pipeline/tfBackend';
import { gradCam, saliency } from '../extension/src/core/explain';
import {
  interleaveChannels,
  neighbourStacks,
  superiorLevel,
} from '../extension/src/core/neighbours';
import {
  DEFAULT_PREPROCESSING,
  preprocessSlice,
  UPPER_CLIP,
  type SliceInput,
} from '../extension/src/core/preprocessing';
import {
  operatingPoint,
  SERIES_VERDICT_CONTRASTS,
  type OperatingPoint,
  type VerdictContrast,
} from '../extension/src/core/operatingPoint';
import {
  classifySeries,
  type Contrast,
  type SeriesAttributes,
} from '../extension/src/core/seriesClassification';
import { decideAnalysedSeries, flagOf } from '../extension/src/core/seriesReport';
import {
  parseEngineModelCard,
  type EngineModelCard,
} from '../extension/src/core/engine/modelPackage';
import { encodePng } from '../models/pipeline/synthesis/png';
import { concatenate } from '../models/pipeline/typedArrays';
import { NiftiError, readNifti } from '../models/pipeline/synthesis/nifti';
import { loadModel, sha256File, WEIGHTS_FILE } from '../models/pipeline/training/modelFiles';
import { DicomFileError, frameBytes, parseDicom, type DicomJson } from './server/dicomFile';

export const PREDICT_USAGE = `Usage: tuberlens predict <DICOM folder or file | NIfTI volume> [--json] [--cam <dir>]
                        [--contrast FLAIR|T2] [--model <folder>]

  Runs the tuber detector on every axial MR series found (files in any order, nested folders) or on
  the axial slices of a NIfTI volume. Each series is read at the model card's operating point for its
  contrast (FLAIR or T2, from its DICOM attributes); where the model is not validated for the
  contrast, the series gets its probabilities and "no verdict" with the reason. A NIfTI volume does
  not say its contrast: give it with --contrast. --json prints one JSON document; --cam writes
  Grad-CAM and saliency overlays as PNG. Exit 2 with a one-line reason for input it cannot use.`;

/** Input the detector cannot use: one line on stderr, exit code 2. */
export class PredictInputError extends Error {}

const ROOT = resolve(__dirname, '..');

export interface Slice extends SliceInput {
  key: { sopInstanceUID: string; instanceNumber: number } | { slice: number };
  /** Height along the slice normal towards the top of the head (see superiorLevel), or the order. */
  position: number;
  /** The instance's attributes (without pixel data), for slices read from DICOM files. */
  metadata?: DicomJson;
}

export interface SeriesInput {
  seriesInstanceUID?: string;
  seriesDescription: string;
  contrast: Contrast;
  /** Why there is no verdict where the input does not say its contrast (NIfTI without --contrast). */
  unknownContrastReason?: string;
  /** From inferior to superior (by position). */
  slices: Slice[];
  skipped?: string;
  /** Why the result may not hold, though the series could be read. */
  warning?: string;
  /** Why files of the series could not be read as slices, one entry per file. */
  unreadable: string[];
}

/** The warning for series the model was not made for, as the viewer's panel words it. */
const NOT_T2_OR_FLAIR =
  'not T2 or FLAIR by its description or sequence: the model was trained on axial T2 and FLAIR only, so this result is out of scope';

/** A loaded model with its card and the SHA-256 of its weights. */
export interface Detector {
  model: tfl.LayersModel;
  card: EngineModelCard;
  sha256: string;
}

/** Slices run through the model at once. */
const DETECTION_BATCH = 24;

export async function predictCommand(args: string[], print: (text: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      cam: { type: 'string' },
      contrast: { type: 'string' },
      model: { type: 'string', default: join(ROOT, 'models', 'tuber-net') },
    },
  });
  if (positionals.length !== 1)
    throw new PredictInputError('Give exactly one DICOM folder, DICOM file or NIfTI volume.');
  const input = resolve(positionals[0]);
  const series = await readSeries(input, niftiContrast(values.contrast));
  const detector = await loadDetector(resolve(values.model));
  const results = [];
  for (const [index, entry] of series.entries()) {
    results.push(
      await predictSeries(
        detector,
        entry,
        values.cam ? join(resolve(values.cam), `series-${index + 1}`) : undefined
      )
    );
  }
  detector.model.dispose();
  const { name, version } = detector.card;
  const document = { model: { name, version, sha256: detector.sha256 }, series: results };
  print(values.json ? JSON.stringify(document) : humanReadable(document));
}

function niftiContrast(option: string | undefined): VerdictContrast | undefined {
  if (option === undefined) return undefined;
  if ((SERIES_VERDICT_CONTRASTS as readonly string[]).includes(option))
    return option as VerdictContrast;
  throw new PredictInputError(
    `--contrast must be ${SERIES_VERDICT_CONTRASTS.join(' or ')}, not "${option}".`
  );
}

/** The model of a model folder (model-card.json beside the weights) on the Node wasm backend. */
export async function loadDetector(modelFolder: string): Promise<Detector> {
  if (!existsSync(join(modelFolder, 'model-card.json'))) {
    throw new PredictInputError(
      `No model at ${modelFolder} (model-card.json missing): train and evaluate one first.`
    );
  }
  const card = await readModelCard(join(modelFolder, 'model-card.json'));
  await initialiseNodeBackend('wasm');
  return {
    model: await loadModel(modelFolder),
    card,
    sha256: await sha256File(join(modelFolder, WEIGHTS_FILE)),
  };
}

/** The card, checked as the viewer checks it, so that a malformed one is refused before it decides. */
async function readModelCard(path: string): Promise<EngineModelCard> {
  try {
    return parseEngineModelCard(JSON.parse(await readFile(path, 'utf8')));
  } catch (error) {
    throw new PredictInputError(`${path}: ${(error as Error).message}`);
  }
}

/** Slices run through the model together, with their preprocessed input and Grad-CAM maps. */
export interface DetectionBatch {
  /** Index of the batch's first slice in the series. */
  start: number;
  slices: Slice[];
  /** Each slice's own preprocessed pixels (size × size), one after another. */
  input: Float32Array;
  /** The model input: each slice with its neighbours, where the model takes them. */
  tensor: tf.Tensor4D;
  gradCams: Float32Array[];
}

/** Each slice's probability and Grad-CAM map (model grid, 0–1), as the viewer's engine makes them. */
export async function detectSlices(
  { model, card }: Detector,
  slices: Slice[],
  onBatch?: (batch: DetectionBatch) => Promise<void>
): Promise<{ probabilities: number[]; gradCams: Float32Array[] }> {
  const { size } = DEFAULT_PREPROCESSING;
  const { neighbours, shape } = card.input;
  const own = slices.map(slice => preprocessSlice(slice));
  const stacks = neighbourStacks(
    slices.map(slice => slice.position),
    neighbours
  );
  const probabilities: number[] = [];
  const gradCams: Float32Array[] = [];
  for (let start = 0; start < slices.length; start += DETECTION_BATCH) {
    const batch = slices.slice(start, start + DETECTION_BATCH);
    const indices = batch.map((_, n) => start + n);
    const input = concatenate(indices.map(index => own[index]));
    const tensor = tf.tensor4d(
      concatenate(indices.map(index => interleaveChannels(stacks[index].map(k => own[k])))),
      [batch.length, size, size, shape[2]]
    );
    try {
      const explanation = gradCam({ tf, tfl }, model, tensor, card.gradCamLayer);
      probabilities.push(...explanation.probabilities);
      gradCams.push(...explanation.maps);
      await onBatch?.({ start, slices: batch, input, tensor, gradCams: explanation.maps });
    } finally {
      tensor.dispose();
    }
  }
  return { probabilities, gradCams };
}

/** One series of `predict --json` (docs/results-format.md). */
export interface SeriesPrediction {
  seriesInstanceUID?: string;
  seriesDescription: string;
  contrast: Contrast;
  probability: number | null;
  threshold?: number;
  positive: boolean | null;
  verdictWithheld?: string;
  skipped?: string;
  warning?: string;
  instances: Array<{
    sopInstanceUID?: string;
    instanceNumber?: number;
    slice?: number;
    probability: number;
    positive: boolean | null;
  }>;
}

async function predictSeries(
  detector: Detector,
  series: SeriesInput,
  camFolder?: string
): Promise<SeriesPrediction> {
  const base = {
    ...(series.seriesInstanceUID ? { seriesInstanceUID: series.seriesInstanceUID } : {}),
    seriesDescription: series.seriesDescription,
    contrast: series.contrast,
    ...(series.warning ? { warning: series.warning } : {}),
  };
  if (series.skipped)
    return { ...base, skipped: series.skipped, probability: null, positive: null, instances: [] };
  const { probabilities } = await detectSlices(
    detector,
    series.slices,
    camFolder ? batch => writeOverlays(camFolder, batch, detector.model) : undefined
  );
  const point = seriesOperatingPoint(detector.card, series);
  const decision = decideAnalysedSeries(probabilities, point);
  return {
    ...base,
    probability: decision.probability,
    threshold: decision.threshold,
    positive: decision.positive,
    ...(decision.positive === null ? { verdictWithheld: decision.withheldReason } : {}),
    instances: series.slices.map((slice, n) => ({
      ...slice.key,
      probability: probabilities[n],
      positive: flagOf({ probability: probabilities[n] }, point),
    })),
  };
}

/** The series' operating point; for an unknown contrast, the reason says how to give it. */
function seriesOperatingPoint(card: EngineModelCard, series: SeriesInput): OperatingPoint {
  const point = operatingPoint(card, series.contrast);
  return !point.verdict && series.unknownContrastReason
    ? { ...point, reason: series.unknownContrastReason }
    : point;
}

async function readSeries(path: string, niftiContrast?: VerdictContrast): Promise<SeriesInput[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new PredictInputError(`${path} does not exist.`);
  if (info.isFile() && /\.nii(\.gz)?$/i.test(path)) return [await niftiSeries(path, niftiContrast)];
  if (niftiContrast)
    throw new PredictInputError(
      '--contrast is for a NIfTI volume: a DICOM series is classified by its own attributes.'
    );
  const files = info.isDirectory() ? await listFiles(path) : [path];
  const reader = new DicomSeriesReader();
  for (const file of files) reader.add(await readFile(file));
  const series = reader.series();
  if (series.length === 0)
    throw new PredictInputError(
      info.isDirectory()
        ? `No DICOM image or NIfTI volume found at ${path}.`
        : `${path} is neither a DICOM file nor a NIfTI volume (.nii or .nii.gz).`
    );
  if (series.every(entry => entry.skipped))
    throw new PredictInputError(series.map(entry => entry.skipped).join('; '));
  return series;
}

/** DICOM files, in any order and of any series, grouped into series of slices. */
export class DicomSeriesReader {
  private readonly bySeries = new Map<string, SeriesFiles>();

  /** Adds one file; a file that is not DICOM is passed over. */
  add(bytes: Uint8Array): void {
    let parsed;
    try {
      parsed = parseDicom(bytes);
    } catch (error) {
      if (error instanceof DicomFileError) return;
      throw error;
    }
    const dataset = naturalized(parsed.instance.metadata);
    const uid = parsed.instance.seriesInstanceUID;
    const entry = this.bySeries.get(uid) ?? {
      description: String(dataset.SeriesDescription ?? ''),
      modality: String(dataset.Modality ?? ''),
      attributes: dataset as SeriesAttributes,
      slices: [],
      problems: [],
    };
    this.bySeries.set(uid, entry);
    try {
      entry.slices.push(dicomSlice(parsed, dataset));
    } catch (error) {
      entry.problems.push((error as Error).message);
    }
  }

  /** Each series with its slices in order, or the reason it cannot be analysed. */
  series(): SeriesInput[] {
    return [...this.bySeries.entries()].map(([uid, entry]) => seriesInput(uid, entry));
  }
}

/** What the files of one series gave: its first file's attributes, its slices, what went wrong. */
interface SeriesFiles {
  description: string;
  modality: string;
  /** What classifies the series: its first file's description, sequence, timings, orientation. */
  attributes: SeriesAttributes;
  slices: Slice[];
  problems: string[];
}

function seriesInput(uid: string, entry: SeriesFiles): SeriesInput {
  const { contrast, plane } = classifySeries(entry.attributes);
  const base = {
    seriesInstanceUID: uid,
    seriesDescription: entry.description,
    contrast,
    slices: entry.slices.sort((a, b) => a.position - b.position),
    unreadable: entry.problems,
  };
  if (entry.modality !== 'MR')
    return {
      ...base,
      slices: [],
      skipped: `series ${uid} is not MR (modality ${entry.modality || 'unknown'})`,
    };
  if (entry.slices.length === 0)
    return {
      ...base,
      skipped: `series ${uid} has no usable image: ${entry.problems[0] ?? 'no pixel data'}`,
    };
  if (plane !== 'axial')
    return { ...base, slices: [], skipped: `series ${uid} is not axial (plane: ${plane})` };
  return contrast === 'other' ? { ...base, warning: NOT_T2_OR_FLAIR } : base;
}

type Dataset = Record<string, unknown>;

function dicomSlice(parsed: ReturnType<typeof parseDicom>, dataset: Dataset): Slice {
  const { instance, dict } = parsed;
  if (instance.transferSyntaxUID !== '1.2.840.10008.1.2.1') {
    throw new Error(`compressed transfer syntax ${instance.transferSyntaxUID} is not supported`);
  }
  const rows = Number(dataset.Rows);
  const columns = Number(dataset.Columns);
  const bytes = frameBytes(dict, instance, 1);
  const signed = Number(dataset.PixelRepresentation) === 1;
  const bits = Number(dataset.BitsAllocated);
  if (Number(dataset.SamplesPerPixel ?? 1) !== 1 || (bits !== 8 && bits !== 16)) {
    throw new Error(
      `only 8- or 16-bit grayscale images are supported (${bits}-bit, ${dataset.SamplesPerPixel} samples)`
    );
  }
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const pixels =
    bits === 8 ? new Uint8Array(buffer) : signed ? new Int16Array(buffer) : new Uint16Array(buffer);
  const orientation = numbers(dataset.ImageOrientationPatient);
  const position = numbers(dataset.ImagePositionPatient);
  return {
    pixels,
    rows,
    columns,
    pixelSpacing: (numbers(dataset.PixelSpacing) ?? [1, 1]) as [number, number],
    rescaleSlope: Number(dataset.RescaleSlope ?? 1),
    rescaleIntercept: Number(dataset.RescaleIntercept ?? 0),
    imageOrientationPatient: orientation,
    key: {
      sopInstanceUID: instance.sopInstanceUID,
      instanceNumber: Number(dataset.InstanceNumber ?? 0),
    },
    position:
      orientation && position
        ? superiorLevel(position, orientation)
        : Number(dataset.InstanceNumber ?? 0),
    metadata: instance.metadata,
  };
}

const NIFTI_CONTRAST_UNKNOWN =
  'No verdict: a NIfTI volume does not say its contrast; give it with --contrast FLAIR or --contrast T2.';

/** The axial slices of a NIfTI volume: the voxel axis closest to superior–inferior is the slice axis. */
async function niftiSeries(path: string, contrast?: VerdictContrast): Promise<SeriesInput> {
  let volume;
  try {
    volume = readNifti(await readFile(path));
  } catch (error) {
    if (error instanceof NiftiError) throw new PredictInputError(`${path}: ${error.message}`);
    throw error;
  }
  const { dims, affine, data } = volume;
  const axes = [0, 1, 2].map(a => [affine[a], affine[4 + a], affine[8 + a]]);
  const sliceAxis = [0, 1, 2].reduce(
    (best, a) =>
      Math.abs(axes[a][2]) / Math.hypot(...axes[a]) >
      Math.abs(axes[best][2]) / Math.hypot(...axes[best])
        ? a
        : best,
    0
  );
  const [columnAxis, rowAxis] = [0, 1, 2].filter(a => a !== sliceAxis);
  // RAS → LPS for the DICOM-style orientation the preprocessing reads.
  const lps = (v: number[]) => [-v[0], -v[1], v[2]].map(c => c / Math.hypot(...v));
  const orientation = [...lps(axes[columnAxis]), ...lps(axes[rowAxis])];
  const stride = [1, dims[0], dims[0] * dims[1]];
  const slices: Slice[] = Array.from({ length: dims[sliceAxis] }, (_, k) => {
    const pixels = new Float32Array(dims[rowAxis] * dims[columnAxis]);
    for (let r = 0; r < dims[rowAxis]; r++) {
      for (let c = 0; c < dims[columnAxis]; c++) {
        pixels[r * dims[columnAxis] + c] =
          data[k * stride[sliceAxis] + r * stride[rowAxis] + c * stride[columnAxis]];
      }
    }
    return {
      pixels,
      rows: dims[rowAxis],
      columns: dims[columnAxis],
      pixelSpacing: [Math.hypot(...axes[rowAxis]), Math.hypot(...axes[columnAxis])],
      imageOrientationPatient: orientation,
      key: { slice: k },
      position: k * Math.sign(axes[sliceAxis][2] || 1),
    };
  });
  return {
    seriesDescription: path.split('/').pop() ?? path,
    ...(contrast
      ? { contrast }
      : { contrast: 'other', unknownContrastReason: NIFTI_CONTRAST_UNKNOWN }),
    slices: slices.sort((a, b) => a.position - b.position),
    unreadable: [],
  };
}

async function listFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries
    .filter(entry => entry.isFile() && !entry.name.startsWith('.'))
    .map(entry => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

/** Keyword → value view of DICOM JSON, enough for the attributes read here. */
function naturalized(metadata: Record<string, { Value?: unknown[] }>): Dataset {
  const TAGS: Record<string, string> = {
    '00080060': 'Modality',
    '0008103E': 'SeriesDescription',
    '00180024': 'SequenceName',
    '00180020': 'ScanningSequence',
    '00180080': 'RepetitionTime',
    '00180081': 'EchoTime',
    '00180082': 'InversionTime',
    '00200013': 'InstanceNumber',
    '00200032': 'ImagePositionPatient',
    '00200037': 'ImageOrientationPatient',
    '00280030': 'PixelSpacing',
    '00280010': 'Rows',
    '00280011': 'Columns',
    '00280002': 'SamplesPerPixel',
    '00280100': 'BitsAllocated',
    '00280103': 'PixelRepresentation',
    '00281053': 'RescaleSlope',
    '00281052': 'RescaleIntercept',
  };
  const dataset: Dataset = {};
  for (const [tag, keyword] of Object.entries(TAGS)) {
    const value = metadata[tag]?.Value;
    if (value !== undefined) dataset[keyword] = value.length === 1 ? value[0] : value;
  }
  return dataset;
}

function numbers(value: unknown): number[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const parsed = value.map(Number);
  return parsed.every(Number.isFinite) ? parsed : undefined;
}

/** Grad-CAM and saliency over the model input, as red heat on grayscale, one PNG each per slice. */
async function writeOverlays(
  folder: string,
  { start, slices, input, tensor, gradCams }: DetectionBatch,
  model: tfl.LayersModel
) {
  await mkdir(folder, { recursive: true });
  const salient = saliency(tf, model, tensor).maps;
  const { size } = DEFAULT_PREPROCESSING;
  for (let n = 0; n < slices.length; n++) {
    const image = input.subarray(n * size * size, (n + 1) * size * size);
    const name = String(start + n + 1).padStart(3, '0');
    await writeFile(join(folder, `${name}-gradcam.png`), heatOverlay(image, gradCams[n], size));
    await writeFile(join(folder, `${name}-saliency.png`), heatOverlay(image, salient[n], size));
  }
}

function heatOverlay(image: Float32Array, heat: Float32Array, size: number): Uint8Array {
  const rgb = new Uint8Array(size * size * 3);
  for (let p = 0; p < size * size; p++) {
    const gray = Math.min(255, (255 * image[p]) / UPPER_CLIP);
    const h = heat[p];
    rgb[p * 3] = Math.min(255, gray * (1 - h) + 255 * h);
    rgb[p * 3 + 1] = gray * (1 - h) + 64 * h * (1 - h);
    rgb[p * 3 + 2] = gray * (1 - h);
  }
  return encodePng(size, size, rgb, 3);
}

function humanReadable(document: {
  model: { name: string; version: string };
  series: SeriesPrediction[];
}): string {
  const lines = [`Model ${document.model.name} ${document.model.version}`];
  for (const series of document.series) {
    const name = series.seriesDescription || '(no description)';
    lines.push(
      series.skipped ? `${name}: skipped, ${series.skipped}` : `${name}: ${outcome(series)}`
    );
  }
  return lines.join('\n');
}

/** The verdict, or the reason there is none, with the numbers behind it. */
function outcome(series: SeriesPrediction): string {
  const verdict =
    series.verdictWithheld ?? (series.positive ? 'TUBERS SUSPECTED' : 'no tuber found');
  const figures = `highest slice probability ${series.probability!.toFixed(3)}, threshold ${series.threshold!.toFixed(3)}, ${series.instances.length} slices`;
  return `${verdict} (${figures})${series.warning ? `; WARNING: ${series.warning}` : ''}`;
}
