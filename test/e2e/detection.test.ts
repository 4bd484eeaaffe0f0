import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import type { Browser, Page } from 'playwright-core';
import { initialiseNodeBackend } from '../../models/pipeline/tfBackend';
import { WEIGHTS_FILE } from '../../models/pipeline/training/modelFiles';
import { writeModelPackage } from '../fixtures/tuberModel';
import { eventually, launchChromium, startTuberLens, type RunningServer } from './harness';
import {
  enterStudy,
  openStudy,
  showSliceFromStrip,
  statusOf,
  tensorCount,
  tensorCountAfterWarmUp,
  showSeries,
  waitForPhase,
  type HostWindow,
} from './tuberLensPage';

/**
 * "Detect tubers" in the viewer, end to end, with an untrained fixture model: what runs, what the
 * radiologist sees, how a run stops and fails. What the trained model finds is checked in
 * detectionModel.test.ts.
 */

const MODEL = 'tuber-net-fixture';
const SEGMENTATION_PANEL = '@ohif/extension-cornerstone.panelModule.panelSegmentation';
const SCREENSHOTS = process.env.TUBERLENS_SCREENSHOTS;

const analysed = (page: Page) =>
  page
    .locator('[data-cy="tuberlens-progress"]')
    .evaluate(node => (node as HTMLProgressElement).value);

let modelsDir: string;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  await initialiseNodeBackend('wasm');
  modelsDir = await mkdtemp(join(tmpdir(), 'tuberlens-detection-e2e-'));
  (await writeModelPackage(join(modelsDir, MODEL))).dispose();
  await writeFile(join(modelsDir, 'index.json'), JSON.stringify({ installed: [MODEL] }));
  [server, browser] = await Promise.all([
    startTuberLens(['--models-dir', modelsDir]),
    launchChromium(),
  ]);
}, 320_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await rm(modelsDir, { recursive: true, force: true });
});

test('"Detect tubers" runs the whole series in the browser and draws Grad-CAM as an OHIF segmentation', async () => {
  const { page, problems, requests } = await openStudy(
    browser,
    server,
    'SYNTHETIC BRAIN MRI - TSC'
  );
  await page.locator('[data-cy="DetectTubers"]').click();
  await waitForPhase(page, 'complete');

  const panel = page.locator('[data-cy="tuberlens-panel"]');
  await expect(panel.locator('[data-cy="tuberlens-model-name"]').innerText()).resolves.toBe(
    'tuber-net-fixture 0.0.0-test'
  );
  await expect(panel.locator('[data-cy="tuberlens-model-backend"]').innerText()).resolves.toMatch(
    /^Runs on (webgpu|webgl|wasm|cpu); threshold 0\.50 \(model card\)\.$/
  );
  const bars = panel.locator('[data-cy="tuberlens-slice-bar"]');
  await expect(bars.count()).resolves.toBe(24);
  await expect(
    panel.locator('[data-cy="tuberlens-slice-bar"][data-analysed="true"]').count()
  ).resolves.toBe(24);
  await expect(
    panel.locator('[data-cy="tuberlens-verdict"]').getAttribute('data-verdict')
  ).resolves.toMatch(/^(positive|negative)$/);
  await expect(
    panel.locator('[data-cy="tuberlens-series-probability"]').innerText()
  ).resolves.toMatch(/^Series probability \d\.\d\d [≥<] 0\.50, the model card's threshold\.$/);

  const layer = await page.evaluate(() => {
    const { services, cornerstone } = window as unknown as HostWindow;
    const viewportId = services.viewportGridService.getActiveViewportId();
    const [uid] = services.viewportGridService.getDisplaySetsUIDsForViewport(viewportId);
    const segmentation = services.segmentationService
      .getSegmentations()
      .find(candidate => candidate.segmentationId === `tuberlens-gradCam-${uid}`);
    const labelmap = segmentation?.representationData.Labelmap;
    const sameGrid = labelmap?.referencedImageIds.every((imageId, index) => {
      const image = cornerstone.cache.getImage(imageId);
      const labels = cornerstone.cache.getImage(labelmap.imageIds[index]);
      return (
        labels.rows === image.rows &&
        labels.columns === image.columns &&
        labels.voxelManager.getScalarData().length === image.rows * image.columns
      );
    });
    return { label: segmentation?.label, slices: labelmap?.imageIds.length, sameGrid };
  });
  expect(layer).toEqual({ label: 'TuberLens Grad-CAM', slices: 24, sameGrid: true });

  await page.evaluate(
    id => (window as unknown as HostWindow).services.panelService.activatePanel(id, true),
    SEGMENTATION_PANEL
  );
  await page.getByText('TuberLens Grad-CAM').first().waitFor();
  if (SCREENSHOTS)
    await page.screenshot({ path: join(SCREENSHOTS, 'detection-segmentation-panel.png') });

  const origin = new URL(server.url).origin;
  expect(
    requests.filter(url => !url.startsWith(`${origin}/`) && !/^(blob|data):/.test(url))
  ).toEqual([]);
  expect(problems).toEqual([]);
  await page.close();
}, 420_000);

test('the strip jumps to a slice, the threshold flags slices, and the layer toggles', async () => {
  const { page, problems } = await openStudy(browser, server, 'SYNTHETIC BRAIN MRI - TSC');
  await page.keyboard.press('t');
  await waitForPhase(page, 'complete');
  if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'detection-panel.png') });

  await showSliceFromStrip(page, 2);

  await page.locator('[data-cy="tuberlens-threshold"]').fill('0');
  await expect(
    page.locator('[data-cy="tuberlens-slice-bar"][data-flagged="true"]').count()
  ).resolves.toBe(24);
  await page.locator('[data-cy="tuberlens-threshold-reset"]').click();
  await expect(page.locator('[data-cy="tuberlens-threshold"]').inputValue()).resolves.toBe('0.5');

  await page.locator('[data-cy="tuberlens-layer-gradCam"]').uncheck();
  await page.locator('[data-cy="tuberlens-layer-opacity"]').fill('0.3');
  await expect(page.locator('[data-cy="tuberlens-layers"]').innerText()).resolves.toContain('30 %');
  expect(problems).toEqual([]);
  await page.close();
}, 420_000);

