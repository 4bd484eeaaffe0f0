import type { Browser, Page } from 'playwright-core';
import { eventually, renderedFraction, watchPage, type RunningServer } from './harness';

/**
 * The viewer's globals, for what a test reads from the page: its services, cornerstone and
 * TuberLens's read-only diagnostics.
 */
export interface HostWindow {
  tuberlens: { tensorCount(): number | undefined };
  services: {
    viewportGridService: {
      getActiveViewportId(): string;
      getDisplaySetsUIDsForViewport(viewportId: string): string[];
      setDisplaySetsForViewport(props: {
        viewportId: string;
        displaySetInstanceUIDs: string[];
        viewportOptions?: { viewportType: string; orientation: string };
      }): void;
    };
    displaySetService: {
      getActiveDisplaySets(): Array<{
        displaySetInstanceUID: string;
        SeriesDescription: string;
        imageIds: string[];
      }>;
    };
    segmentationService: {
      getSegmentationRepresentations(viewportId: string): Array<{ segmentationId: string }>;
      getSegmentations(): Array<{
        segmentationId: string;
        label: string;
        representationData: { Labelmap: { imageIds: string[]; referencedImageIds: string[] } };
      }>;
    };
    panelService: { activatePanel(id: string, force: boolean): void };
  };
  cornerstone: {
    metaData: { get(module: string, imageId: string): { SOPInstanceUID?: string } | undefined };
    getRenderingEngines(): Array<{
      getViewport(viewportId: string): { type: string; getCurrentImageId(): string };
    }>;
    cache: {
      getImage(imageId: string): {
        rows: number;
        columns: number;
        voxelManager: { getScalarData(): ArrayLike<number> };
      };
    };
  };
}

/**
 * Opens a demo study from the worklist in TuberLens, on its axial FLAIR series with a model available,
 * recording every request the page makes and every error it logs. `query` goes on the worklist's
 * address, e.g. "?tuberlensBackend=webgl".
 */
export async function openStudy(
  browser: Browser,
  server: RunningServer,
  studyDescription: string,
  query = ''
) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems = watchPage(page);
  const requests: string[] = [];
  page.on('request', request => requests.push(request.url()));
  await page.goto(`${server.url}/${query}`);
  await enterStudy(page, studyDescription);
  return { page, problems, requests };
}

/** From the worklist, opens a demo study in TuberLens and waits as openStudy does. */
export async function enterStudy(page: Page, studyDescription: string) {
  await page.getByText(studyDescription, { exact: true }).first().click();
  await page.getByRole('button', { name: 'TuberLens', exact: true }).click();
  await page.waitForURL(/\/tuberlens\?StudyInstanceUIDs=/);
  await eventually(async () =>
    expect(await page.locator('[data-cy="tuberlens-series-description"]').innerText()).toBe(
      'AX FLAIR'
    )
  );
  await eventually(async () => expect(await renderedFraction(page)).toBeGreaterThan(0.1));
  await eventually(async () =>
    expect(await statusOf(page, 'tuberlens-model-status')).toBe('available')
  );
}

/** Shows the study's series of that description in the active viewport, as a user would. */
export async function showSeries(page: Page, seriesDescription: string) {
  await page.evaluate(description => {
    const { services } = window as unknown as HostWindow;
    const series = services.displaySetService
      .getActiveDisplaySets()
      .find(set => set.SeriesDescription === description);
    services.viewportGridService.setDisplaySetsForViewport({
      viewportId: services.viewportGridService.getActiveViewportId(),
      displaySetInstanceUIDs: [series!.displaySetInstanceUID],
    });
  }, seriesDescription);
}

/** Where the active viewport stands in its series: the index of the image it shows, -1 if none. */
export function shownSliceIndex(page: Page): Promise<number> {
  return page.evaluate(() => {
    const { services, cornerstone } = window as unknown as HostWindow;
    const viewportId = services.viewportGridService.getActiveViewportId();
    const [uid] = services.viewportGridService.getDisplaySetsUIDsForViewport(viewportId);
    const series = services.displaySetService
      .getActiveDisplaySets()
      .find(set => set.displaySetInstanceUID === uid);
    const viewport = cornerstone.getRenderingEngines()[0].getViewport(viewportId);
    return series?.imageIds.indexOf(viewport.getCurrentImageId()) ?? -1;
  });
}

/** Clicks the slice strip's bar of that slice and waits until the viewport shows it. */
export async function showSliceFromStrip(page: Page, index: number) {
  await page.locator(`[data-cy="tuberlens-slice-bar"][data-index="${index}"]`).click();
  await eventually(async () => {
    if ((await shownSliceIndex(page)) !== index) throw new Error(`slice ${index} is not shown`);
  });
}

export const statusOf = (page: Page, testId: string) =>
  page.locator(`[data-cy="${testId}"]`).first().getAttribute('data-status');

export async function waitForPhase(page: Page, phase: string, timeoutMs = 240_000) {
  await page.waitForSelector(`[data-cy="tuberlens-detection"][data-status="${phase}"]`, {
    timeout: timeoutMs,
  });
}

/** TF.js's live tensor count in the page; undefined until the detection engine has loaded. */
export const tensorCount = (page: Page) =>
  page.evaluate(() => (window as unknown as HostWindow).tuberlens.tensorCount());

/**
 * Resolves with TF.js's tensor count at the first change to the page once the engine has loaded and
 * warmed up; rejects if the run that loads it has analysed a slice by then. Call before that run.
 */
export function tensorCountAfterWarmUp(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const observer = new MutationObserver(() => {
          const count = (window as unknown as HostWindow).tuberlens.tensorCount();
          if (count === undefined) return;
          observer.disconnect();
          const progress = document.querySelector<HTMLProgressElement>(
            '[data-cy="tuberlens-progress"]'
          );
          if (progress && progress.value === 0) resolve(count);
          else reject(new Error('The run analysed slices before the warm-up count was read.'));
        });
        observer.observe(document.body, { subtree: true, childList: true, attributes: true });
      })
  );
}
