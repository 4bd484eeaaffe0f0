/**
 * Training data from the synthesis engine: labelled axial slices of synthetic subjects, split by subject
 * and generated in worker threads (one per core unless told), so that synthesis overlaps training and
 * uses every core. Every subject is seeded by its id alone, so the slices do not depend on the number
 * of workers: subject k goes to worker k mod n, and the consumer takes the subjects back in order.
 *
 * Protocol between the main thread (consumer) and each worker (producer):
 * - the main thread plans the subjects (ids, splits, TSC or control, label map) and starts each worker
 *   with its share of that plan and SUBJECTS_AHEAD credits;
 * - the worker spends one credit per subject: it generates the subject's slices and posts them as one
 *   `subject` message, transferring the typed arrays' buffers; with no credit left it waits;
 * - the main thread grants one credit (a `credit` message) each time the consumer has taken every slice of
 *   a subject, so at most SUBJECTS_AHEAD subjects are generated but not yet consumed;
 * - a failure in a worker is posted as an `error` message (or surfaces as the worker's 'error' or early
 *   'exit') and rejects the iteration when that worker's next subject is due; leaving the loop early
 *   (`break`, `return`, a throw) terminates every worker.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker, type MessagePort } from 'node:worker_threads';
import { prepareAnatomy, type Anatomy } from './anatomy';
import { readNifti } from './nifti';
import { Random } from './random';
import type { Acquisition } from './render';
import { labelMapIndex, sliceTable, synthesizeSubject, type SliceLabel } from './subject';
import type { Contrast } from './types';

export type Split = 'train' | 'validation' | 'test';

export const SPLITS: readonly Split[] = ['train', 'validation', 'test'];

export type SplitFractions = Record<Split, number>;

export const DEFAULT_SPLIT_FRACTIONS: SplitFractions = { train: 0.7, validation: 0.15, test: 0.15 };

/** How many subjects each worker may generate ahead of the consumer. */
export const SUBJECTS_AHEAD = 2;

/** One labelled training example: a slice (or a 2.5D stack around it) and its tuber mask. */
export interface DatasetSlice {
  subjectId: string;
  split: Split;
  tsc: boolean;
  contrast: Contrast;
  /** Index of the slice among those its series kept, inferior to superior. */
  slice: number;
  label: SliceLabel;
  tuberAreaMm2: number;
  rows: number;
  columns: number;
  /** [between rows, between columns] in mm. */
  pixelSpacing: [number, number];
  /**
   * Stored 12-bit pixels, rows × columns, row by row: the slice alone (2D), or slices k−n … k+n of the
   * scanner's series with the slice in the middle and indices clamped at the ends of the series (2.5D;
   * with the acquisition's `maxSlices`, the neighbours are rendered around each slice kept). Neighbouring
   * slices share these arrays, so treat them as read-only.
   */
  channels: Uint16Array[];
  /** Tuber mask of the slice (1 inside a tuber), same layout as the channels. */
  mask: Uint8Array;
}

export interface DatasetOptions {
  /** NIfTI label maps (FreeSurfer/SynthSeg labels); subject n uses labelFiles[labelMapIndex(n, count)]. */
  labelFiles: string[];
  /** Number of subjects planned, across all splits. */
  subjects: number;
  /** Subject n is `${seed}-${n padded to 4 digits}`, which also seeds its synthesis. */
  seed: string;
  contrasts: Contrast[];
  /** Neighbouring slices on each side for 2.5D input; 0 (default) for 2D. */
  neighbours?: number;
  /** The splits whose slices are emitted (default all); subjects of other splits are not generated. */
  splits?: Split[];
  /** Shares of subjects per split (default 70/15/15). */
  splitFractions?: SplitFractions;
  /** Share of TSC subjects (default 0.5: the even-numbered subjects). */
  tscShare?: number;
  /** Fixed acquisition settings; plain data only (it is copied to the workers). */
  acquisition?: Partial<Acquisition>;
  /** Worker threads (default: one per core, never more than there are subjects). */
  workers?: number;
}

