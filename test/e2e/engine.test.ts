import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { initialiseNodeBackend } from '../../models/pipeline/tfBackend';
import { fixtureSlices, nodeProbabilities, writeModelPackage } from '../fixtures/tuberModel';
import { launchChromium, startTuberLens, watchPage, type RunningServer } from './harness';

const MODEL = 'tuber-net-fixture';
const SLICES = fixtureSlices(8);
const TEST_PAGE = `<!doctype html>
<meta charset="utf-8" />
<title>TuberLens detection engine</title>
<link rel="icon" href="data:," />
<script type="module" src="enginePage.mjs"></script>
`;

/** What enginePage.mjs answers. */
interface Outcome {
  loadedOn: string;
  ranOn: string;
  statuses: string[];
  probabilities: number[];
  gradCamSizes: number[];
  baseline: number;
  tensorsAfterRun: number;
  loadMs: number;
  msPerSlice: number;
  crossOriginIsolated: boolean;
}

interface TestWindow {
  engineTest: {
    detect(options: {
      modelUrl: string;
      backends: string[];
      slices: number[][];
      loseWebglAfter?: number;
    }): Promise<Outcome>;
  };
}

let modelsDir: string;
let expected: number[];
let server: RunningServer;
let browser: Browser;
const timings: string[] = [];

beforeAll(async () => {
  await initialiseNodeBackend('wasm');
  modelsDir = await mkdtemp(join(tmpdir(), 'tuberlens-engine-e2e-'));
  const classifier = await writeModelPackage(join(modelsDir, MODEL));
  expected = nodeProbabilities(classifier, SLICES);
  classifier.dispose();
  await writeFile(join(modelsDir, 'index.json'), JSON.stringify({ installed: [MODEL] }));
  await writeFile(join(modelsDir, 'engine.html'), TEST_PAGE);
  await copyFile(join(__dirname, 'enginePage.mjs'), join(modelsDir, 'enginePage.mjs'));
  [server, browser] = await Promise.all([
    startTuberLens(['--models-dir', modelsDir]),
    launchChromium(),
  ]);
}, 320_000);

afterAll(async () => {
  console.log(`Detection engine in headless Chromium (SwiftShader):\n${timings.join('\n')}`);
  await browser?.close();
  await server?.stop();
  await rm(modelsDir, { recursive: true, force: true });
});

/** Opens the test page, recording every request the page and its workers make. */
async function openTestPage(): Promise<{ page: Page; requests: string[]; problems: string[] }> {
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', request => requests.push(request.url()));
  const problems = watchPage(page);
  await page.goto(`${server.url}/tuberlens/models/engine.html`);
  await page.waitForFunction(() => 'engineTest' in window);
  return { page, requests, problems };
}

function detect(page: Page, backends: string[], loseWebglAfter?: number): Promise<Outcome> {
  return page.evaluate(options => (window as unknown as TestWindow).engineTest.detect(options), {
    modelUrl: `/tuberlens/models/${MODEL}/`,
    backends,
    slices: SLICES.map(slice => Array.from(slice)),
    loseWebglAfter,
  });
}

function expectNodeProbabilities(probabilities: number[]) {
  expect(probabilities).toHaveLength(expected.length);
  probabilities.forEach((p, n) => expect(Math.abs(p - expected[n])).toBeLessThan(1e-3));
}

function expectSameOrigin(requests: string[]) {
  expect(requests.length).toBeGreaterThan(0);
  // blob: URLs (wasm worker scripts) carry the page's origin too.
  for (const url of requests) expect(new URL(url).origin).toBe(server.url);
}

test.each([
  ['webgl', /^Ready on WebGL 2\.$/],
  ['wasm', /^Ready on wasm \(SIMD, \d+ threads?\)\.$/],
])(
  'runs the model on %s in Chromium with the Node probabilities, leaking no tensor and fetching only from the page’s origin',
  async (backend, readiness) => {
    const { page, requests, problems } = await openTestPage();
    const outcome = await detect(page, [backend]);
    expect(outcome.loadedOn).toBe(backend);
    expect(outcome.ranOn).toBe(backend);
    expect(outcome.statuses.at(-1)).toMatch(readiness);
    expectNodeProbabilities(outcome.probabilities);
    expect(outcome.gradCamSizes).toEqual(SLICES.map(() => 128 * 128));
    expect(outcome.tensorsAfterRun).toBe(outcome.baseline);
    expectSameOrigin(requests);
    if (backend === 'wasm') {
      expect(outcome.crossOriginIsolated).toBe(true);
      expect(requests).toContain(
        `${server.url}/tuberlens/tfjs-wasm/tfjs-backend-wasm-threaded-simd.wasm`
      );
    }
    expect(problems).toEqual([]);
    timings.push(
      `  ${outcome.statuses.at(-1)} ${outcome.msPerSlice.toFixed(0)} ms per slice (Grad-CAM included); loading and warm-up ${(outcome.loadMs / 1000).toFixed(1)} s`
    );
    await page.close();
  },
  240_000
);

test('goes on on wasm with the same probabilities when the WebGL context is lost', async () => {
  const { page, requests, problems } = await openTestPage();
  const outcome = await detect(page, ['webgl', 'wasm'], 4);
  expect(outcome.loadedOn).toBe('webgl');
  expect(outcome.ranOn).toBe('wasm');
  expect(outcome.statuses).toContain('Lost the WebGL 2 context; switching backend …');
  expectNodeProbabilities(outcome.probabilities);
  expect(outcome.tensorsAfterRun).toBe(outcome.baseline);
  expectSameOrigin(requests);
  expect(problems).toEqual([]);
  await page.close();
}, 240_000);