/**
 * Does `act` in the page as soon as the first slice is analysed: with a small model a whole series
 * takes about a second, too little for a test to catch between two of its own round trips.
 */
async function onFirstResult(page: Page, act: 'stop' | 'show T2' | 'leave study') {
  await page.evaluate(action => {
    const observer = new MutationObserver(() => {
      const progress = document.querySelector<HTMLProgressElement>(
        '[data-cy="tuberlens-progress"]'
      );
      if (!progress || progress.value < 1) return;
      observer.disconnect();
      if (action === 'stop') {
        document.querySelector<HTMLButtonElement>('[data-cy="tuberlens-stop"]')?.click();
        return;
      }
      if (action === 'leave study') {
        history.back();
        return;
      }
      const { services } = window as unknown as HostWindow;
      const t2 = services.displaySetService
        .getActiveDisplaySets()
        .find(set => set.SeriesDescription === 'AX T2 FSE');
      services.viewportGridService.setDisplaySetsForViewport({
        viewportId: services.viewportGridService.getActiveViewportId(),
        displaySetInstanceUIDs: [t2!.displaySetInstanceUID],
      });
    });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true });
  }, act);
}

test('Stop ends a run and says so; showing another series stops it too; neither gives a verdict', async () => {
  const { page, problems } = await openStudy(browser, server, 'SYNTHETIC BRAIN MRI - TSC');
  await onFirstResult(page, 'stop');
  await page.locator('[data-cy="tuberlens-detect"]').click();
  await waitForPhase(page, 'stopped');
  await expect(page.locator('[data-cy="tuberlens-detection-message"]').innerText()).resolves.toBe(
    'Stopped by you.'
  );
  await expect(
    page.locator('[data-cy="tuberlens-verdict"]').getAttribute('data-verdict')
  ).resolves.toBe('none');
  expect(await analysed(page)).toBeLessThan(24);

  await onFirstResult(page, 'show T2');
  await page.locator('[data-cy="tuberlens-detect"]').click();
  await eventually(async () =>
    expect(await page.locator('[data-cy="tuberlens-series-description"]').innerText()).toBe(
      'AX T2 FSE'
    )
  );
  await showSeries(page, 'AX FLAIR');
  await waitForPhase(page, 'stopped');
  await expect(page.locator('[data-cy="tuberlens-detection-message"]').innerText()).resolves.toBe(
    'Stopped: another series is displayed.'
  );
  expect(await analysed(page)).toBeLessThan(24);
  expect(problems).toEqual([]);
  await page.close();
}, 420_000);