/** One planned subject: who it is, where it goes and what it is made from. */
export interface PlannedSubject {
  index: number;
  id: string;
  split: Split;
  tsc: boolean;
  labelFile: string;
}

export type SliceOptions = Pick<DatasetOptions, 'contrasts' | 'neighbours' | 'acquisition'>;

/** What the worker is given: the subjects to generate and how. */
export interface DatasetJob extends SliceOptions {
  subjects: PlannedSubject[];
  /** Subjects the worker may generate before the first credit arrives. */
  credits: number;
}

export type ToWorker = { type: 'credit'; subjects: number };

export type FromWorker =
  | { type: 'subject'; subjectId: string; slices: DatasetSlice[] }
  | { type: 'error'; message: string; stack?: string };

export class DatasetError extends Error {
  override name = 'DatasetError';
}

/**
 * The split of a subject, from a hash of its id alone: a subject never spans splits, whatever the order
 * or number of subjects.
 */
export function splitOfSubject(
  subjectId: string,
  fractions: SplitFractions = DEFAULT_SPLIT_FRACTIONS
): Split {
  const weights = SPLITS.map(split => fractions[split]);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  if (weights.some(weight => !(weight >= 0)) || !(total > 0 && Number.isFinite(total))) {
    throw new RangeError(`split fractions must be non-negative with a positive sum`);
  }
  const target = new Random(`split:${subjectId}`).next() * total;
  let cumulative = 0;
  for (let n = 0; n < SPLITS.length; n++) {
    cumulative += weights[n];
    if (target < cumulative) return SPLITS[n];
  }
  // Only reached through rounding: the last split that takes subjects at all.
  return [...SPLITS].reverse().find(split => fractions[split] > 0)!;
}

export function subjectId(seed: string, index: number): string {
  return `${seed}-${String(index).padStart(4, '0')}`;
}

/**
 * Whether subject `index` is TSC: the TSC subjects are spread evenly, so that every run of subjects
 * from 0 holds ceil(count × share) of them (share 0.5: the even-numbered subjects).
 */
export function isTscSubject(index: number, tscShare = 0.5): boolean {
  const through = (count: number) => Math.ceil(count * tscShare - 1e-9);
  return through(index + 1) > through(index);
}

/** Every subject of the dataset in the requested splits, in order; throws RangeError on bad options. */
export function planSubjects(options: DatasetOptions): PlannedSubject[] {
  checkOptions(options);
  const fractions = options.splitFractions ?? DEFAULT_SPLIT_FRACTIONS;
  const wanted = new Set(options.splits ?? SPLITS);
  const planned: PlannedSubject[] = [];
  for (let index = 0; index < options.subjects; index++) {
    const id = subjectId(options.seed, index);
    const split = splitOfSubject(id, fractions);
    if (!wanted.has(split)) continue;
    planned.push({
      index,
      id,
      split,
      tsc: isTscSubject(index, options.tscShare),
      labelFile: options.labelFiles[labelMapIndex(index, options.labelFiles.length)],
    });
  }
  return planned;
}

function checkOptions(options: DatasetOptions): void {
  const {
    labelFiles,
    subjects,
    contrasts,
    neighbours = 0,
    tscShare = 0.5,
    splits,
    workers,
  } = options;
  if (labelFiles.length === 0) throw new RangeError('the dataset needs at least one label file');
  if (!Number.isInteger(subjects) || subjects < 0)
    throw new RangeError(`subjects must be a non-negative integer, not ${subjects}`);
  if (contrasts.length === 0) throw new RangeError('the dataset needs at least one contrast');
  const unknown = contrasts.find(contrast => contrast !== 'T2' && contrast !== 'FLAIR');
  if (unknown !== undefined) throw new RangeError(`unknown contrast ${unknown}`);
  if (!Number.isInteger(neighbours) || neighbours < 0)
    throw new RangeError(`neighbours must be a non-negative integer, not ${neighbours}`);
  if (!(tscShare >= 0 && tscShare <= 1))
    throw new RangeError(`tscShare must be between 0 and 1, not ${tscShare}`);
  const unknownSplit = splits?.find(split => !SPLITS.includes(split));
  if (unknownSplit !== undefined) throw new RangeError(`unknown split ${unknownSplit}`);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1))
    throw new RangeError(`workers must be a positive integer, not ${workers}`);
}

