/**
 * npm run bench:viewer: "Detect tubers" in the real viewer, in headless Chromium, timed from the click
 * to the first overlay drawn and to the series done, on wasm and on WebGL (forced through the page
 * address), median of 3 runs each, printed as a markdown table. Serves the built extension: `npm run
 * bench:viewer` builds it first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { initialiseNodeBackend } from '../models/pipeline/tfBackend';
import { writeModelPackage } from '../test/fixtures/tuberModel';
import { launchChromium, renderedFraction, startTuberLens } from '../test/e2e/harness';

const ROOT = join(__dirname, '..');
const STUDY = 'SYNTHETIC BRAIN MRI - TSC';
const SERIES = 'AX FLAIR';
const BACKENDS = ['wasm', 'webgl'] as const;
const RUNS = 3;
const FIXTURE_MODEL = 'tuber-net-fixture';

type Backend = (typeof BACKENDS)[number];

/** Milliseconds from the click on "Detect tubers". */
interface ClickTiming {
  firstOverlay: number;
  seriesDone: number;
}

/** A fresh page's first click (loading TF.js, the model and its warm-up included) and a second one. */
interface Run {
  first: ClickTiming;
  again: ClickTiming;
  backend: string;
}

interface ModelChoice {
  serveArguments: string[];
  description: string;
  cleanUp(): Promise<void>;
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'extension', 'index.js'))) {
    throw new Error('The extension is not built: run `npm run build` (or `npm run bench:viewer`).');
  }
  const model = await chooseModel();
  const [server, browser] = await Promise.all([
    startTuberLens(model.serveArguments),
    launchChromium(),
  ]);
  try {
    const runs = new Map<Backend, Run[]>();
    for (const backend of BACKENDS) {
      runs.set(backend, []);
      for (let run = 1; run <= RUNS; run++) {
        process.stderr.write(`${backend} run ${run} of ${RUNS} …\n`);
        runs.get(backend)!.push(await measure(browser, server.url, backend));
      }
    }
    const renderer = await webglRenderer(browser, server.url);
    console.log(report(runs, { model: model.description, renderer, chromium: browser.version() }));
  } finally {
    await browser.close();
    await server.stop();
    await model.cleanUp();
  }
}

/** The installed model, or, with none installed, the untrained test fixture served from a temporary folder. */
async function chooseModel(): Promise<ModelChoice> {
  const index = JSON.parse(readFileSync(join(ROOT, 'models', 'index.json'), 'utf8')) as {
    installed: string[];
  };
  if (index.installed.length > 0) {
    return {
      serveArguments: [],
      description: `the installed model, ${index.installed[0]}`,
      cleanUp: async () => {},
    };
  }
  await initialiseNodeBackend('wasm');
  const folder = await mkdtemp(join(tmpdir(), 'tuberlens-bench-viewer-'));
  (await writeModelPackage(join(folder, FIXTURE_MODEL))).dispose();
  await writeFile(join(folder, 'index.json'), JSON.stringify({ installed: [FIXTURE_MODEL] }));
  return {
    serveArguments: ['--models-dir', folder],
    description:
      'no model is installed, so the untrained test fixture (test/fixtures/tuberModel.ts, the "plain" ' +
      'architecture) through `serve --models-dir`; timings depend on the architecture, not on the weights',
    cleanUp: () => rm(folder, { recursive: true, force: true }),
  };
}

/** One run in a fresh browser context (empty caches): the study opened from the worklist, then two clicks. */
async function measure(browser: Browser, url: string, backend: Backend): Promise<Run> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    const page = await context.newPage();
    await openStudy(page, `${url}/?tuberlensBackend=${backend}`);
    const first = await timeDetection(page);
    const again = await timeDetection(page);
    const backendText = await page.locator('[data-cy="tuberlens-model-backend"]').innerText();
    return { first, again, backend: /^Runs on (\w+)/.exec(backendText)?.[1] ?? backendText };
  } finally {
    await context.close();
  }
}

async function openStudy(page: Page, worklistUrl: string): Promise<void> {
  await page.goto(worklistUrl);
  await page.getByText(STUDY, { exact: true }).first().click();
  await page.getByRole('button', { name: 'TuberLens', exact: true }).click();
  await page.waitForSelector(`[data-cy="tuberlens-series-description"]:text-is("${SERIES}")`);
  await page.waitForSelector('[data-cy="tuberlens-model-status"][data-status="available"]');
  const deadline = Date.now() + 60_000;
  while ((await renderedFraction(page)) < 0.1) {
    if (Date.now() > deadline) throw new Error('The study did not render within a minute.');
    await page.waitForTimeout(250);
  }
}