/** Resolves with the detection phase the panel last showed before it closed, as its study closed. */
function phaseWhenPanelCloses(page: Page): Promise<string | null> {
  return page.evaluate(
    () =>
      new Promise<string | null>(resolve => {
        let last: string | null = null;
        const observer = new MutationObserver(() => {
          const section = document.querySelector('[data-cy="tuberlens-detection"]');
          if (section) {
            last = section.getAttribute('data-status');
            return;
          }
          observer.disconnect();
          resolve(last);
        });
        observer.observe(document.body, { subtree: true, childList: true, attributes: true });
      })
  );
}

/** The active viewport's display set, and the TuberLens layers: on that viewport, and in all. */
function tuberLensLayers(page: Page) {
  return page.evaluate(() => {
    const { services } = window as unknown as HostWindow;
    const viewportId = services.viewportGridService.getActiveViewportId();
    const [displaySetInstanceUID] =
      services.viewportGridService.getDisplaySetsUIDsForViewport(viewportId);
    const ours = (segmentationId: string) => segmentationId.startsWith('tuberlens-');
    return {
      displaySetInstanceUID,
      onViewport: services.segmentationService
        .getSegmentationRepresentations(viewportId)
        .map(({ segmentationId }) => segmentationId)
        .filter(ours),
      all: services.segmentationService
        .getSegmentations()
        .map(({ segmentationId }) => segmentationId)
        .filter(ours),
    };
  });
}

test('going to another study mid-run stops the run: nothing of it reaches the new study, where Detect runs as usual', async () => {
  const { page, problems } = await openStudy(browser, server, 'SYNTHETIC BRAIN MRI - TSC');
  const tsc = (await tuberLensLayers(page)).displaySetInstanceUID;
  const lastPhase = phaseWhenPanelCloses(page);
  await onFirstResult(page, 'leave study');
  // The fixture model reads a series in well under a second, faster than the viewer leaves a
  // study; a slowed-down CPU keeps the run going until the study closes.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 20 });
  await page.locator('[data-cy="DetectTubers"]').click();
  await expect(lastPhase).resolves.toBe('running');
  await page.waitForURL(url => !url.pathname.startsWith('/tuberlens'));
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  await enterStudy(page, 'SYNTHETIC BRAIN MRI - CONTROL');

  await expect(statusOf(page, 'tuberlens-detection')).resolves.toBe('idle');
  for (const stale of ['verdict', 'slice-bar', 'progress', 'detection-message'])
    await expect(page.locator(`[data-cy="tuberlens-${stale}"]`).count()).resolves.toBe(0);
  const control = await tuberLensLayers(page);
  expect(control.displaySetInstanceUID).not.toBe(tsc);
  expect(control.onViewport).toEqual([]);
  expect(control.all).not.toContain(`tuberlens-gradCam-${tsc}`);

  await page.locator('[data-cy="DetectTubers"]').click();
  await waitForPhase(page, 'complete');
  const bars = await page.locator('[data-cy="tuberlens-slice-bar"]').count();
  expect(bars).toBe(24);
  await expect(
    page.locator('[data-cy="tuberlens-slice-bar"][data-analysed="true"]').count()
  ).resolves.toBe(bars);
  await expect(
    page.locator('[data-cy="tuberlens-verdict"]').getAttribute('data-verdict')
  ).resolves.toMatch(/^(positive|negative)$/);
  await expect(tuberLensLayers(page)).resolves.toMatchObject({
    onViewport: [`tuberlens-gradCam-${control.displaySetInstanceUID}`],
  });
  expect(problems).toEqual([]);
  await page.close();
}, 420_000);

