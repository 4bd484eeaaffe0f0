/**
 * A fixed set of preprocessed, labelled slices per split, rendered once by the synthesis engine and
 * cached on disk, so that training epochs and model comparisons see exactly the same data.
 * Splits are by anatomy: no label map (hence no brain) serves two splits.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { interleaveChannels } from '../../../extension/src/core/neighbours';
import {
  preprocessSlice,
  resampleToModelGrid,
  UPPER_CLIP,
  type PreprocessingSpec,
} from '../../../extension/src/core/preprocessing';
import { streamDataset, type Split } from '../synthesis/dataset';
import type { Acquisition } from '../synthesis/render';
import type { Contrast } from '../synthesis/types';
import { concatenate } from '../typedArrays';

export const SPLITS: Split[] = ['train', 'validation', 'test'];

export interface TrainingSetSpec {
  seed: string;
  labelMaps: Record<Split, string[]>;
  subjects: Record<Split, number>;
  contrasts: Contrast[];
  preprocessing: PreprocessingSpec;
  acquisition?: Partial<Acquisition>;
  /** The scanner's adjacent slices on either side of each slice, as extra channels (2.5D). */
  neighbours?: number;
}

export interface SliceRecord {
  subjectId: string;
  tsc: boolean;
  contrast: Contrast;
  slice: number;
  positive: boolean;
  /**
   * Some tuber, under the positive area: neither clearly positive nor clearly negative, so left out of
   * training and of slice metrics (see labelledSlices), but part of its series, as in the product.
   */
  ambiguous?: true;
  tuberAreaMm2: number;
}

export interface TrainingSplit {
  size: number;
  /** Model input channels: 1, or the slice and its neighbours (2.5D, the slice in the middle). */
  channels: number;
  records: SliceRecord[];
  /**
   * Model inputs, size × size × channels per slice (see interleaveChannels), quantised: value =
   * byte / 255 × UPPER_CLIP.
   */
  images: Uint8Array;
  /** Tuber fraction of each model pixel, byte / 255. */
  masks: Uint8Array;
}

/**
 * Renders the set's `splits` (all three unless told) into `folder`, each unless it is already there.
 * Ambiguous slices are kept and flagged: series and brains are judged on all their slices.
 */
export async function ensureTrainingSet(
  spec: TrainingSetSpec,
  folder: string,
  progress: (message: string) => void,
  splits: readonly Split[] = SPLITS
): Promise<void> {
  if (existsSync(join(folder, '.complete'))) return;
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'spec.json'), `${JSON.stringify(spec, null, 2)}\n`);
  // A split's records file is written last, so it marks the split complete.
  const rendered = (split: Split) => existsSync(join(folder, `${split}.json`));
  for (const split of splits)
    if (!rendered(split)) await renderSplit(spec, split, folder, progress);
  if (SPLITS.every(rendered)) await writeFile(join(folder, '.complete'), '');
}

async function renderSplit(
  spec: TrainingSetSpec,
  split: Split,
  folder: string,
  progress: (message: string) => void
) {
  const { size } = spec.preprocessing;
  const channels = 2 * (spec.neighbours ?? 0) + 1;
  const records: SliceRecord[] = [];
  const images: Uint8Array[] = [];
  const masks: Uint8Array[] = [];
  const started = Date.now();
  const subjects = new Set<string>();
  const slices = streamDataset({
    labelFiles: spec.labelMaps[split],
    subjects: spec.subjects[split],
    seed: `${spec.seed}-${split}`,
    contrasts: spec.contrasts,
    splitFractions: { train: 0, validation: 0, test: 0, [split]: 1 },
    acquisition: spec.acquisition,
    neighbours: spec.neighbours,
  });
  for await (const slice of slices) {
    if (!subjects.has(slice.subjectId)) {
      subjects.add(slice.subjectId);
      progress(
        `${split}: subject ${subjects.size}/${spec.subjects[split]}, ${records.length} slices, ${((Date.now() - started) / 1000).toFixed(0)} s`
      );
    }
    const input = { rows: slice.rows, columns: slice.columns, pixelSpacing: slice.pixelSpacing };
    images.push(
      interleaveChannels(
        slice.channels.map(pixels =>
          quantise(preprocessSlice({ ...input, pixels }, spec.preprocessing), UPPER_CLIP)
        )
      )
    );
    masks.push(
      quantise(resampleToModelGrid({ ...input, pixels: slice.mask }, spec.preprocessing), 1)
    );
    records.push({
      subjectId: slice.subjectId,
      tsc: slice.tsc,
      contrast: slice.contrast,
      slice: slice.slice,
      positive: slice.label === 'positive',
      ...(slice.label === 'ambiguous' ? { ambiguous: true as const } : {}),
      tuberAreaMm2: Number(slice.tuberAreaMm2.toFixed(1)),
    });
  }
  await writeAtomically(join(folder, `${split}.images.u8`), concatenate(images));
  await writeAtomically(join(folder, `${split}.masks.u8`), concatenate(masks));
  await writeAtomically(join(folder, `${split}.json`), JSON.stringify({ size, channels, records }));
}

