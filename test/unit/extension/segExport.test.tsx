/** @jest-environment jsdom */
import { act, createElement } from 'react';
import { toHeatLevels } from '../../../extension/src/core/heatLevels';
import { regionMask } from '../../../extension/src/core/tuberRegions';
import type { DetectionController } from '../../../extension/src/detectionController';
import {
  READ_ONLY_ARCHIVE,
  SEGMENT_LABEL,
  SEGMENTATION_STORAGE,
  SegExport,
} from '../../../extension/src/segExport';
import { StoredResults } from '../../../extension/src/storedResults';
import { TubersPanel } from '../../../extension/src/ui/TubersPanel';
import { FLAIR_ONLY_CARD, fakeDetection, modelStatusWith, SLICE_SIDE } from './fakeDetection';
import { fakeSegHost } from './fakeSegHost';
import { fakeStoredResultHost } from './fakeStoredResults';
import { reactRootPerTest } from './reactRoot';

/** The fake model's Grad-CAM is flat: a slice's heat is its probability on every pixel. */
const PROBABILITIES = { 'img:0': 0.1, 'img:1': 0.7, 'img:2': 0.3, 'img:3': 0.9 };
const PIXELS = SLICE_SIDE * SLICE_SIDE;
const ALL = new Uint8Array(PIXELS).fill(1);
const NONE = new Uint8Array(PIXELS);

async function analysed(
  probabilities: Record<string, number> = PROBABILITIES,
  options: Parameters<typeof fakeDetection>[2] = {}
) {
  const fake = fakeDetection(4, probabilities, { displayed: 'img:1', ...options });
  const detection = fake.detection();
  await detection.detect();
  return { fake, detection };
}

function exporter(
  fake: ReturnType<typeof fakeDetection>,
  detection: DetectionController,
  store?: Parameters<typeof fakeSegHost>[0]
) {
  const seg = fakeSegHost(store);
  return { seg, segExport: new SegExport(fake.mocks.services, detection, seg.host) };
}

describe('tuber regions', () => {
  test('on a flagged slice are its pixels with half its peak heat or more, never below the layer’s floor', () => {
    const heat = [0.1, 0.19, 0.2, 0.35, 0.44, 0.45, 0.9];
    expect(Array.from(regionMask(heat, 0.9, 0.5))).toEqual([0, 0, 0, 0, 0, 1, 1]);
    expect(Array.from(regionMask([0.1, 0.25, 0.3], 0.6, 0.5))).toEqual([0, 1, 1]);
    expect(Array.from(regionMask([0, 0, 0], 0.9, 0.5))).toEqual([0, 0, 0]);
  });

  test('a slice under the threshold has none, however hot', () => {
    expect(Array.from(regionMask([0.3, 0.9], 0.49, 0.5))).toEqual([0, 0]);
    expect(Array.from(regionMask([0.3, 0.9], NaN, 0.5))).toEqual([0, 0]);
  });

  test('always hold the slice’s hottest pixel and lie within what the heat layer draws', () => {
    const heat = Array.from({ length: 1000 }, (_, index) => Math.abs(Math.sin(index * 12.9898)));
    const mask = regionMask(heat, 1, 0.5);
    const levels = toHeatLevels(heat);
    expect(mask[heat.indexOf(Math.max(...heat))]).toBe(1);
    mask.forEach((inRegion, index) => {
      if (inRegion) expect(levels[index]).toBeGreaterThanOrEqual(1);
    });
  });

  test('exist once every slice is analysed, cut at the panel’s threshold', async () => {
    const { detection } = await analysed();
    const regions = detection.tuberRegions()!;
    expect(regions.threshold).toBe(0.5);
    expect(regions.model.name).toBe('tuber-net-fixture');
    expect(regions.masks.map(({ imageId }) => imageId)).toEqual([
      'img:0',
      'img:1',
      'img:2',
      'img:3',
    ]);
    expect(regions.masks.map(({ mask }) => mask)).toEqual([NONE, ALL, NONE, ALL]);

    detection.setThreshold(0.8);
    expect(detection.tuberRegions()!.masks.map(({ mask }) => mask)).toEqual([
      NONE,
      NONE,
      NONE,
      ALL,
    ]);
  });

  test('start at the series’ operating point: its contrast’s series threshold, else the slice threshold', async () => {
    const probabilities = { 'img:0': 0.1, 'img:1': 0.75, 'img:2': 0.5, 'img:3': 0.9 };
    const flair = await analysed(probabilities, { contrast: 'FLAIR', card: FLAIR_ONLY_CARD });
    const flairRegions = flair.detection.tuberRegions()!;
    expect(flairRegions.threshold).toBe(0.7);
    expect(flairRegions.masks.map(({ mask }) => mask)).toEqual([NONE, ALL, NONE, ALL]);

    const t2 = await analysed(probabilities, { contrast: 'T2', card: FLAIR_ONLY_CARD });
    const t2Regions = t2.detection.tuberRegions()!;
    expect(t2Regions.threshold).toBe(0.3);
    expect(t2Regions.masks.map(({ mask }) => mask)).toEqual([NONE, ALL, ALL, ALL]);
  });

  test('do not exist for a series that is not completely analysed', () => {
    const fake = fakeDetection(4, PROBABILITIES);
    expect(fake.detection().tuberRegions()).toBeUndefined();
  });
});

