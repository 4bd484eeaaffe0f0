import type { DetectionEngine, SliceResult } from './core/engine/detectionEngine';
import { toHeatLevels } from './core/heatLevels';
import {
  operatingPoint,
  type OperatingPoint,
  type SeriesThresholds,
  type VerdictContrast,
} from './core/operatingPoint';
import { interleaveChannels, neighbourStacks } from './core/neighbours';
import { preprocessSlice } from './core/preprocessing';
import { classifySeries, type Contrast } from './core/seriesClassification';
import type { SeriesReport, SliceRecord } from './core/seriesReport';
import { heatOnImage, regionMask, sliceHeat, type SliceHeat } from './core/tuberRegions';
import { getDisplayedSeries, onDisplayedSeriesChange } from './displayedSeries';
import { seriesAttributesOf } from './hangingProtocolModule';
import type { ModelStatus } from './modelStatus';
import type { DisplaySet, Services } from './ohif/types';
import type { Slice } from './sliceReader';
import { StateStore } from './stateStore';
import type { LayerKind, LayerTarget, TuberLayer } from './tuberLayers';

/** What the controller needs from the viewer and the engine; unit tests give plain objects. */
export interface DetectionHost {
  loadEngine(modelUrl: string, onStatus: (message: string) => void): Promise<DetectionEngine>;
  readSlice(imageId: string): Promise<Slice>;
  /** The image's height towards the top of the head (see superiorLevel), if its metadata gives it. */
  sliceLevel(imageId: string): number | undefined;
  createLayer(kind: LayerKind, target: LayerTarget): Promise<TuberLayer>;
  displayedImageId(viewportId: string): string | undefined;
  showImage(viewportId: string, imageId: string): void;
}

export type DetectionPhase = 'idle' | 'loading' | 'running' | 'complete' | 'stopped' | 'failed';

export interface DetectionTarget {
  displaySetInstanceUID: string;
  seriesInstanceUID?: string;
  seriesDescription: string;
  /** Decides the operating point the series is read at. */
  contrast: Contrast;
  viewportId: string;
  imageIds: string[];
}

export interface LayerView {
  gradCam: boolean;
  saliency: boolean;
  /** Whether the last run computed saliency (it runs only on request). */
  saliencyComputed: boolean;
  opacity: number;
}

export interface DetectionState {
  phase: DetectionPhase;
  /** What is happening, why it stopped or how it failed. */
  message: string;
  target?: DetectionTarget;
  /** One per image of the target, in its order. */
  slices: SliceRecord[];
  analysed: number;
  model?: {
    name: string;
    version: string;
    backend: string;
    /** Why the backend is slower than the page seems to offer, if it is. */
    backendNote?: string;
    /** The slice threshold. */
    threshold: number;
    seriesThresholds?: SeriesThresholds;
  };
  /** The target's operating point under the model card: its verdict's threshold, or why it has none. */
  operatingPoint?: OperatingPoint;
  /** The threshold that flags slices: the operating point's until the user moves it. */
  threshold?: number;
  /** Where the target gets no verdict: a series of its study that the model is validated for. */
  validatedSeries?: ValidatedSeries;
  layers: LayerView;
}

export interface ValidatedSeries {
  displaySetInstanceUID: string;
  seriesDescription: string;
  contrast: VerdictContrast;
}

/** A completely analysed series' tuber regions: the half-maximum Grad-CAM of the slices flagged at the panel's threshold. */
export interface TuberRegions {
  target: DetectionTarget;
  model: NonNullable<DetectionState['model']>;
  threshold: number;
  /** One per image of the target, in its order: 1 inside a region, else 0. */
  masks: Array<{ imageId: string; mask: Uint8Array }>;
}

export const STOP_REASONS = {
  user: 'Stopped by you.',
  seriesChanged: 'Stopped: another series is displayed.',
  closed: 'Stopped: the study was closed.',
};