export async function loadTrainingSplit(folder: string, split: Split): Promise<TrainingSplit> {
  const stored = JSON.parse(await readFile(join(folder, `${split}.json`), 'utf8')) as {
    size: number;
    channels?: number;
    records: SliceRecord[];
  };
  const { size, records } = stored;
  const channels = stored.channels ?? 1;
  const images = new Uint8Array(await readFile(join(folder, `${split}.images.u8`)));
  const masks = new Uint8Array(await readFile(join(folder, `${split}.masks.u8`)));
  const slicePixels = records.length * size * size;
  if (images.length !== slicePixels * channels || masks.length !== slicePixels) {
    throw new Error(`The ${split} split in ${folder} is damaged: rebuild it.`);
  }
  return { size, channels, records, images, masks };
}

/** The model inputs of the split's slices at `indices`, dequantised, one after another. */
export function modelInputs(split: TrainingSplit, indices: number[]): Float32Array {
  const values = split.size * split.size * split.channels;
  const out = new Float32Array(indices.length * values);
  indices.forEach((index, n) => {
    const image = split.images.subarray(index * values, (index + 1) * values);
    for (let k = 0; k < values; k++) out[n * values + k] = (image[k] * UPPER_CLIP) / 255;
  });
  return out;
}

/**
 * The split as a model reading fewer neighbours sees it: each slice's centre `channels` channels, the
 * slice and its nearest neighbours.
 */
export function centreChannels(split: TrainingSplit, channels: number): TrainingSplit {
  if (channels === split.channels) return split;
  if (!(channels % 2 === 1 && channels < split.channels))
    throw new RangeError(`${channels} centre channels cannot be taken from ${split.channels}`);
  const skip = (split.channels - channels) / 2;
  const pixels = split.records.length * split.size * split.size;
  const images = new Uint8Array(pixels * channels);
  for (let pixel = 0; pixel < pixels; pixel++)
    for (let channel = 0; channel < channels; channel++)
      images[pixel * channels + channel] = split.images[pixel * split.channels + skip + channel];
  return { ...split, channels, images };
}

/** The split without its ambiguous slices: what training and slice metrics use. */
export function labelledSlices(split: TrainingSplit): TrainingSplit {
  const kept = split.records.flatMap((record, n) => (record.ambiguous ? [] : [n]));
  if (kept.length === split.records.length) return split;
  const pixels = split.size * split.size;
  const pick = (values: Uint8Array, perSlice: number) => {
    const out = new Uint8Array(kept.length * perSlice);
    kept.forEach((n, k) =>
      out.set(values.subarray(n * perSlice, (n + 1) * perSlice), k * perSlice)
    );
    return out;
  };
  return {
    ...split,
    records: kept.map(n => split.records[n]),
    images: pick(split.images, pixels * split.channels),
    masks: pick(split.masks, pixels),
  };
}

function quantise(values: Float32Array, maximum: number): Uint8Array {
  return Uint8Array.from(values, value =>
    Math.round((255 * Math.min(maximum, Math.max(0, value))) / maximum)
  );
}

async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  await writeFile(`${path}.partial`, data);
  await rename(`${path}.partial`, path);
}
