import type {
  DetectionEngine,
  EngineModelCard,
  SliceResult,
} from '../../../extension/src/core/engine/detectionEngine';
import { DEFAULT_PREPROCESSING } from '../../../extension/src/core/preprocessing';
import {
  DetectionController,
  type DetectionHost,
} from '../../../extension/src/detectionController';
import { ModelStatus } from '../../../extension/src/modelStatus';
import type { DisplaySet } from '../../../extension/src/ohif/types';
import type { LayerKind, TuberLayer } from '../../../extension/src/tuberLayers';
import { displaySet, mockServices } from './ohifMocks';

export const MODELS = 'http://viewer.test/tuberlens/models/';
const SIZE = DEFAULT_PREPROCESSING.size;
/** Test slices: 16 × 16 pixels of 15 mm, so the 240 mm field of view is the whole slice. */
export const SLICE_SIDE = 16;

export const CARD: EngineModelCard = {
  name: 'tuber-net-fixture',
  version: '0.0.0-test',
  threshold: 0.5,
  gradCamLayer: 'features',
  input: { shape: [SIZE, SIZE, 1], preprocessing: 'pre1-128px-240mm-p1-99.5-h0.1', neighbours: 0 },
  files: {},
};

/** A card validated on FLAIR series only: slices flag at 0.3, FLAIR series are decided at 0.7. */
export const FLAIR_ONLY_CARD: EngineModelCard = {
  ...CARD,
  threshold: 0.3,
  seriesThresholds: { FLAIR: 0.7 },
};
export const T2_WITHHELD =
  'No verdict: tuber-net-fixture 0.0.0-test is validated for FLAIR series only, not for T2 series.';

export function modelStatusWith(index: unknown = { installed: ['tuber-net'] }) {
  const files: Record<string, unknown> = {
    [`${MODELS}index.json`]: index,
    [`${MODELS}tuber-net/model-card.json`]: CARD,
  };
  return new ModelStatus(MODELS, async url =>
    url in files
      ? { ok: true, status: 200, json: async () => files[url] }
      : { ok: false, status: 404, json: async () => ({}) }
  );
}

/** A Grad-CAM map that is 1 everywhere: on the image, the slice's probability decides its level. */
const FLAT_MAP = new Float32Array(SIZE * SIZE).fill(1);

/** A layer that records what is done to it. */
export interface RecordingLayer extends TuberLayer {
  writes: Array<{ imageId: string; levels: Uint8Array }>;
  flushes: number;
  visible: boolean[];
  opacity: number[];
}

export interface FakeLayer extends RecordingLayer {
  kind: LayerKind;
}

export function recordingLayer(segmentationId: string): RecordingLayer {
  const layer: RecordingLayer = {
    segmentationId,
    writes: [],
    flushes: 0,
    visible: [],
    opacity: [],
    write: (imageId, levels) => void layer.writes.push({ imageId, levels }),
    flush: () => void layer.flushes++,
    setVisible: visible => void layer.visible.push(visible),
    setOpacity: opacity => void layer.opacity.push(opacity),
  };
  return layer;
}

/**
 * A detection engine and host over `count` slices (image ids img:0 …) of the displayed series, "AX
 * T2 FSE" (display set t2) or, for `contrast` FLAIR, "AX FLAIR" (display set flair). The engine's
 * probability for a slice is `probabilities[imageId]`; it knows which images it runs because it runs
 * those the host read last. `gate(imageId)` may hold a read back; `card` is the engine's model card.
 */
export function fakeDetection(
  count: number,
  probabilities: Record<string, number>,
  options: {
    displayed?: string;
    gate?: (imageId: string) => Promise<void> | undefined;
    loadEngine?: DetectionHost['loadEngine'];
    contrast?: 'T2' | 'FLAIR';
    card?: EngineModelCard;
    /** Each image's height towards the top of the head (default: its index); undefined for none. */
    levels?: Array<number | undefined>;
  } = {}
) {
  const imageIds = Array.from({ length: count }, (_, index) => `img:${index}`);
  const reads: string[] = [];
  const pending: string[] = [];
  const layers: FakeLayer[] = [];
  const engineRuns: Array<{ imageIds: string[]; saliency: boolean; inputs: Float32Array[] }> = [];
  const engine: DetectionEngine = {
    card: options.card ?? CARD,
    backend: 'cpu',
    async run(slices, { saliency = false, signal, onSlice } = {}) {
      const batch = pending.splice(0, slices.length);
      engineRuns.push({ imageIds: batch, saliency, inputs: slices });
      return batch.map((imageId, n) => {
        if (signal?.aborted) throw new DOMException('stopped', 'AbortError');
        const result: SliceResult = {
          probability: probabilities[imageId] ?? 0,
          gradCam: FLAT_MAP,
          ...(saliency ? { saliency: FLAT_MAP } : {}),
        };
        onSlice?.(n, result);
        return result;
      });
    },
    tensorCount: () => 0,
    dispose() {},
  };
  const host: DetectionHost = {
    loadEngine: options.loadEngine ?? (async () => engine),
    async readSlice(imageId) {
      await options.gate?.(imageId);
      reads.push(imageId);
      pending.push(imageId);
      const index = Number(imageId.split(':')[1]);
      return {
        input: {
          pixels: headPixels(index),
          rows: SLICE_SIDE,
          columns: SLICE_SIDE,
          pixelSpacing: [15, 15],
        },
        identity: { sopInstanceUID: `1.2.3.${index}`, instanceNumber: index + 1 },
      };
    },
    createLayer: jest.fn(async (kind: LayerKind) => {
      const layer: FakeLayer = Object.assign(recordingLayer(`tuberlens-${kind}`), { kind });
      layers.push(layer);
      return layer;
    }),
    // The fixed `displayed` image while the series is shown; another series shows its first image.
    sliceLevel: imageId => {
      const index = Number(imageId.split(':')[1]);
      return options.levels ? options.levels[index] : index;
    },
    displayedImageId: () => {
      const [shown] = mocks.services.viewportGridService.getDisplaySetsUIDsForViewport();
      if (shown === series.displaySetInstanceUID) return options.displayed;
      return mocks.services.displaySetService.getDisplaySetByUID(shown ?? '')?.imageIds?.[0];
    },
    showImage: jest.fn(),
  };
  const t2: DisplaySet = displaySet('t2', 'AX T2 FSE');
  const flair: DisplaySet = displaySet('flair', 'AX FLAIR');
  const [series, other] = options.contrast === 'FLAIR' ? [flair, t2] : [t2, flair];
  const mocks = mockServices(
    [
      { ...series, imageIds },
      { ...other, imageIds: ['other:0'] },
    ],
    series.displaySetInstanceUID
  );
  const detection = (status = modelStatusWith()) =>
    new DetectionController(mocks.services, status, host);
  return { host, engine, reads, layers, engineRuns, imageIds, mocks, detection };
}

/**
 * A bright disc on a dark background, slices with contrast as preprocessSlice expects, with a brighter
 * spot that moves with the slice index, so that each slice preprocesses differently.
 */
export function headPixels(index = 0): Uint16Array {
  const pixels = new Uint16Array(SLICE_SIDE * SLICE_SIDE);
  const spot = 3 + (index % 10);
  for (let i = 0; i < SLICE_SIDE; i++)
    for (let j = 0; j < SLICE_SIDE; j++)
      pixels[i * SLICE_SIDE + j] =
        Math.hypot(i - 7.5, j - 7.5) < 6 ? 800 + i * 10 + j + (i === spot ? 600 : 0) : 20;
  return pixels;
}