/** Slices read and run together after the displayed one: a Stop takes effect within one batch. */
const BATCH_SIZE = 4;
/** How long a series chosen from the panel may take to appear in the viewport. */
const SHOW_SERIES_TIMEOUT_MS = 15_000;

const INITIAL_STATE: DetectionState = {
  phase: 'idle',
  message: '',
  slices: [],
  analysed: 0,
  layers: { gradCam: true, saliency: false, saliencyComputed: false, opacity: 0.7 },
};

interface ActiveRun {
  abort: AbortController;
  stopReason: string;
  layers: Partial<Record<LayerKind, TuberLayer>>;
  /** Slices read and preprocessed, by index: a 2.5D model reads each slice for its neighbours too. */
  prepared: Map<number, Promise<PreparedSlice>>;
}

interface PreparedSlice {
  slice: Slice;
  input: Float32Array;
}

/**
 * Runs tuber detection on the displayed series: the displayed slice first, then the rest in the
 * background, each result drawn into the layers as it comes. One run at a time; a run stops when the
 * user presses Stop, another series is displayed or the study closes. A failure is reported as one,
 * never as a result.
 */
export class DetectionController extends StateStore<DetectionState> {
  private run: ActiveRun | undefined;
  private layers: Partial<Record<LayerKind, TuberLayer>> = {};
  /** Each analysed slice's Grad-CAM heat, by index in the target: what tuber regions are cut from. */
  private gradCamHeat: SliceHeat[] = [];
  private engine: Promise<DetectionEngine> | undefined;

  constructor(
    private readonly services: Services,
    private readonly modelStatus: ModelStatus,
    private readonly host: DetectionHost
  ) {
    super(INITIAL_STATE);
  }

  /** Stops a run when its series leaves the active viewport; returns the unsubscribe function. */
  watchDisplayedSeries(): () => void {
    return onDisplayedSeriesChange(this.services, () => {
      const displayed = getDisplayedSeries(this.services)?.displaySetInstanceUID;
      if (this.run && displayed !== this.state.target?.displaySetInstanceUID)
        this.stop(STOP_REASONS.seriesChanged);
    });
  }

  /** Runs on the displayed series; says plainly, and runs nothing, when it cannot. */
  async detect({ saliency = this.state.layers.saliency } = {}): Promise<void> {
    const availability = await this.modelStatus.check();
    if (availability.state !== 'available') {
      return this.didNotRun(
        availability.state === 'checking'
          ? 'The model is still being checked.'
          : availability.message
      );
    }
    const target = this.displayedTarget();
    if (!target) return this.didNotRun('No series with images is displayed.');
    if (this.run && this.state.target?.displaySetInstanceUID === target.displaySetInstanceUID)
      return;
    this.stop(STOP_REASONS.user);
    await this.execute(availability.modelUrl, target, saliency);
  }

  /** Shows a series of the study in the active viewport, then runs on it. */
  async detectOnSeries(displaySetInstanceUID: string): Promise<void> {
    const { viewportGridService, displaySetService } = this.services;
    const viewportId = viewportGridService.getActiveViewportId();
    const series = displaySetService.getDisplaySetByUID(displaySetInstanceUID);
    if (!viewportId || !series?.imageIds?.length)
      return this.didNotRun('That series is no longer loaded.');
    viewportGridService.setDisplaySetsForViewport({
      viewportId,
      displaySetInstanceUIDs: [displaySetInstanceUID],
    });
    if (!(await this.showsOneOf(viewportId, series.imageIds)))
      return this.didNotRun(`The series “${series.SeriesDescription ?? ''}” did not open.`);
    await this.detect();
  }

  stop(reason: string = STOP_REASONS.user): void {
    if (!this.run) return;
    this.run.stopReason = reason;
    this.run.abort.abort();
  }

  /** The study closed: nothing of it stays. */
  close(): void {
    this.stop(STOP_REASONS.closed);
    this.run = undefined;
    this.layers = {};
    this.gradCamHeat = [];
    this.setState(INITIAL_STATE);
  }