describe('DICOM SEG export', () => {
  test('downloads the regions as one automatic segment named after the model, through the viewer’s SEG', async () => {
    const { fake, detection } = await analysed();
    const { seg, segExport } = exporter(fake, detection);
    await segExport.download();

    const [{ spec, layer }] = seg.layers;
    expect(spec).toEqual({
      segmentationId: 'tuberlens-tubers-t2',
      label: 'TuberLens tubers (Grad-CAM half max, p >= 0.50)',
      segments: [
        {
          index: 1,
          label: SEGMENT_LABEL,
          color: [0, 220, 255, 255],
          algorithm: { type: 'AUTOMATIC', name: 'tuber-net-fixture 0.0.0-test' },
        },
      ],
      style: 'outline',
    });
    expect(layer.writes).toEqual([
      { imageId: 'img:0', levels: NONE },
      { imageId: 'img:1', levels: ALL },
      { imageId: 'img:2', levels: NONE },
      { imageId: 'img:3', levels: ALL },
    ]);
    expect(layer.flushes).toBe(1);
    expect(seg.host.generateSeg).toHaveBeenCalledWith('tuberlens-tubers-t2', {
      sopClassUID: SEGMENTATION_STORAGE,
      transferSyntaxUID: '1.2.840.10008.1.2.1',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      SeriesDescription: 'TuberLens tubers, p >= 0.50, tuber-net-fixture 0.0.0-test',
      Manufacturer: 'TuberLens',
      ManufacturerModelName: 'tuber-net-fixture',
      SoftwareVersions: '0.0.0-test',
      ContentDescription: 'Tuber regions, Grad-CAM half max, p >= 0.50; research use only',
      ContentCreatorName: 'TuberLens',
    });
    expect(seg.downloads).toEqual([
      {
        dataset: expect.objectContaining({ segmentationId: 'tuberlens-tubers-t2' }),
        fileName: 'tuberlens-series-seg.dcm',
      },
    ]);
    expect(segExport.current).toEqual({
      phase: 'done',
      message:
        'Downloaded tuberlens-series-seg.dcm: tuber regions (Grad-CAM half max, p >= 0.50) on 2 of 4 slices.',
    });
    expect(fake.mocks.services.uiNotificationService.show).toHaveBeenLastCalledWith(
      expect.objectContaining({ type: 'success' })
    );
  });

  test('saves to an archive that takes stores', async () => {
    const { fake, detection } = await analysed();
    const store = jest.fn(async () => {});
    const { segExport } = exporter(fake, detection, store);
    expect(segExport.saveUnavailable()).toBeUndefined();
    await segExport.save();

    expect(store).toHaveBeenCalledWith(
      expect.objectContaining({ SeriesDescription: expect.stringContaining('tuber-net-fixture') })
    );
    expect(segExport.current.message).toBe(
      'Saved to Demo archive: tuber regions (Grad-CAM half max, p >= 0.50) on 2 of 4 slices.'
    );
  });

  test('a read-only archive: Save is unavailable and says why, and never claims to have saved', async () => {
    const { fake, detection } = await analysed();
    const { seg, segExport } = exporter(fake, detection);
    expect(segExport.saveUnavailable()).toBe(READ_ONLY_ARCHIVE);
    await segExport.save();

    expect(segExport.current).toEqual({
      phase: 'failed',
      message: 'Not saved: this archive is read-only; use Download SEG.',
    });
    expect(seg.downloads).toEqual([]);
  });

  test('an archive that refuses the store with 405 is read-only from then on', async () => {
    const { fake, detection } = await analysed();
    const refusal = Object.assign(new Error('request failed'), { status: 405 });
    const store = jest.fn(async () => Promise.reject(refusal));
    const { segExport } = exporter(fake, detection, store);
    await segExport.save();

    expect(segExport.current).toEqual({
      phase: 'failed',
      message: 'Not saved: this archive is read-only; use Download SEG.',
    });
    expect(fake.mocks.services.uiNotificationService.show).toHaveBeenLastCalledWith(
      expect.objectContaining({ type: 'error' })
    );
    expect(segExport.saveUnavailable()).toBe(READ_ONLY_ARCHIVE);
    await segExport.save();
    expect(store).toHaveBeenCalledTimes(1);
  });

  test('another store failure says what the archive answered and leaves Save available', async () => {
    const { fake, detection } = await analysed();
    const failure = Object.assign(new Error('request failed'), { status: 500 });
    const { segExport } = exporter(fake, detection, async () => Promise.reject(failure));
    await segExport.save();

    expect(segExport.current.message).toBe('Not saved: the archive answered HTTP 500.');
    expect(segExport.saveUnavailable()).toBeUndefined();
  });

  test('no slice at the threshold: nothing is built, and it says so', async () => {
    const { fake, detection } = await analysed({ 'img:0': 0.1, 'img:1': 0.3 });
    const { seg, segExport } = exporter(fake, detection);
    await segExport.download();

    expect(segExport.current).toEqual({
      phase: 'empty',
      message: 'No slice at 0.50 or more has a Grad-CAM region: nothing to export.',
    });
    expect(seg.host.generateSeg).not.toHaveBeenCalled();
  });

  test('before every slice is analysed there is nothing to export; a new run clears the outcome', async () => {
    const fake = fakeDetection(4, PROBABILITIES);
    const detection = fake.detection();
    const { seg, segExport } = exporter(fake, detection);
    await segExport.download();
    expect(segExport.current).toEqual({
      phase: 'failed',
      message: 'Run detection on the whole series first.',
    });

    await detection.detect();
    await segExport.download();
    expect(segExport.current.phase).toBe('done');
    const phases: string[] = [];
    segExport.subscribe(() => phases.push(segExport.current.phase));
    await detection.detect();
    expect(phases).toEqual(['idle']);
    expect(seg.host.generateSeg).toHaveBeenCalledTimes(1);
  });
});

