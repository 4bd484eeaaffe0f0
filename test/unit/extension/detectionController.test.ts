import { seriesDecision, seriesVerdict } from '../../../extension/src/core/seriesReport';
import { STOP_REASONS, type DetectionController } from '../../../extension/src/detectionController';
import { interleaveChannels } from '../../../extension/src/core/neighbours';
import { preprocessSlice } from '../../../extension/src/core/preprocessing';
import {
  CARD,
  FLAIR_ONLY_CARD,
  fakeDetection,
  headPixels,
  modelStatusWith,
  SLICE_SIDE,
  T2_WITHHELD,
} from './fakeDetection';

const PROBABILITIES = {
  'img:0': 0.1,
  'img:1': 0.2,
  'img:2': 0.7,
  'img:3': 0.9,
  'img:4': 0.3,
  'img:5': 0.05,
};

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>(done => (resolve = done));
  return { promise, resolve };
}

test('runs the displayed slice alone first, then the others nearest first, in batches', async () => {
  const fake = fakeDetection(6, PROBABILITIES, { displayed: 'img:3' });
  const detection = fake.detection();
  await detection.detect();

  expect(fake.engineRuns.map(run => run.imageIds)).toEqual([
    ['img:3'],
    ['img:2', 'img:4', 'img:1', 'img:5'],
    ['img:0'],
  ]);
  const state = detection.current;
  expect(state.phase).toBe('complete');
  expect(state.analysed).toBe(6);
  expect(state.model).toEqual({
    name: 'tuber-net-fixture',
    version: '0.0.0-test',
    backend: 'cpu',
    threshold: 0.5,
  });
  expect(state.target?.contrast).toBe('T2');
  // A card without series thresholds reads every series at its one threshold.
  expect(state.operatingPoint).toEqual({ verdict: true, threshold: 0.5 });
  expect(state.threshold).toBe(0.5);
  expect(state.slices.map(slice => slice.probability)).toEqual([0.1, 0.2, 0.7, 0.9, 0.3, 0.05]);
  expect(state.slices[3]).toEqual({
    sopInstanceUID: '1.2.3.3',
    instanceNumber: 4,
    probability: 0.9,
  });
  expect(seriesVerdict(state.slices, 0.5)).toEqual({ probability: 0.9, positive: true });
});

test('starts on the middle slice when the viewport shows none of the series', async () => {
  const fake = fakeDetection(5, PROBABILITIES);
  await fake.detection().detect();
  expect(fake.engineRuns[0].imageIds).toEqual(['img:2']);
});

test('draws every slice on the Grad-CAM layer, weighted by its probability, and redraws per batch', async () => {
  const fake = fakeDetection(6, PROBABILITIES, { displayed: 'img:3' });
  await fake.detection().detect();

  const [gradCam] = fake.layers;
  expect(fake.layers).toHaveLength(1);
  expect(gradCam.kind).toBe('gradCam');
  expect(gradCam.writes.map(write => write.imageId)).toEqual(fake.reads);
  expect(gradCam.flushes).toBe(3);
  const levelsOf = (imageId: string) =>
    gradCam.writes.find(write => write.imageId === imageId)!.levels;
  expect(levelsOf('img:3')).toHaveLength(SLICE_SIDE * SLICE_SIDE);
  // A flat map of 1 × 0.9 is the top level everywhere; × 0.1 is below the floor: nothing drawn.
  expect(levelsOf('img:3').every(level => level === 5)).toBe(true);
  expect(levelsOf('img:0').every(level => level === 0)).toBe(true);
  expect(gradCam.opacity).toEqual([0.7]);
  expect(gradCam.visible).toEqual([true]);
});

test('shows the displayed slice’s result before the rest has been read', async () => {
  const hold = deferred();
  const fake = fakeDetection(4, PROBABILITIES, {
    displayed: 'img:1',
    gate: imageId => (imageId === 'img:1' ? undefined : hold.promise),
  });
  const detection = fake.detection();
  const running = detection.detect();
  await new Promise(resolve => setTimeout(resolve, 0));

  expect(detection.current.phase).toBe('running');
  expect(detection.current.analysed).toBe(1);
  expect(detection.current.slices[1].probability).toBe(0.2);
  expect(fake.layers[0].flushes).toBe(1);

  hold.resolve();
  await running;
  expect(detection.current.phase).toBe('complete');
});

/**
 * A run of six slices whose displayed slice (img:3) is analysed at once while the others wait for
 * `finish`, which releases them and resolves when the run is over.
 */