  setThreshold(threshold: number): void {
    this.update({ threshold });
  }

  setLayerVisible(kind: LayerKind, visible: boolean): void {
    this.update({ layers: { ...this.state.layers, [kind]: visible } });
    if (kind === 'saliency' && visible && !this.state.layers.saliencyComputed && !this.run) {
      void this.detect({ saliency: true });
      return;
    }
    this.layers[kind]?.setVisible(visible);
  }

  setOpacity(opacity: number): void {
    this.update({ layers: { ...this.state.layers, opacity } });
    Object.values(this.layers).forEach(layer => layer.setOpacity(opacity));
  }

  showSlice(index: number): void {
    const target = this.state.target;
    const imageId = target?.imageIds[index];
    if (target && imageId) this.host.showImage(target.viewportId, imageId);
  }

  report(): SeriesReport | undefined {
    const { target, model, operatingPoint, slices } = this.state;
    if (!target || !model || !operatingPoint) return undefined;
    return {
      model: { name: model.name, version: model.version, backend: model.backend },
      threshold: model.threshold,
      series: {
        ...(target.seriesInstanceUID ? { seriesInstanceUID: target.seriesInstanceUID } : {}),
        seriesDescription: target.seriesDescription,
        contrast: target.contrast,
      },
      operatingPoint,
      slices,
    };
  }

  /** The tuber regions once every slice is analysed; undefined before. */
  tuberRegions(): TuberRegions | undefined {
    const { phase, target, model, threshold, slices } = this.state;
    if (phase !== 'complete' || !target || !model || threshold === undefined) return undefined;
    return {
      target,
      model,
      threshold,
      masks: target.imageIds.map((imageId, index) => ({
        imageId,
        mask: regionMask(
          heatOnImage(this.gradCamHeat[index]),
          slices[index]?.probability ?? NaN,
          threshold
        ),
      })),
    };
  }

  private didNotRun(reason: string): void {
    this.services.uiNotificationService.show({
      title: 'Tuber detection did not run',
      message: reason,
      type: 'warning',
    });
  }

  /** Waits until the viewport shows one of the images (it loads a newly set series asynchronously). */
  private async showsOneOf(viewportId: string, imageIds: string[]): Promise<boolean> {
    const wanted = new Set(imageIds);
    const deadline = Date.now() + SHOW_SERIES_TIMEOUT_MS;
    while (!wanted.has(this.host.displayedImageId(viewportId) ?? '')) {
      if (Date.now() > deadline) return false;
      await new Promise(resolve => setTimeout(resolve, 100));
    }
    return true;
  }

  /**
   * The axial series (else any) of the target's study whose contrast the model card gives a series
   * threshold, when the target's contrast has none.
   */
  private validatedSeriesFor(
    target: DetectionTarget,
    seriesThresholds: SeriesThresholds | undefined
  ): ValidatedSeries | undefined {
    const { displaySetService } = this.services;
    const study = displaySetService.getDisplaySetByUID(
      target.displaySetInstanceUID
    )?.StudyInstanceUID;
    const candidates = displaySetService
      .getActiveDisplaySets()
      .filter(set => set.StudyInstanceUID === study && set.imageIds?.length)
      .flatMap(set => {
        const { contrast, plane } = classifySeries(seriesAttributesOf(set));
        return contrast !== 'other' && seriesThresholds?.[contrast] !== undefined
          ? [{ set, contrast, plane }]
          : [];
      });
    const best = candidates.find(({ plane }) => plane === 'axial') ?? candidates[0];
    return (
      best && {
        displaySetInstanceUID: best.set.displaySetInstanceUID,
        seriesDescription: best.set.SeriesDescription ?? '',
        contrast: best.contrast,
      }
    );
  }