describe('the panel’s SEG controls', () => {
  const view = reactRootPerTest();

  const element = <T extends Element = HTMLElement>(testId: string) =>
    view.container.querySelector<T>(`[data-cy="${testId}"]`);

  async function renderPanel(store?: Parameters<typeof fakeSegHost>[0]) {
    const { fake, detection } = await analysed();
    const { seg, segExport } = exporter(fake, detection, store);
    await view.render(
      createElement(TubersPanel, {
        services: fake.mocks.services,
        modelStatus: modelStatusWith(),
        detection,
        segExport,
        storedResults: new StoredResults(fake.mocks.services, fakeStoredResultHost().host),
      })
    );
    return seg;
  }

  test('on a read-only archive, Save is disabled with the reason shown and Download works', async () => {
    const seg = await renderPanel();
    expect(element<HTMLButtonElement>('tuberlens-save-seg')!.disabled).toBe(true);
    expect(element('tuberlens-seg-note')!.textContent).toBe(
      'Tuber regions: where Grad-CAM reaches half its peak, on slices at 0.50 or more; one segment. Save: this archive is read-only; use Download SEG.'
    );

    await act(async () => element<HTMLButtonElement>('tuberlens-download-seg')!.click());
    expect(seg.downloads).toHaveLength(1);
    expect(element('tuberlens-seg')!.getAttribute('data-status')).toBe('done');
    expect(element('tuberlens-seg-message')!.textContent).toBe(
      'Downloaded tuberlens-series-seg.dcm: tuber regions (Grad-CAM half max, p >= 0.50) on 2 of 4 slices.'
    );
  });

  test('a refused store turns Save off and shows the failure as one', async () => {
    const refusal = Object.assign(new Error('request failed'), { status: 405 });
    await renderPanel(async () => Promise.reject(refusal));
    expect(element<HTMLButtonElement>('tuberlens-save-seg')!.disabled).toBe(false);

    await act(async () => element<HTMLButtonElement>('tuberlens-save-seg')!.click());
    expect(element('tuberlens-seg')!.getAttribute('data-status')).toBe('failed');
    expect(element('tuberlens-seg-message')!.textContent).toBe(
      'Not saved: this archive is read-only; use Download SEG.'
    );
    expect(element<HTMLButtonElement>('tuberlens-save-seg')!.disabled).toBe(true);
  });
});