async function heldRun(beforeDetect: (detection: DetectionController) => void = () => {}) {
  const hold = deferred();
  const fake = fakeDetection(6, PROBABILITIES, {
    displayed: 'img:3',
    gate: imageId => (imageId === 'img:3' ? undefined : hold.promise),
  });
  const detection = fake.detection();
  beforeDetect(detection);
  const running = detection.detect();
  await new Promise(resolve => setTimeout(resolve, 0));
  const finish = async () => {
    hold.resolve();
    await running;
  };
  return { fake, detection, finish };
}

test('Stop ends the run with no verdict, keeping what was analysed', async () => {
  const { fake, detection, finish } = await heldRun();
  detection.stop();
  await finish();

  expect(detection.current.phase).toBe('stopped');
  expect(detection.current.message).toBe(STOP_REASONS.user);
  expect(detection.current.analysed).toBe(1);
  expect(fake.engineRuns).toHaveLength(1);
  expect(seriesVerdict(detection.current.slices, 0.5)).toBeUndefined();
});

test('closing the study mid-run stops the engine: no slice after the close is analysed', async () => {
  const { fake, detection, finish } = await heldRun();
  detection.close();
  await finish();

  expect(fake.engineRuns).toHaveLength(1);
  expect(detection.current.phase).toBe('idle');
  expect(detection.current.analysed).toBe(0);
});

test('displaying another series stops the run; the same series does not', async () => {
  let unwatch = () => {};
  const { fake, detection, finish } = await heldRun(d => (unwatch = d.watchDisplayedSeries()));
  fake.mocks.display('t2');
  expect(detection.current.phase).toBe('running');
  fake.mocks.display('flair');
  await finish();

  expect(detection.current.phase).toBe('stopped');
  expect(detection.current.message).toBe(STOP_REASONS.seriesChanged);
  unwatch();
  expect(fake.mocks.listenerCount()).toBe(0);
});

test('a slice that cannot be read fails the run, shown as a failure and never as a result', async () => {
  const fake = fakeDetection(4, PROBABILITIES, {
    displayed: 'img:0',
    gate: async imageId => {
      if (imageId === 'img:2') throw new Error('HTTP 500');
    },
  });
  const detection = fake.detection();
  await detection.detect();

  expect(detection.current.phase).toBe('failed');
  expect(detection.current.message).toBe(
    'Tuber detection failed: Slice 3 of 4 could not be read: HTTP 500'
  );
  expect(seriesVerdict(detection.current.slices, 0.5)).toBeUndefined();
  expect(fake.mocks.services.uiNotificationService.show).toHaveBeenCalledWith({
    title: 'Tuber detection failed',
    message: 'Slice 3 of 4 could not be read: HTTP 500 No result is shown for this series.',
    type: 'error',
  });
});

test('a model that does not load is a failure, and the next Detect loads it again', async () => {
  const loadEngine = jest.fn().mockRejectedValueOnce(new Error('weights.bin does not match'));
  const fake = fakeDetection(2, PROBABILITIES, { loadEngine });
  loadEngine.mockImplementation(async () => fake.engine);
  const detection = fake.detection();

  await detection.detect();
  expect(detection.current.phase).toBe('failed');
  expect(detection.current.message).toContain('weights.bin does not match');
  expect(fake.host.createLayer).not.toHaveBeenCalled();

  await detection.detect();
  expect(detection.current.phase).toBe('complete');
  expect(loadEngine).toHaveBeenCalledTimes(2);
  expect(loadEngine).toHaveBeenLastCalledWith(
    'http://viewer.test/tuberlens/models/tuber-net/',
    expect.any(Function)
  );
});

test('without a model or a displayed series, detect runs nothing and says why', async () => {
  const fake = fakeDetection(2, PROBABILITIES);
  const { show } = fake.mocks.services.uiNotificationService;

  await fake.detection(modelStatusWith({ installed: [] })).detect();
  expect(show).toHaveBeenLastCalledWith({
    title: 'Tuber detection did not run',
    message: 'No tuber model is installed, so detection is unavailable.',
    type: 'warning',
  });

  fake.mocks.display(undefined);
  await fake.detection().detect();
  expect(show).toHaveBeenLastCalledWith(
    expect.objectContaining({ message: 'No series with images is displayed.' })
  );
  expect(fake.engineRuns).toHaveLength(0);
});

test('Detect while the series is running leaves the run alone', async () => {
  const hold = deferred();
  const fake = fakeDetection(3, PROBABILITIES, {
    displayed: 'img:1',
    gate: imageId => (imageId === 'img:1' ? undefined : hold.promise),
  });
  const detection = fake.detection();
  const running = detection.detect();
  await new Promise(resolve => setTimeout(resolve, 0));
  await detection.detect();
  hold.resolve();
  await running;
  expect(fake.host.createLayer).toHaveBeenCalledTimes(1);
  expect(detection.current.phase).toBe('complete');
});