  private displayedTarget(): DetectionTarget | undefined {
    const viewportId = this.services.viewportGridService.getActiveViewportId();
    const series: DisplaySet | undefined = getDisplayedSeries(this.services);
    if (!viewportId || !series?.imageIds?.length) return undefined;
    return {
      displaySetInstanceUID: series.displaySetInstanceUID,
      ...(series.SeriesInstanceUID ? { seriesInstanceUID: series.SeriesInstanceUID } : {}),
      seriesDescription: series.SeriesDescription ?? '',
      contrast: classifySeries(seriesAttributesOf(series)).contrast,
      viewportId,
      imageIds: series.imageIds,
    };
  }

  private async execute(modelUrl: string, target: DetectionTarget, saliency: boolean) {
    const run: ActiveRun = {
      abort: new AbortController(),
      stopReason: '',
      layers: {},
      prepared: new Map(),
    };
    this.run = run;
    this.layers = {};
    this.gradCamHeat = [];
    const sameSeries = this.state.target?.displaySetInstanceUID === target.displaySetInstanceUID;
    this.update({
      phase: 'loading',
      message: 'Loading the model …',
      target,
      slices: target.imageIds.map(() => ({})),
      analysed: 0,
      // Another series may have another operating point, so the slider starts at its own.
      ...(sameSeries ? {} : { operatingPoint: undefined, threshold: undefined }),
      layers: { ...this.state.layers, saliency, saliencyComputed: saliency },
    });
    try {
      const engine = await this.loadEngine(modelUrl);
      this.throwIfStopped(run);
      const point = operatingPoint(engine.card, target.contrast);
      this.update({
        operatingPoint: point,
        threshold: this.state.threshold ?? point.threshold,
        validatedSeries: point.verdict
          ? undefined
          : this.validatedSeriesFor(target, engine.card.seriesThresholds),
      });
      await this.createLayers(run, target, saliency);
      this.update({ phase: 'running', message: 'Detecting tubers …' });
      const stacks = neighbourStacks(this.levelsOf(target), engine.card.input.neighbours);
      for (const batch of this.batches(target))
        await this.runBatch(engine, run, target, batch, stacks);
      this.update({ phase: 'complete', message: '' });
    } catch (error) {
      this.finishWith(run, error);
    } finally {
      if (this.run === run) this.run = undefined;
    }
  }

  private async loadEngine(modelUrl: string): Promise<DetectionEngine> {
    this.engine ??= this.host.loadEngine(modelUrl, message => this.update({ message }));
    try {
      const engine = await this.engine;
      const { name, version, threshold, seriesThresholds } = engine.card;
      const { backend, backendNote } = engine;
      this.update({
        model: {
          name,
          version,
          threshold,
          ...(seriesThresholds ? { seriesThresholds } : {}),
          backend,
          ...(backendNote ? { backendNote } : {}),
        },
      });
      return engine;
    } catch (error) {
      // The next Detect tries again: the network or the GPU may be back.
      this.engine = undefined;
      throw error;
    }
  }

  private async createLayers(run: ActiveRun, target: DetectionTarget, saliency: boolean) {
    const displaySet = this.services.displaySetService.getDisplaySetByUID(
      target.displaySetInstanceUID
    );
    if (!displaySet) throw new Error('The series is no longer loaded.');
    const kinds: LayerKind[] = saliency ? ['gradCam', 'saliency'] : ['gradCam'];
    for (const kind of kinds) {
      const layer = await this.host.createLayer(kind, {
        displaySet,
        viewportId: target.viewportId,
      });
      this.throwIfStopped(run);
      layer.setOpacity(this.state.layers.opacity);
      layer.setVisible(this.state.layers[kind]);
      run.layers[kind] = layer;
    }
    this.layers = run.layers;
  }

  /** The displayed slice alone, so its result shows at once; then the others, nearest first. */
  private batches(target: DetectionTarget): number[][] {
    const count = target.imageIds.length;
    const displayed = target.imageIds.indexOf(this.host.displayedImageId(target.viewportId) ?? '');
    const first = displayed >= 0 ? displayed : Math.floor(count / 2);
    const rest = Array.from({ length: count }, (_, index) => index)
      .filter(index => index !== first)
      .sort((a, b) => Math.abs(a - first) - Math.abs(b - first) || a - b);
    const batches = [[first]];
    for (let start = 0; start < rest.length; start += BATCH_SIZE)
      batches.push(rest.slice(start, start + BATCH_SIZE));
    return batches;
  }