test('each run leaves TF.js with the tensors it held right after the warm-up', async () => {
  const { page, problems } = await openStudy(browser, server, 'SYNTHETIC BRAIN MRI - TSC');
  const afterWarmUp = tensorCountAfterWarmUp(page);
  await page.locator('[data-cy="DetectTubers"]').click();
  await waitForPhase(page, 'complete');
  const baseline = await afterWarmUp;
  expect(baseline).toBeGreaterThan(0);
  await expect(tensorCount(page)).resolves.toBe(baseline);

  // The saliency layer's checkbox runs detection again, now with saliency.
  const rerun = page.waitForSelector(
    '[data-cy="tuberlens-detection"]:not([data-status="complete"])'
  );
  await page.locator('[data-cy="tuberlens-layer-saliency"]').check();
  await rerun;
  await waitForPhase(page, 'complete');
  await expect(tensorCount(page)).resolves.toBe(baseline);
  expect(problems).toEqual([]);
  await page.close();
}, 420_000);

test('a volume viewport gives the same probabilities as the stack viewport', async () => {
  const { page, problems } = await openStudy(browser, server, 'SYNTHETIC BRAIN MRI - TSC');
  const probabilities = () =>
    page
      .locator('[data-cy="tuberlens-slice-bar"] title')
      .allTextContents()
      .then(titles => titles.map(title => title.replace(', flagged', '')));
  await page.locator('[data-cy="DetectTubers"]').click();
  await waitForPhase(page, 'complete');
  const fromStack = await probabilities();

  await page.evaluate(() => {
    const { services } = window as unknown as HostWindow;
    const viewportId = services.viewportGridService.getActiveViewportId();
    services.viewportGridService.setDisplaySetsForViewport({
      viewportId,
      displaySetInstanceUIDs:
        services.viewportGridService.getDisplaySetsUIDsForViewport(viewportId),
      viewportOptions: { viewportType: 'volume', orientation: 'axial' },
    });
  });
  await eventually(async () =>
    expect(
      await page.evaluate(() => {
        const { services, cornerstone } = window as unknown as HostWindow;
        const viewportId = services.viewportGridService.getActiveViewportId();
        return cornerstone.getRenderingEngines()[0].getViewport(viewportId)?.type;
      })
    ).toBe('orthographic')
  );
  await page.locator('[data-cy="tuberlens-detect"]').click();
  await waitForPhase(page, 'complete');
  expect(await probabilities()).toEqual(fromStack);
  expect(problems).toEqual([]);
  await page.close();
}, 420_000);

test('a model whose weights do not match its card fails as a failure, never as "no tubers"', async () => {
  const weights = join(modelsDir, MODEL, WEIGHTS_FILE);
  const original = await readFile(weights);
  const tampered = Buffer.from(original);
  tampered[0] ^= 0xff;
  await writeFile(weights, tampered);
  try {
    const { page, problems } = await openStudy(browser, server, 'SYNTHETIC BRAIN MRI - TSC');
    await page.locator('[data-cy="DetectTubers"]').click();
    await waitForPhase(page, 'failed');
    await expect(
      page.locator('[data-cy="tuberlens-detection-message"]').innerText()
    ).resolves.toMatch(
      /^Tuber detection failed: weights\.bin of the model .* is not the file its model card names/
    );
    await page.getByText('Tuber detection failed').first().waitFor();
    await expect(page.locator('[data-cy="tuberlens-verdict"]').count()).resolves.toBe(0);
    const segmentations = await page.evaluate(
      () => (window as unknown as HostWindow).services.segmentationService.getSegmentations().length
    );
    expect(segmentations).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  } finally {
    await writeFile(weights, original);
  }
}, 420_000);

/** Naturalized attributes of a DICOM SEG, as dcmjs reads them. */
interface SegDataset {
  SOPClassUID: string;
  SeriesDescription: string;
  Rows: number;
  Columns: number;
  SegmentSequence: Array<{
    SegmentLabel: string;
    SegmentAlgorithmType: string;
    SegmentAlgorithmName: string;
  }>;
  ReferencedSeriesSequence: Array<{
    SeriesInstanceUID: string;
    ReferencedInstanceSequence: Array<{ ReferencedSOPInstanceUID: string }>;
  }>;
  PerFrameFunctionalGroupsSequence: Array<{
    DerivationImageSequence: Array<{
      SourceImageSequence: Array<{ ReferencedSOPInstanceUID: string }>;
    }>;
  }>;
  PixelData: ArrayBuffer[];
}

