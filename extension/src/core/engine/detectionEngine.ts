/**
 * The in-browser tuber detector: a verified model package on the fastest TF.js backend that runs here,
 * giving each preprocessed slice its probability and Grad-CAM (and, on request, saliency) map.
 * Framework-free; TF.js loads on first use. TF.js has one active backend per page, so a page runs one
 * engine at a time.
 */
import type * as tfCore from '@tensorflow/tfjs-core';
import type * as tfLayers from '@tensorflow/tfjs-layers';
import { gradCam, saliency as saliencyOf } from '../explain';
import { automaticBackends, webglRenderer, type BackendChoice } from './backendChoice';
import { loadTensorFlow, type ActiveBackend, type BackendName, type TfRuntime } from './loadTf';
import {
  fetchModelPackage,
  ModelCompatibilityError,
  type EngineModelCard,
  type ModelPackage,
} from './modelPackage';

export type { BackendName } from './loadTf';
export { ModelCompatibilityError, ModelIntegrityError, type EngineModelCard } from './modelPackage';

export interface SliceResult {
  probability: number;
  /** size × size (the model grid), 0–1. */
  gradCam: Float32Array;
  saliency?: Float32Array;
}

export interface RunOptions {
  saliency?: boolean;
  signal?: AbortSignal;
  onSlice?: (index: number, result: SliceResult) => void;
}

export interface DetectionEngine {
  readonly card: EngineModelCard;
  readonly backend: BackendName;
  /** For people: why the engine runs on a slower backend than the page seems to offer, if it does. */
  readonly backendNote?: string;
  /**
   * Runs slices (each a preprocessed size × size Float32Array, as preprocessSlice returns) in small
   * batches; calls onSlice as each result is ready; rejects with an AbortError when signal aborts;
   * never leaks tensors.
   */
  run(slices: Float32Array[], options?: RunOptions): Promise<SliceResult[]>;
  /** TF.js's live tensor count on the page (tf.memory().numTensors), for leak checks. */
  tensorCount(): number;
  dispose(): void;
}

export interface EngineOptions {
  /** Folder URL holding model-card.json, model.json and the weights. */
  modelUrl: string;
  /**
   * Backends to try, in order; the first that runs the model is used. By default the fastest first,
   * less a software-rendered WebGL (slower than wasm); named backends are tried even then.
   */
  backends?: BackendName[];
  fetch?: typeof fetch;
  onStatus?: (message: string) => void;
  /**
   * Folder URL of the tfjs-backend-wasm binaries; by default `tfjs-wasm/` beside the models folder
   * (the model's parent), where `tuberlens serve` puts them.
   */
  wasmUrl?: string;
}

/**
 * Slices per batch: large enough to keep a GPU busy, small enough that results appear steadily and Stop
 * takes effect within a fraction of a second.
 */
const BATCH_SIZE = 4;

export async function loadDetectionEngine(options: EngineOptions): Promise<DetectionEngine> {
  const modelUrl = folderUrl(options.modelUrl);
  const onStatus = options.onStatus ?? (() => {});
  onStatus('Loading TensorFlow.js and checking the model …');
  const [runtime, modelPackage] = await Promise.all([
    loadTensorFlow(),
    fetchModelPackage(modelUrl, options.fetch ?? fetch),
  ]);
  const choice: BackendChoice = options.backends
    ? { backends: [...options.backends] }
    : automaticBackends(webglRenderer());
  const sessions = new SessionOpener(runtime, modelPackage, {
    backends: choice.backends,
    wasmUrl: options.wasmUrl ?? new URL('../../tfjs-wasm/', modelUrl).href,
    onStatus,
  });
  const session = await sessions.openNext();
  const backendNote = choice.softwareWebgl
    ? `WebGL is software-rendered here (${choice.softwareWebgl}); using ${session.backend.name}.`
    : undefined;
  if (backendNote) onStatus(backendNote);
  return new TfDetectionEngine(modelPackage.card, sessions, session, backendNote);
}

/** An absolute URL ending in a slash, so that file names resolve inside the folder. */
function folderUrl(url: string): string {
  const absolute = new URL(url, globalThis.location?.href);
  if (!absolute.pathname.endsWith('/')) absolute.pathname += '/';
  return absolute.href;
}

class TfDetectionEngine implements DetectionEngine {
  private disposed = false;

  constructor(
    readonly card: EngineModelCard,
    private readonly sessions: SessionOpener,
    private session: Session,
    readonly backendNote?: string
  ) {}

  get backend(): BackendName {
    return this.session.backend.name;
  }

  async run(slices: Float32Array[], options: RunOptions = {}): Promise<SliceResult[]> {
    this.checkSlices(slices);
    const results: SliceResult[] = [];
    while (results.length < slices.length) {
      throwIfAborted(options.signal);
      // Lets the page paint and deliver a Stop between batches.
      await new Promise(resolve => setTimeout(resolve, 0));
      throwIfAborted(options.signal);
      const batch = slices.slice(results.length, results.length + BATCH_SIZE);
      const batchResults = await this.explainOrFallBack(batch, options.saliency ?? false);
      for (const result of batchResults ?? []) {
        // onSlice may abort, and no result may follow a Stop.
        throwIfAborted(options.signal);
        options.onSlice?.(results.length, result);
        results.push(result);
      }
    }
    return results;
  }