/**
 * Clicks "Detect tubers" and times, with the page's clock from the click event, the first render of
 * the viewport after the first slice's result (the displayed slice's overlay) and the series' end.
 */
async function timeDetection(page: Page): Promise<ClickTiming> {
  await page.evaluate(watchDetection);
  await page.locator('[data-cy="DetectTubers"]').click();
  return page.evaluate(() => (window as unknown as BenchWindow).benchTiming);
}

/** Runs in the page: sets window.benchTiming to the timing of the next detection. */
function watchDetection(): void {
  const host = window as unknown as BenchWindow;
  const viewportId = host.services.viewportGridService.getActiveViewportId();
  const viewport = host.cornerstone.getRenderingEngines()[0].getViewport(viewportId);
  const rendered = host.cornerstone.Enums.Events.IMAGE_RENDERED;
  host.benchTiming = new Promise<ClickTiming>((resolve, reject) => {
    let started = 0;
    let running = false;
    let firstOverlay: number | undefined;
    document.addEventListener('click', () => (started = performance.now()), {
      capture: true,
      once: true,
    });
    const observer = new MutationObserver(() => {
      const progress = document.querySelector<HTMLProgressElement>(
        '[data-cy="tuberlens-progress"]'
      );
      if (!running && progress && progress.value >= 1) {
        running = true;
        viewport.element.addEventListener(
          rendered,
          () => (firstOverlay = performance.now() - started),
          { once: true }
        );
      }
      const phase = document
        .querySelector('[data-cy="tuberlens-detection"]')
        ?.getAttribute('data-status');
      if (!running || (phase !== 'complete' && phase !== 'failed' && phase !== 'stopped')) return;
      observer.disconnect();
      if (phase !== 'complete' || firstOverlay === undefined)
        reject(new Error(`Detection ended ${phase} (first overlay ${firstOverlay} ms).`));
      else resolve({ firstOverlay, seriesDone: performance.now() - started });
    });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true });
    setTimeout(() => reject(new Error('Detection did not end within 10 minutes.')), 600_000);
  });
}

/** The viewer's globals the timing reads. */
interface BenchWindow {
  benchTiming: Promise<ClickTiming>;
  services: { viewportGridService: { getActiveViewportId(): string } };
  cornerstone: {
    Enums: { Events: { IMAGE_RENDERED: string } };
    getRenderingEngines(): Array<{ getViewport(id: string): { element: HTMLElement } }>;
  };
}

async function webglRenderer(browser: Browser, url: string): Promise<string> {
  const page = await browser.newPage();
  try {
    await page.goto(`${url}/`);
    return await page.evaluate(() => {
      const gl = document.createElement('canvas').getContext('webgl2');
      const info = gl?.getExtension('WEBGL_debug_renderer_info');
      return gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : 'no WebGL';
    });
  } finally {
    await page.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function report(
  runs: Map<Backend, Run[]>,
  about: { model: string; renderer: string; chromium: string }
): string {
  const [cpu] = cpus();
  const software = /swiftshader|llvmpipe|softpipe|software/i.test(about.renderer);
  const rows = [...runs].map(([backend, results]) => {
    const column = (pick: (run: Run) => number) => seconds(median(results.map(pick)));
    const ranOn = [...new Set(results.map(run => run.backend))].join(', ');
    return `| ${backend} (ran on ${ranOn}) | ${column(run => run.first.firstOverlay)} | ${column(run => run.first.seriesDone)} | ${column(run => run.again.firstOverlay)} | ${column(run => run.again.seriesDone)} |`;
  });
  return [
    '## Detect tubers in the viewer: click to first overlay, click to series done',
    '',
    `- Machine: ${cpus().length} × ${cpu.model}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM; load average ${loadavg()[0].toFixed(1)} at the end (other processes count).`,
    `- Browser: headless Chromium ${about.chromium}; WebGL renderer: ${about.renderer}.`,
    software
      ? '- **WebGL here is software-rendered (SwiftShader), so the webgl row is not a GPU figure**; the viewer itself skips such a WebGL for wasm, and the row is forced with `?tuberlensBackend=webgl`.'
      : '- WebGL here runs on a GPU.',
    `- Model: ${about.model}.`,
    `- Study: "${STUDY}", series ${SERIES} (24 slices), opened from the worklist in /tuberlens.`,
    '',
    '| Backend | First click: first overlay | First click: series done | Again: first overlay | Again: series done |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `Median of ${RUNS} runs, each in a fresh browser context. "First click" includes loading TF.js, the backend and the model and warming it up; "Again" is a second click on the same page. First overlay: the viewport's first render after the displayed slice's result.`,
  ].join('\n');
}

main().catch(error => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
