import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { initialiseNodeBackend } from '../../models/pipeline/tfBackend';
import { WEIGHTS_FILE } from '../../models/pipeline/training/modelFiles';
import { writeModelPackage } from '../fixtures/tuberModel';
import { eventually, launchChromium, startTuberLens, type RunningServer } from './harness';
import { openStudy, waitForPhase, type HostWindow } from './tuberLensPage';

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

  const shown = () =>
    page.evaluate(() => {
      const { services, cornerstone } = window as unknown as HostWindow;
      const viewportId = services.viewportGridService.getActiveViewportId();
      const [uid] = services.viewportGridService.getDisplaySetsUIDsForViewport(viewportId);
      const series = services.displaySetService
        .getActiveDisplaySets()
        .find(set => set.displaySetInstanceUID === uid);
      const viewport = cornerstone.getRenderingEngines()[0].getViewport(viewportId);
      return { current: viewport.getCurrentImageId(), third: series?.imageIds[2] };
    });
  await page.locator('[data-cy="tuberlens-slice-bar"][data-index="2"]').click();
  await eventually(async () => {
    const { current, third } = await shown();
    expect(current).toBe(third);
  });

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
async function onFirstResult(page: Page, act: 'stop' | 'show FLAIR') {
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
      const { services } = window as unknown as HostWindow;
      const flair = services.displaySetService
        .getActiveDisplaySets()
        .find(set => set.SeriesDescription === 'AX FLAIR');
      services.viewportGridService.setDisplaySetsForViewport({
        viewportId: services.viewportGridService.getActiveViewportId(),
        displaySetInstanceUIDs: [flair!.displaySetInstanceUID],
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

  await onFirstResult(page, 'show FLAIR');
  await page.locator('[data-cy="tuberlens-detect"]').click();
  await eventually(async () =>
    expect(await page.locator('[data-cy="tuberlens-series-description"]').innerText()).toBe(
      'AX FLAIR'
    )
  );
  await page.evaluate(() => {
    const { services } = window as unknown as HostWindow;
    const t2 = services.displaySetService
      .getActiveDisplaySets()
      .find(set => set.SeriesDescription === 'AX T2 FSE');
    services.viewportGridService.setDisplaySetsForViewport({
      viewportId: services.viewportGridService.getActiveViewportId(),
      displaySetInstanceUIDs: [t2!.displaySetInstanceUID],
    });
  });
  await waitForPhase(page, 'stopped');
  await expect(page.locator('[data-cy="tuberlens-detection-message"]').innerText()).resolves.toBe(
    'Stopped: another series is displayed.'
  );
  expect(await analysed(page)).toBeLessThan(24);
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