  /**
   * Each image's height towards the top of the head, from the series metadata; where any is missing,
   * the displayed order stands in.
   */
  private levelsOf(target: DetectionTarget): number[] {
    const levels = target.imageIds.map(imageId => this.host.sliceLevel(imageId));
    return levels.every(level => level !== undefined)
      ? (levels as number[])
      : target.imageIds.map((_, index) => index);
  }

  /** Runs the slices at `indices`, each with the slices its model input stacks (see neighbourStacks). */
  private async runBatch(
    engine: DetectionEngine,
    run: ActiveRun,
    target: DetectionTarget,
    indices: number[],
    stacks: number[][]
  ) {
    const own = await Promise.all(indices.map(index => this.prepare(run, target, index)));
    const inputs = await Promise.all(
      indices.map(async index => {
        const stack = await Promise.all(stacks[index].map(k => this.prepare(run, target, k)));
        return interleaveChannels(stack.map(prepared => prepared.input));
      })
    );
    this.throwIfStopped(run);
    await engine.run(inputs, {
      saliency: run.layers.saliency !== undefined,
      signal: run.abort.signal,
      onSlice: (n, result) => this.record(run, target, indices[n], own[n].slice, result),
    });
    Object.values(run.layers).forEach(layer => layer.flush());
  }

  private prepare(run: ActiveRun, target: DetectionTarget, index: number): Promise<PreparedSlice> {
    let prepared = run.prepared.get(index);
    if (!prepared) {
      prepared = this.readSlice(target, index).then(slice => ({
        slice,
        input: preprocessSlice(slice.input),
      }));
      run.prepared.set(index, prepared);
    }
    return prepared;
  }

  private async readSlice(target: DetectionTarget, index: number): Promise<Slice> {
    try {
      return await this.host.readSlice(target.imageIds[index]);
    } catch (error) {
      throw new Error(
        `Slice ${index + 1} of ${target.imageIds.length} could not be read: ${describe(error)}`
      );
    }
  }

  private record(
    run: ActiveRun,
    target: DetectionTarget,
    index: number,
    slice: Slice,
    result: SliceResult
  ) {
    const imageId = target.imageIds[index];
    const gradCam = sliceHeat(result.gradCam, result.probability, slice.input);
    this.gradCamHeat[index] = gradCam;
    run.layers.gradCam?.write(imageId, toHeatLevels(heatOnImage(gradCam)));
    if (result.saliency) {
      const saliency = sliceHeat(result.saliency, result.probability, slice.input);
      run.layers.saliency?.write(imageId, toHeatLevels(heatOnImage(saliency)));
    }
    const slices = this.state.slices.slice();
    slices[index] = { ...slice.identity, probability: result.probability };
    this.update({ slices, analysed: this.state.analysed + 1 });
  }

  private throwIfStopped(run: ActiveRun): void {
    if (run.abort.signal.aborted) throw new DOMException(run.stopReason, 'AbortError');
  }

  private finishWith(run: ActiveRun, error: unknown): void {
    Object.values(run.layers).forEach(layer => layer.flush());
    if (this.run !== run) return;
    if (run.abort.signal.aborted) {
      this.update({ phase: 'stopped', message: run.stopReason });
      return;
    }
    const message = `Tuber detection failed: ${describe(error)}`;
    this.update({ phase: 'failed', message });
    this.services.uiNotificationService.show({
      title: 'Tuber detection failed',
      message: `${describe(error)} No result is shown for this series.`,
      type: 'error',
    });
  }

  private update(changes: Partial<DetectionState>): void {
    this.setState({ ...this.state, ...changes });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