/** dcmjs gives a sequence of one item as the item itself. */
const items = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

function readSeg(file: Buffer): SegDataset {
  const buffer = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
  const { dict } = dcmjs.data.DicomMessage.readFile(buffer as ArrayBuffer);
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict) as unknown as SegDataset;
}

/** Each SEG frame's source image and its set pixels (a binary SEG packs 8 pixels a byte, first pixel lowest bit). */
function segFrames(seg: SegDataset): Map<string, number[]> {
  const bits = new Uint8Array(seg.PixelData[0]);
  const pixels = seg.Rows * seg.Columns;
  return new Map(
    items(seg.PerFrameFunctionalGroupsSequence).map((group, frame) => {
      const [derivation] = items(group.DerivationImageSequence);
      const [source] = items(derivation.SourceImageSequence);
      const set: number[] = [];
      for (let pixel = 0; pixel < pixels; pixel++) {
        const bit = frame * pixels + pixel;
        if ((bits[bit >> 3] >> (bit & 7)) & 1) set.push(pixel);
      }
      return [source.ReferencedSOPInstanceUID, set];
    })
  );
}

/**
 * The displayed series' UID and, per SOP Instance UID, the Grad-CAM layer's drawn pixels (level 1 or
 * more) and those at the slice's highest level.
 */
function layerHeat(page: Page) {
  return page.evaluate(() => {
    const { services, cornerstone } = window as unknown as HostWindow;
    const viewportId = services.viewportGridService.getActiveViewportId();
    const [uid] = services.viewportGridService.getDisplaySetsUIDsForViewport(viewportId);
    const series = services.displaySetService
      .getActiveDisplaySets()
      .find(set => set.displaySetInstanceUID === uid) as unknown as { SeriesInstanceUID: string };
    const labelmap = services.segmentationService
      .getSegmentations()
      .find(segmentation => segmentation.segmentationId === `tuberlens-gradCam-${uid}`)!
      .representationData.Labelmap;
    const slices = labelmap.referencedImageIds.map((imageId, index) => {
      const levels = cornerstone.cache
        .getImage(labelmap.imageIds[index])
        .voxelManager.getScalarData();
      let highest = 0;
      for (let pixel = 0; pixel < levels.length; pixel++)
        highest = Math.max(highest, levels[pixel]);
      const drawn: number[] = [];
      const hottest: number[] = [];
      for (let pixel = 0; pixel < levels.length; pixel++) {
        if (levels[pixel] >= 1) drawn.push(pixel);
        if (highest >= 1 && levels[pixel] === highest) hottest.push(pixel);
      }
      const sopInstanceUID = cornerstone.metaData.get('instance', imageId)?.SOPInstanceUID ?? '';
      return { sopInstanceUID, drawn, hottest };
    });
    return { seriesInstanceUID: series.SeriesInstanceUID, slices };
  });
}