test('saliency is computed on request: switching it on runs again with a second layer', async () => {
  const fake = fakeDetection(3, PROBABILITIES, { displayed: 'img:1' });
  const detection = fake.detection();
  await detection.detect();
  expect(detection.current.layers.saliencyComputed).toBe(false);

  detection.setLayerVisible('saliency', true);
  await new Promise(resolve => setTimeout(resolve, 0));
  await new Promise(resolve => setTimeout(resolve, 0));

  expect(detection.current.phase).toBe('complete');
  expect(detection.current.layers).toMatchObject({ saliency: true, saliencyComputed: true });
  expect(fake.engineRuns.at(-1)?.saliency).toBe(true);
  expect(fake.layers.map(layer => layer.kind)).toEqual(['gradCam', 'gradCam', 'saliency']);
  expect(fake.layers[2].writes).toHaveLength(3);
});

test('layer visibility, opacity, threshold and slice jumps go where they belong', async () => {
  const fake = fakeDetection(3, PROBABILITIES, { displayed: 'img:1' });
  const detection = fake.detection();
  await detection.detect();
  const [gradCam] = fake.layers;

  detection.setLayerVisible('gradCam', false);
  detection.setOpacity(0.4);
  detection.setThreshold(0.15);
  detection.showSlice(2);

  expect(gradCam.visible).toEqual([true, false]);
  expect(gradCam.opacity).toEqual([0.7, 0.4]);
  expect(detection.current.layers).toMatchObject({ gradCam: false, opacity: 0.4 });
  expect(detection.current.threshold).toBe(0.15);
  expect(detection.current.model?.threshold).toBe(0.5);
  expect(fake.host.showImage).toHaveBeenCalledWith('default', 'img:2');
});

test('the report carries the model, the card threshold, the series’ contrast and operating point, and each slice; closing the study clears all', async () => {
  const fake = fakeDetection(2, PROBABILITIES, { displayed: 'img:0' });
  const detection = fake.detection();
  await detection.detect();

  expect(detection.report()).toEqual({
    model: { name: 'tuber-net-fixture', version: '0.0.0-test', backend: 'cpu' },
    threshold: 0.5,
    series: { seriesDescription: 'AX T2 FSE', contrast: 'T2' },
    operatingPoint: { verdict: true, threshold: 0.5 },
    slices: [
      { sopInstanceUID: '1.2.3.0', instanceNumber: 1, probability: 0.1 },
      { sopInstanceUID: '1.2.3.1', instanceNumber: 2, probability: 0.2 },
    ],
  });

  detection.close();
  expect(detection.current).toMatchObject({ phase: 'idle', slices: [] });
  expect(detection.current.target).toBeUndefined();
  expect(detection.report()).toBeUndefined();
});