  /** The batch's results, or undefined when the backend was lost and the next one has taken over. */
  private async explainOrFallBack(
    batch: Float32Array[],
    withSaliency: boolean
  ): Promise<SliceResult[] | undefined> {
    if (this.disposed) throw new Error('The detection engine has been disposed.');
    const session = this.session;
    try {
      const results = session.explain(batch, withSaliency);
      if (!session.backend.isLost()) return results;
    } catch (error) {
      if (!session.backend.isLost()) throw error;
    }
    this.sessions.onStatus(`Lost the ${session.backend.description} context; switching backend …`);
    session.dispose();
    this.session = await this.sessions.openNext();
    return undefined;
  }

  tensorCount(): number {
    return this.sessions.runtime.tf.memory().numTensors;
  }

  private checkSlices(slices: Float32Array[]): void {
    const pixels = inputSize(this.card);
    const wrong = slices.findIndex(slice => slice.length !== pixels);
    if (wrong >= 0) {
      throw new RangeError(
        `Slice ${wrong} has ${slices[wrong].length} values; the model takes ${this.card.input.shape.join('×')} = ${pixels}.`
      );
    }
  }

  dispose(): void {
    if (!this.disposed) this.session.dispose();
    this.disposed = true;
  }
}

/** Opens the model on the backends still to try, in order, until one runs it. */
class SessionOpener {
  constructor(
    readonly runtime: TfRuntime,
    private readonly modelPackage: ModelPackage,
    private readonly settings: {
      /** Backends not tried yet, in order. */
      backends: BackendName[];
      wasmUrl: string;
      onStatus: (message: string) => void;
    }
  ) {}

  get onStatus(): (message: string) => void {
    return this.settings.onStatus;
  }

  async openNext(): Promise<Session> {
    const failures: string[] = [];
    for (let name = this.settings.backends.shift(); name; name = this.settings.backends.shift()) {
      try {
        const session = await this.open(name);
        this.onStatus(`Ready on ${session.backend.description}.`);
        return session;
      } catch (error) {
        if (error instanceof ModelCompatibilityError) throw error;
        failures.push(`${name}: ${describeError(error)}`);
        this.onStatus(`${name} cannot run the model here (${describeError(error)}).`);
      }
    }
    throw new Error(
      `No TensorFlow.js backend could run the model here (${failures.join('; ') || 'none left to try'}).`
    );
  }

  private async open(name: BackendName): Promise<Session> {
    const { tf, tfl, startBackend } = this.runtime;
    const backend = await startBackend(name, this.settings.wasmUrl);
    const model = await tfl.loadLayersModel(tf.io.fromMemory(this.modelPackage.artifacts));
    const session = new Session(this.runtime, this.modelPackage.card, backend, model);
    try {
      checkModelFitsCard(model, this.modelPackage.card);
      this.onStatus(`Warming up on ${backend.description} …`);
      session.warmUp();
      return session;
    } catch (error) {
      session.dispose();
      throw error;
    }
  }
}

/** The model loaded on one backend. */
class Session {
  constructor(
    private readonly runtime: TfRuntime,
    private readonly card: EngineModelCard,
    readonly backend: ActiveBackend,
    private readonly model: tfLayers.LayersModel
  ) {}

  /** Compiles every kernel a batch needs (shaders on GPUs) and proves the backend computes. */
  warmUp(): void {
    const blank = Array.from({ length: BATCH_SIZE }, () => new Float32Array(inputSize(this.card)));
    const results = this.explain(blank, false);
    if (this.backend.isLost() || results.some(({ probability }) => !Number.isFinite(probability)))
      throw new Error('it gave no usable result');
  }

  explain(batch: Float32Array[], withSaliency: boolean): SliceResult[] {
    const { tf, tfl } = this.runtime;
    const input = this.batchTensor(batch);
    try {
      const cam = gradCam({ tf, tfl }, this.model, input, this.card.gradCamLayer);
      const salient = withSaliency ? saliencyOf(tf, this.model, input).maps : undefined;
      return cam.probabilities.map((probability, n) => ({
        probability,
        gradCam: cam.maps[n],
        ...(salient ? { saliency: salient[n] } : {}),
      }));
    } finally {
      input.dispose();
    }
  }

  private batchTensor(batch: Float32Array[]): tfCore.Tensor4D {
    const [size, , channels] = this.card.input.shape;
    const pixels = inputSize(this.card);
    const data = new Float32Array(batch.length * pixels);
    batch.forEach((slice, n) => data.set(slice, n * pixels));
    return this.runtime.tf.tensor4d(data, [batch.length, size, size, channels]);
  }

  /** Frees the weights; a lost GPU context that fails to free memory it no longer has is no error. */
  dispose(): void {
    try {
      this.model.dispose();
    } catch {
      // Nothing is left to free on a lost context.
    }
  }
}

function checkModelFitsCard(model: tfLayers.LayersModel, card: EngineModelCard): void {
  const modelShape = model.inputs[0].shape.slice(1);
  if (modelShape.join('×') !== card.input.shape.join('×')) {
    throw new ModelCompatibilityError(
      `The model takes input of ${modelShape.join('×')}, but its card says ${card.input.shape.join('×')}.`
    );
  }
  if (!model.layers.some(layer => layer.name === card.gradCamLayer)) {
    throw new ModelCompatibilityError(
      `The model has no layer "${card.gradCamLayer}", which its card names for Grad-CAM.`
    );
  }
}

/** Values per slice: size × size × channels. */
function inputSize(card: EngineModelCard): number {
  return card.input.shape.reduce((product, side) => product * side);
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new DOMException('Tuber detection was stopped.', 'AbortError');
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
