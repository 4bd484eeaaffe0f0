import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ensureDemoStudies } from '../../models/pipeline/synthesis/demoStudies';
import { readNifti } from '../../models/pipeline/synthesis/nifti';
import { launchChromium, startTuberLens, type RunningServer } from './harness';
import { openStudy, waitForPhase, type HostWindow } from './tuberLensPage';

/**
 * What the shipped model (the first one models/index.json installs) finds in the synthetic demo
 * studies, in the viewer: the TSC study positive, the control negative, and Grad-CAM on the tubers.
 */

const ROOT = join(__dirname, '..', '..');
const installed = (
  JSON.parse(readFileSync(join(ROOT, 'models', 'index.json'), 'utf8')) as { installed: string[] }
).installed;

const SCREENSHOT = join(ROOT, 'docs', 'images', 'tuberlens-viewer.png');

/** Share of tuber slices whose hottest Grad-CAM level touches the tuber; the paper's pointing game. */
const MIN_POINTING_SHARE = 0.5;

interface SliceRow {
  /** The NIfTI slice: instance slice + 1. */
  slice: number;
  sopInstanceUID: string;
  tuberAreaMm2: number;
}

describe(`the installed model (${installed[0]}) in the viewer`, () => {
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startTuberLens(), launchChromium()]);
  }, 320_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the synthetic TSC study is positive, and Grad-CAM points at its tubers', async () => {
    const { page, problems } = await openStudy(browser, server, 'SYNTHETIC BRAIN MRI - TSC');
    await page.locator('[data-cy="DetectTubers"]').click();
    await waitForPhase(page, 'complete');
    await expect(
      page.locator('[data-cy="tuberlens-verdict"]').getAttribute('data-verdict')
    ).resolves.toBe('positive');
    await page.screenshot({ path: SCREENSHOT });

    const { slices, masks } = await demoTubers('tuberlens-demo-tsc');
    const layers = await hottestLevels(page);
    const tuberSlices = slices.filter(slice => slice.tuberAreaMm2 >= 20);
    const hits = tuberSlices.filter(slice => {
      const hottest = layers.get(slice.sopInstanceUID);
      const mask = masks.get(slice.sopInstanceUID);
      return hottest && mask && hottest.some(index => mask[index] > 0);
    });
    expect(hits.length / tuberSlices.length).toBeGreaterThanOrEqual(MIN_POINTING_SHARE);
    expect(problems).toEqual([]);
    await page.close();
  }, 420_000);

  test('the synthetic control study is negative', async () => {
    const { page, problems } = await openStudy(browser, server, 'SYNTHETIC BRAIN MRI - CONTROL');
    await page.locator('[data-cy="DetectTubers"]').click();
    await waitForPhase(page, 'complete');
    await expect(
      page.locator('[data-cy="tuberlens-verdict"]').getAttribute('data-verdict')
    ).resolves.toBe('negative');
    expect(problems).toEqual([]);
    await page.close();
  }, 420_000);
});

/** The FLAIR series' slice table and tuber masks, each in its DICOM image's pixel order. */
async function demoTubers(subject: string) {
  const [folder] = (await ensureDemoStudies(join(ROOT, '.cache'), () => {}))
    .map(dicom => dirname(dicom))
    .filter(candidate => candidate.endsWith(subject));
  const rows = (await readFile(join(folder, 'slices.csv'), 'utf8')).trim().split('\n').slice(1);
  const slices: SliceRow[] = rows
    .map(row => row.split(','))
    .filter(([contrast]) => contrast === 'FLAIR')
    .map(([, slice, , sopInstanceUID, area]) => ({
      slice: Number(slice),
      sopInstanceUID,
      tuberAreaMm2: Number(area),
    }));
  const volume = readNifti(await readFile(join(folder, 'nifti', 'flair_tubers.nii.gz')));
  const pixels = volume.dims[0] * volume.dims[1];
  const masks = new Map(
    slices.map(({ slice, sopInstanceUID }) => [
      sopInstanceUID,
      volume.data.subarray(slice * pixels, (slice + 1) * pixels),
    ])
  );
  return { slices, masks };
}

/** Per SOP Instance UID, the pixels of the slice's highest Grad-CAM level on the displayed series. */
async function hottestLevels(page: Page): Promise<Map<string, number[]>> {
  const entries = await page.evaluate(() => {
    const { services, cornerstone } = window as unknown as HostWindow;
    const viewportId = services.viewportGridService.getActiveViewportId();
    const [uid] = services.viewportGridService.getDisplaySetsUIDsForViewport(viewportId);
    const labelmap = services.segmentationService
      .getSegmentations()
      .find(segmentation => segmentation.segmentationId === `tuberlens-gradCam-${uid}`)!
      .representationData.Labelmap;
    return labelmap.referencedImageIds.map((imageId, index) => {
      const levels = Array.from(
        cornerstone.cache.getImage(labelmap.imageIds[index]).voxelManager.getScalarData()
      );
      const top = Math.max(...levels);
      const hottest =
        top > 0 ? levels.flatMap((level, pixel) => (level === top ? [pixel] : [])) : [];
      return [
        cornerstone.metaData.get('instance', imageId)?.SOPInstanceUID ?? '',
        hottest,
      ] as const;
    });
  });
  return new Map(entries);
}