/** Reads and prepares a label map; throws DatasetError "cannot read label map PATH: why". */
export function loadLabelMap(path: string): Anatomy {
  try {
    return prepareAnatomy(readNifti(readFileSync(path)));
  } catch (error) {
    throw labelMapError(path, error);
  }
}

function labelMapError(path: string, error: unknown): DatasetError {
  return new DatasetError(`cannot read label map ${path}: ${messageOf(error)}`, { cause: error });
}

/** The labelled slices of one subject, every contrast in turn, inferior to superior. Pure: no threads. */
export function generateSubjectSlices(
  anatomy: Anatomy,
  subject: Pick<PlannedSubject, 'id' | 'split' | 'tsc'>,
  options: SliceOptions
): DatasetSlice[] {
  const neighbours = options.neighbours ?? 0;
  const synthetic = synthesizeSubject(anatomy, subject.id, {
    tsc: subject.tsc,
    contrasts: options.contrasts,
    acquisition: { ...options.acquisition, neighbours },
  });
  return synthetic.series.flatMap(series => {
    const last = series.pixels.length - 1;
    const rows = sliceTable(series);
    return series.kept.map((rendered, slice) => ({
      subjectId: subject.id,
      split: subject.split,
      tsc: subject.tsc,
      contrast: series.contrast,
      slice,
      label: rows[rendered].label,
      tuberAreaMm2: rows[rendered].tuberAreaMm2,
      rows: series.rows,
      columns: series.columns,
      pixelSpacing: [series.pixelSpacing[0], series.pixelSpacing[1]],
      channels: Array.from(
        { length: 2 * neighbours + 1 },
        (_, channel) => series.pixels[Math.min(last, Math.max(0, rendered - neighbours + channel))]
      ),
      mask: series.masks[rendered],
    }));
  });
}

/**
 * The worker's side of the protocol, on any MessagePort (the worker's parentPort, or one end of a
 * MessageChannel in tests). Never rejects: failures are posted as `error` messages.
 */
export async function runDatasetProducer(port: MessagePort, job: DatasetJob): Promise<void> {
  let credits = job.credits;
  let wake: (() => void) | undefined;
  const onMessage = (message: ToWorker) => {
    if (message.type !== 'credit') return;
    credits += message.subjects;
    wake?.();
  };
  port.on('message', onMessage);
  try {
    checkReadable(job.subjects);
    const anatomies = new Map<string, Anatomy>();
    for (const subject of job.subjects) {
      while (credits <= 0) await new Promise<void>(resolve => (wake = resolve));
      wake = undefined;
      credits--;
      let anatomy = anatomies.get(subject.labelFile);
      if (!anatomy) {
        anatomy = loadLabelMap(subject.labelFile);
        anatomies.set(subject.labelFile, anatomy);
      }
      const slices = generateSubjectSlices(anatomy, subject, job);
      const message: FromWorker = { type: 'subject', subjectId: subject.id, slices };
      port.postMessage(message, transferables(slices));
    }
  } catch (error) {
    const message: FromWorker = {
      type: 'error',
      message: messageOf(error),
      stack: error instanceof Error ? error.stack : undefined,
    };
    port.postMessage(message);
  } finally {
    port.off('message', onMessage);
  }
}

/** Fails fast on a missing label map, before any subject is generated. */
function checkReadable(subjects: PlannedSubject[]): void {
  for (const path of new Set(subjects.map(subject => subject.labelFile))) {
    try {
      accessSync(path, constants.R_OK);
    } catch (error) {
      throw labelMapError(path, error);
    }
  }
}

/** Each buffer once: neighbouring 2.5D slices share channel arrays, and a transfer list may not repeat. */
function transferables(slices: DatasetSlice[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const slice of slices) {
    for (const channel of slice.channels) buffers.add(channel.buffer as ArrayBuffer);
    buffers.add(slice.mask.buffer as ArrayBuffer);
  }
  return [...buffers];
}