test('"Download SEG" gives a DICOM SEG of the half-maximum Grad-CAM regions of the flagged slices; "Save" is disabled on the read-only demo archive, saying why', async () => {
  const { page, problems } = await openStudy(browser, server, 'SYNTHETIC BRAIN MRI - TSC');
  await page.locator('[data-cy="DetectTubers"]').click();
  await waitForPhase(page, 'complete');

  const probabilities = (
    await page.locator('[data-cy="tuberlens-slice-bar"] title').allTextContents()
  ).map(title => Number(/probability (\d\.\d+)/.exec(title)![1]));
  // Under the highest slice, so that some slice is flagged whatever the fixture model scores.
  const threshold = Number(Math.min(0.5, Math.max(...probabilities) - 0.05).toFixed(2));
  await page.locator('[data-cy="tuberlens-threshold"]').fill(threshold.toFixed(2));
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('[data-cy="tuberlens-download-seg"]').click(),
  ]);
  const seg = readSeg(await readFile((await download.path())!));
  const { seriesInstanceUID, slices } = await layerHeat(page);

  expect(download.suggestedFilename()).toBe(`tuberlens-${seriesInstanceUID}-seg.dcm`);
  expect(seg.SOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.66.4');
  expect(seg.SeriesDescription).toBe(
    `TuberLens tubers, p >= ${threshold.toFixed(2)}, tuber-net-fixture 0.0.0-test`
  );
  expect(items(seg.SegmentSequence)).toEqual([
    expect.objectContaining({
      SegmentLabel: 'Tuber (TuberLens Grad-CAM)',
      SegmentAlgorithmType: 'AUTOMATIC',
      SegmentAlgorithmName: 'tuber-net-fixture 0.0.0-test',
    }),
  ]);
  const [referencedSeries] = items(seg.ReferencedSeriesSequence);
  expect(referencedSeries.SeriesInstanceUID).toBe(seriesInstanceUID);
  expect(
    items(referencedSeries.ReferencedInstanceSequence)
      .map(instance => instance.ReferencedSOPInstanceUID)
      .sort()
  ).toEqual(slices.map(({ sopInstanceUID }) => sopInstanceUID).sort());
  // A region is cut on each flagged slice (the panel shows probabilities to two decimals) at half
  // its peak heat: it holds the slice's hottest drawn level and nothing the heat layer leaves out.
  const frames = segFrames(seg);
  const flagged = (margin: number) => probabilities.filter(p => p >= threshold + margin).length;
  expect(frames.size).toBeGreaterThanOrEqual(flagged(0.005));
  expect(frames.size).toBeLessThanOrEqual(flagged(-0.005));
  expect(frames.size).toBeGreaterThan(0);
  const heat = new Map(slices.map(slice => [slice.sopInstanceUID, slice]));
  const missing = (pixels: number[], from: number[]) => {
    const within = new Set(from);
    return pixels.filter(pixel => !within.has(pixel));
  };
  for (const [sopInstanceUID, region] of frames) {
    const { drawn, hottest } = heat.get(sopInstanceUID)!;
    expect(hottest.length).toBeGreaterThan(0);
    expect(missing(hottest, region)).toEqual([]);
    expect(missing(region, drawn)).toEqual([]);
  }
  await expect(page.locator('[data-cy="tuberlens-seg-message"]').innerText()).resolves.toBe(
    `Downloaded ${download.suggestedFilename()}: tuber regions (Grad-CAM half max, p >= ${threshold.toFixed(2)}) on ${frames.size} of 24 slices.`
  );

  await expect(page.locator('[data-cy="tuberlens-save-seg"]').isDisabled()).resolves.toBe(true);
  await expect(page.locator('[data-cy="tuberlens-seg-note"]').innerText()).resolves.toContain(
    'Save: this archive is read-only; use Download SEG.'
  );
  expect(problems).toEqual([]);
  await page.close();
}, 420_000);

test('software-rendered WebGL is skipped for wasm, saying so; ?tuberlensBackend=webgl forces it', async () => {
  const { page, problems } = await openStudy(browser, server, 'SYNTHETIC BRAIN MRI - TSC');
  const renderer = await page.evaluate(() => {
    const gl = document.createElement('canvas').getContext('webgl2');
    const info = gl?.getExtension('WEBGL_debug_renderer_info');
    return gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
  });
  expect(renderer).toMatch(/SwiftShader/);
  await page.locator('[data-cy="DetectTubers"]').click();
  await waitForPhase(page, 'complete');
  await expect(page.locator('[data-cy="tuberlens-model-backend"]').innerText()).resolves.toMatch(
    /^Runs on wasm;/
  );
  await expect(page.locator('[data-cy="tuberlens-model-backend-note"]').innerText()).resolves.toBe(
    'WebGL is software-rendered here (SwiftShader); using wasm.'
  );
  expect(problems).toEqual([]);
  await page.close();

  const forced = await openStudy(
    browser,
    server,
    'SYNTHETIC BRAIN MRI - TSC',
    '?tuberlensBackend=webgl'
  );
  await forced.page.locator('[data-cy="DetectTubers"]').click();
  await waitForPhase(forced.page, 'complete');
  await expect(
    forced.page.locator('[data-cy="tuberlens-model-backend"]').innerText()
  ).resolves.toMatch(/^Runs on webgl;/);
  await expect(
    forced.page.locator('[data-cy="tuberlens-model-backend-note"]').count()
  ).resolves.toBe(0);
  expect(forced.problems).toEqual([]);
  await forced.page.close();
}, 420_000);