describe('each series is read at its contrast’s operating point', () => {
  async function complete(contrast: 'T2' | 'FLAIR', top: number) {
    const fake = fakeDetection(
      2,
      { 'img:0': 0.1, 'img:1': top },
      { contrast, card: FLAIR_ONLY_CARD }
    );
    const detection = fake.detection();
    await detection.detect();
    return { fake, detection, state: detection.current };
  }

  test('a FLAIR series is flagged and decided at the card’s FLAIR series threshold', async () => {
    const negative = (await complete('FLAIR', 0.5)).state;
    expect(negative.target?.contrast).toBe('FLAIR');
    expect(negative.operatingPoint).toEqual({ verdict: true, threshold: 0.7 });
    expect(negative.threshold).toBe(0.7);
    expect(negative.validatedSeries).toBeUndefined();
    expect(negative.model).toMatchObject({ threshold: 0.3, seriesThresholds: { FLAIR: 0.7 } });
    expect(seriesDecision(negative.slices, negative.operatingPoint!)).toEqual({
      probability: 0.5,
      positive: false,
      threshold: 0.7,
    });

    const { detection, state } = await complete('FLAIR', 0.8);
    expect(seriesDecision(state.slices, state.operatingPoint!)?.positive).toBe(true);
    expect(detection.tuberRegions()?.threshold).toBe(0.7);
  });

  test('a T2 series gets no verdict, with the reason, and is flagged at the slice threshold', async () => {
    const { detection, state } = await complete('T2', 0.9);
    expect(state.operatingPoint).toEqual({ verdict: false, threshold: 0.3, reason: T2_WITHHELD });
    expect(state.threshold).toBe(0.3);
    expect(seriesDecision(state.slices, state.operatingPoint!)).toEqual({
      probability: 0.9,
      positive: null,
      threshold: 0.3,
      withheldReason: T2_WITHHELD,
    });
    expect(detection.report()).toMatchObject({
      threshold: 0.3,
      series: { contrast: 'T2' },
      operatingPoint: { verdict: false },
    });
  });

  test('a T2 series offers the study’s FLAIR series, and runs on it when asked', async () => {
    const { fake, detection, state } = await complete('T2', 0.9);
    expect(state.validatedSeries).toEqual({
      displaySetInstanceUID: 'flair',
      seriesDescription: 'AX FLAIR',
      contrast: 'FLAIR',
    });

    await detection.detectOnSeries('flair');
    expect(fake.mocks.services.viewportGridService.setDisplaySetsForViewport).toHaveBeenCalledWith({
      viewportId: 'default',
      displaySetInstanceUIDs: ['flair'],
    });
    const onFlair = detection.current;
    expect(onFlair.phase).toBe('complete');
    expect(onFlair.target).toMatchObject({ displaySetInstanceUID: 'flair', contrast: 'FLAIR' });
    expect(onFlair.operatingPoint).toEqual({ verdict: true, threshold: 0.7 });
    expect(onFlair.validatedSeries).toBeUndefined();
    expect(fake.reads.at(-1)).toBe('other:0');
  });

  test('offers nothing where the study has no series the model is validated for', async () => {
    const fake = fakeDetection(2, {}, { card: { ...FLAIR_ONLY_CARD, seriesThresholds: {} } });
    const detection = fake.detection();
    await detection.detect();
    expect(detection.current.operatingPoint?.verdict).toBe(false);
    expect(detection.current.validatedSeries).toBeUndefined();
  });

  test('says so, and runs nothing, when the offered series is gone', async () => {
    const { fake, detection } = await complete('T2', 0.9);
    const runs = fake.engineRuns.length;
    await detection.detectOnSeries('gone');
    expect(fake.engineRuns).toHaveLength(runs);
    expect(fake.mocks.services.uiNotificationService.show).toHaveBeenCalledWith({
      title: 'Tuber detection did not run',
      message: 'That series is no longer loaded.',
      type: 'warning',
    });
  });

  test('a moved threshold stays for the series’ next run; another series starts at its own', async () => {
    const { fake, detection } = await complete('T2', 0.9);
    detection.setThreshold(0.2);
    await detection.detect();
    expect(detection.current.threshold).toBe(0.2);

    fake.mocks.display('flair');
    await detection.detect();
    expect(detection.current.target?.contrast).toBe('FLAIR');
    expect(detection.current.threshold).toBe(0.7);
  });
});

describe('a 2.5D model (one neighbour a side)', () => {
  const card = {
    ...CARD,
    input: { ...CARD.input, shape: [128, 128, 3] as [number, number, number], neighbours: 1 },
  };
  /** What the fake host's slice `index` preprocesses to. */
  const own = (index: number) =>
    preprocessSlice({
      pixels: headPixels(index),
      rows: SLICE_SIDE,
      columns: SLICE_SIDE,
      pixelSpacing: [15, 15],
    });

  test('gets each slice with the slices below and above it, however the series is stored; each slice is read once', async () => {
    // Stored top-down: img:0 is the highest slice, so the slice below img:k is img:k+1.
    const fake = fakeDetection(4, PROBABILITIES, {
      displayed: 'img:1',
      card,
      levels: [40, 30, 20, 10],
    });
    const detection = fake.detection();
    await detection.detect();
    expect(detection.current).toMatchObject({ phase: 'complete', analysed: 4 });

    expect(fake.reads.slice().sort()).toEqual(['img:0', 'img:1', 'img:2', 'img:3']);
    const [first] = fake.engineRuns;
    expect(first.inputs).toEqual([interleaveChannels([own(2), own(1), own(0)])]);
    const runs = fake.engineRuns.slice(1).flatMap(run => run.inputs);
    // After the displayed slice, the others nearest first: img:0, img:2, img:3.
    expect(runs).toEqual([
      interleaveChannels([own(1), own(0), own(0)]),
      interleaveChannels([own(3), own(2), own(1)]),
      interleaveChannels([own(3), own(3), own(2)]),
    ]);
  });

  test('on a series without positions, takes the displayed order', async () => {
    const fake = fakeDetection(3, PROBABILITIES, {
      displayed: 'img:1',
      card,
      levels: [undefined, 5, 0],
    });
    await fake.detection().detect();
    expect(fake.engineRuns[0].inputs).toEqual([interleaveChannels([own(0), own(1), own(2)])]);
  });
});