/** The bootstrap that registers tsx and loads datasetWorker.ts, so the worker runs under jest and node. */
const WORKER_FILE = join(__dirname, 'datasetWorker.cjs');

let liveWorkers = 0;

/** Dataset workers started and not yet exited (for checks that nothing is left running). */
export function liveDatasetWorkers(): number {
  return liveWorkers;
}

/**
 * Streams the labelled slices of the dataset, subject by subject, generated in worker threads that each
 * stay at most SUBJECTS_AHEAD subjects ahead. The workers start at the first iteration; leaving the loop
 * early terminates them; a failure (e.g. an unreadable label map) rejects the iteration with its reason.
 */
export async function* streamDataset(
  options: DatasetOptions
): AsyncGenerator<DatasetSlice, void, undefined> {
  const subjects = planSubjects(options);
  if (subjects.length === 0) return;
  const count = Math.min(options.workers ?? availableParallelism(), subjects.length);
  const producers: Array<{ worker: Worker; inbox: Inbox; remaining: number }> = [];
  try {
    for (let n = 0; n < count; n++) {
      const share = subjects.filter((_, k) => k % count === n);
      const worker = startWorker({
        subjects: share,
        credits: SUBJECTS_AHEAD,
        contrasts: options.contrasts,
        neighbours: options.neighbours ?? 0,
        acquisition: options.acquisition,
      });
      // Referenced only while awaited, so an abandoned iteration does not keep the process alive.
      worker.unref();
      producers.push({ worker, inbox: new Inbox(worker), remaining: share.length });
    }
    for (let k = 0; k < subjects.length; k++) {
      const producer = producers[k % count];
      producer.worker.ref();
      const message = await producer.inbox.next();
      producer.worker.unref();
      yield* message.slices;
      if (--producer.remaining > 0)
        producer.worker.postMessage({ type: 'credit', subjects: 1 } satisfies ToWorker);
    }
  } finally {
    await Promise.all(producers.map(({ worker }) => worker.terminate()));
  }
}

function startWorker(job: DatasetJob): Worker {
  let worker: Worker;
  try {
    worker = new Worker(WORKER_FILE, { workerData: job });
  } catch (error) {
    const hint =
      error instanceof Error && error.name === 'DataCloneError'
        ? ' (options.acquisition must be plain data: no warp or bias field objects)'
        : '';
    throw new DatasetError(`cannot start the dataset worker: ${messageOf(error)}${hint}`, {
      cause: error,
    });
  }
  liveWorkers++;
  worker.once('exit', () => liveWorkers--);
  return worker;
}

type InboxItem = FromWorker | { type: 'failure'; error: DatasetError };

/** The worker's messages and failures, in arrival order, one at a time. */
class Inbox {
  private items: InboxItem[] = [];
  private waiting: (() => void) | undefined;

  constructor(worker: Worker) {
    const fail = (message: string, cause?: unknown) =>
      this.push({ type: 'failure', error: new DatasetError(message, { cause }) });
    worker.on('message', (message: FromWorker) => this.push(message));
    worker.on('error', error => fail(`the dataset worker failed: ${error.message}`, error));
    worker.on('messageerror', error =>
      fail(`cannot receive from the dataset worker: ${error.message}`, error)
    );
    worker.on('exit', code =>
      fail(`the dataset worker stopped (exit code ${code}) before the end`)
    );
  }

  /** The next subject; throws the first failure. */
  async next(): Promise<Extract<FromWorker, { type: 'subject' }>> {
    while (this.items.length === 0) await new Promise<void>(resolve => (this.waiting = resolve));
    const item = this.items.shift()!;
    if (item.type === 'failure') throw item.error;
    if (item.type === 'error') {
      const cause = new Error(item.message);
      if (item.stack) cause.stack = item.stack;
      throw new DatasetError(item.message, { cause });
    }
    return item;
  }

  private push(item: InboxItem): void {
    this.items.push(item);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
