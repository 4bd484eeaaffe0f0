/** @jest-environment jsdom */
import { act, createElement, useEffect } from 'react';
import { DetectionController } from '../../../extension/src/detectionController';
import { ModelStatus } from '../../../extension/src/modelStatus';
import type { Services } from '../../../extension/src/ohif/types';
import { SegExport } from '../../../extension/src/segExport';
import { StoredResults } from '../../../extension/src/storedResults';
import { hostComponent } from '../../../extension/src/ui/hostComponent';
import { INTENDED_USE, TubersPanel } from '../../../extension/src/ui/TubersPanel';
import { FLAIR_ONLY_CARD, fakeDetection, modelStatusWith, T2_WITHHELD } from './fakeDetection';
import { fakeSegHost } from './fakeSegHost';
import { fakeStoredResultHost, FLAIR_SERIES, storedResult, STUDY } from './fakeStoredResults';
import { displaySet, mockServices } from './ohifMocks';
import { reactRootPerTest } from './reactRoot';

const MODELS = 'http://viewer.test/tuberlens/models/';
const noModel = () =>
  new ModelStatus(MODELS, async () => ({
    ok: true,
    status: 200,
    json: async () => ({ installed: [] }),
  }));

/** The stored results of a PACS that holds none. */
const noStoredResults = (services: Services) =>
  new StoredResults(services, fakeStoredResultHost().host);

/** A SEG export over a read-only archive. */
const segExportFor = (services: Services, detection: DetectionController) =>
  new SegExport(services, detection, fakeSegHost().host);

const view = reactRootPerTest();

/** Renders the panel over `detection`, with a SEG export over a read-only archive. */
const renderTubersPanel = (
  services: Services,
  modelStatus: ModelStatus,
  detection: DetectionController,
  storedResults = noStoredResults(services)
) =>
  view.render(
    createElement(TubersPanel, {
      services,
      modelStatus,
      detection,
      segExport: segExportFor(services, detection),
      storedResults,
    })
  );

/** Renders the panel with no model installed. */
function renderWithoutModel(services: Services, storedResults?: StoredResults) {
  const modelStatus = noModel();
  const detection = new DetectionController(services, modelStatus, fakeDetection(1, {}).host);
  return renderTubersPanel(services, modelStatus, detection, storedResults);
}

const text = (testId: string) =>
  view.container.querySelector(`[data-cy="${testId}"]`)?.textContent ?? '';
const status = (testId: string) =>
  view.container.querySelector(`[data-cy="${testId}"]`)?.getAttribute('data-status');

test('states plainly that no model is installed, and shows the intended use', async () => {
  const { services } = mockServices();
  await renderWithoutModel(services);

  expect(status('tuberlens-model-status')).toBe('missing');
  expect(text('tuberlens-model-status')).toContain('No tuber model is installed');
  expect(text('tuberlens-series')).toContain('No series is displayed.');
  expect(text('tuberlens-intended-use')).toBe(INTENDED_USE);
});

test('follows the displayed series and warns about unsuitable input', async () => {
  const sets = [
    displaySet('t2', 'AX T2 FSE'),
    displaySet('pd', 'FSE PD AXIAL OBL', [1, 0, 0, 0, 0.99096, 0.134158]),
    displaySet('sag', 'SAG T2', [0, 1, 0, 0, 0, -1]),
    displaySet('ct', 'HEAD', [1, 0, 0, 0, 1, 0], 'CT'),
  ];
  const { services, display, listenerCount } = mockServices(sets, 't2');
  await renderWithoutModel(services);

  expect(text('tuberlens-series-description')).toBe('AX T2 FSE');
  expect(status('tuberlens-series')).toBe('suitable');
  expect(view.container.querySelectorAll('[data-cy="tuberlens-series-warning"]')).toHaveLength(0);

  const warningsFor = async (uid: string) => {
    await act(async () => display(uid));
    return [...view.container.querySelectorAll('[data-cy="tuberlens-series-warning"]')].map(
      node => node.textContent
    );
  };
  expect(await warningsFor('pd')).toEqual(['⚠ Not T2 or FLAIR by its description or timings.']);
  expect(await warningsFor('sag')).toEqual(['⚠ Not axial (plane: sagittal).']);
  expect(await warningsFor('ct')).toEqual(['⚠ Not MR (modality CT): the model is for MR only.']);
  expect(status('tuberlens-series')).toBe('unsuitable');

  await view.unmount();
  expect(listenerCount()).toBe(0);
});

test('the host-facing component mounts an inner React root with the bound props and unmounts it', async () => {
  const lifecycle: string[] = [];
  function Inner({ label }: { label: string }) {
    useEffect(() => {
      lifecycle.push(`mounted ${label}`);
      return () => void lifecycle.push(`unmounted ${label}`);
    }, [label]);
    return createElement('span', { 'data-cy': 'inner' }, label);
  }
  const Hosted = hostComponent(Inner, { label: 'tubers' }, 'tuberlens-panel');
  await view.render(createElement(Hosted));

  expect(
    view.container.querySelector('[data-cy="tuberlens-panel"] [data-cy="inner"]')?.textContent
  ).toBe('tubers');
  expect(lifecycle).toEqual(['mounted tubers']);

  await view.render(createElement('p'));
  await act(async () => new Promise(resolve => setTimeout(resolve, 0)));
  expect(lifecycle).toEqual(['mounted tubers', 'unmounted tubers']);
});

describe('detection results', () => {
  const PROBABILITIES = { 'img:0': 0.1, 'img:1': 0.2, 'img:2': 0.7, 'img:3': 0.9, 'img:4': 0.3 };

  async function renderPanel(
    fake: ReturnType<typeof fakeDetection>,
    detection: DetectionController
  ) {
    await renderTubersPanel(fake.mocks.services, modelStatusWith(), detection);
  }
  const element = <T extends Element = HTMLElement>(testId: string) =>
    view.container.querySelector<T>(`[data-cy="${testId}"]`);
  const bars = () => [...view.container.querySelectorAll('[data-cy="tuberlens-slice-bar"]')];
  const flaggedBars = () =>
    bars()
      .filter(bar => bar.getAttribute('data-flagged') === 'true')
      .map(bar => bar.getAttribute('data-index'));
  /** jsdom's Blob has no text(). */
  const readText = (blob: Blob) =>
    new Promise<string>(resolve => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result as string);
      reader.readAsText(blob);
    });
  /** Clicks the CSV and JSON download buttons; resolves with the two files' text. */
  async function downloads(): Promise<[string, string]> {
    const blobs: Blob[] = [];
    URL.createObjectURL = jest.fn((blob: Blob) => (blobs.push(blob), `blob:${blobs.length}`));
    URL.revokeObjectURL = jest.fn();
    const clicks = jest.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    await act(async () => element<HTMLButtonElement>('tuberlens-download-csv')!.click());
    await act(async () => element<HTMLButtonElement>('tuberlens-download-json')!.click());
    expect(clicks).toHaveBeenCalledTimes(2);
    expect(blobs.map(blob => blob.type)).toEqual(['text/csv', 'application/json']);
    clicks.mockRestore();
    return [await readText(blobs[0]), await readText(blobs[1])];
  }
  async function slide(testId: string, value: number) {
    const input = element<HTMLInputElement>(testId)!;
    const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
    await act(async () => {
      setValue.call(input, String(value));
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
  }

  test('shows the model and backend, the verdict at the card threshold and the per-slice strip', async () => {
    const fake = fakeDetection(5, PROBABILITIES, { displayed: 'img:2' });
    const detection = fake.detection();
    await detection.detect();
    await renderPanel(fake, detection);

    expect(text('tuberlens-model-name')).toBe('tuber-net-fixture 0.0.0-test');
    expect(text('tuberlens-model-backend')).toBe('Runs on cpu; threshold 0.50 (model card).');
    expect(status('tuberlens-detection')).toBe('complete');
    expect(element('tuberlens-verdict')?.getAttribute('data-verdict')).toBe('positive');
    expect(text('tuberlens-verdict')).toContain('Tubers likely');
    expect(text('tuberlens-series-probability')).toBe(
      "Series probability 0.90 ≥ 0.50, the model card's threshold."
    );
    expect(bars()).toHaveLength(5);
    expect(flaggedBars()).toEqual(['2', '3']);
    expect(text('tuberlens-flagged-count')).toContain('2 slices flagged at ≥ 0.50');
    expect(element('tuberlens-progress')).toBeNull();
    expect(element('tuberlens-stop')).toBeNull();
  });

  test('a click on a bar shows its slice; the threshold slider flags more or fewer and resets to the card', async () => {
    const fake = fakeDetection(5, PROBABILITIES, { displayed: 'img:2' });
    const detection = fake.detection();
    await detection.detect();
    await renderPanel(fake, detection);

    await act(async () => bars()[3].dispatchEvent(new MouseEvent('click', { bubbles: true })));
    expect(fake.host.showImage).toHaveBeenCalledWith('default', 'img:3');

    await slide('tuberlens-threshold', 0.25);
    expect(flaggedBars()).toEqual(['2', '3', '4']);
    expect(element('tuberlens-verdict')?.getAttribute('data-verdict')).toBe('positive');
    expect(element('tuberlens-threshold-reset')?.title).toBe("Back to the model card's threshold");
    await act(async () => element<HTMLButtonElement>('tuberlens-threshold-reset')!.click());
    expect(flaggedBars()).toEqual(['2', '3']);
    expect(element('tuberlens-threshold-reset')).toBeNull();
  });

  test('layer toggles and opacity reach the layers; saliency is offered on request', async () => {
    const fake = fakeDetection(2, PROBABILITIES, { displayed: 'img:0' });
    const detection = fake.detection();
    await detection.detect();
    await renderPanel(fake, detection);

    await act(async () => element<HTMLInputElement>('tuberlens-layer-gradCam')!.click());
    await slide('tuberlens-layer-opacity', 0.3);
    expect(fake.layers[0].visible).toEqual([true, false]);
    expect(fake.layers[0].opacity).toEqual([0.7, 0.3]);
    expect(element<HTMLInputElement>('tuberlens-layer-gradCam')!.checked).toBe(false);
    expect(text('tuberlens-layers')).toContain('runs detection again with saliency');
  });

  test('downloads the per-slice probabilities as CSV and JSON, built in the page', async () => {
    const fake = fakeDetection(2, PROBABILITIES, { displayed: 'img:0' });
    const detection = fake.detection();
    await detection.detect();
    await renderPanel(fake, detection);
    const [csv, json] = await downloads();

    expect(csv.split('\n')[1]).toBe('1,1,1.2.3.0,0.100000,0');
    expect(JSON.parse(json).series[0]).toMatchObject({
      contrast: 'T2',
      threshold: 0.5,
      positive: false,
    });
  });

  describe('with a model card validated for FLAIR series only', () => {
    async function renderRead(contrast: 'T2' | 'FLAIR', top: number) {
      const probabilities = { 'img:0': 0.1, 'img:1': 0.4, 'img:2': top };
      const fake = fakeDetection(3, probabilities, { contrast, card: FLAIR_ONLY_CARD });
      const detection = fake.detection();
      await detection.detect();
      await renderPanel(fake, detection);
    }
    const verdict = () => element('tuberlens-verdict')?.getAttribute('data-verdict');

    test('the model line states its series and slice thresholds', async () => {
      await renderRead('FLAIR', 0.5);
      expect(text('tuberlens-model-backend')).toBe(
        'Runs on cpu; FLAIR series threshold 0.70, slice threshold 0.30 (model card).'
      );
    });

    test('a FLAIR series is decided and flagged at the FLAIR series threshold', async () => {
      await renderRead('FLAIR', 0.5);
      expect(verdict()).toBe('negative');
      expect(text('tuberlens-verdict')).toContain('No tubers detected');
      expect(text('tuberlens-series-probability')).toBe(
        "Series probability 0.50 < 0.70, the model card's FLAIR series threshold."
      );
      expect(flaggedBars()).toEqual([]);
      expect(text('tuberlens-flagged-count')).toContain('0 slices flagged at ≥ 0.70');
      expect(text('tuberlens-seg-note')).toContain('on slices at 0.70 or more');

      await slide('tuberlens-threshold', 0.35);
      expect(flaggedBars()).toEqual(['1', '2']);
      expect(verdict()).toBe('negative');
      expect(element('tuberlens-threshold-reset')?.title).toBe(
        "Back to the model card's FLAIR series threshold"
      );
      expect(text('tuberlens-threshold-reset')).toBe('0.70');
      await view.unmount();

      await renderRead('FLAIR', 0.8);
      expect(verdict()).toBe('positive');
      expect(text('tuberlens-verdict')).toContain('Tubers likely');
      expect(text('tuberlens-series-probability')).toBe(
        "Series probability 0.80 ≥ 0.70, the model card's FLAIR series threshold."
      );
      expect(flaggedBars()).toEqual(['2']);
    });

    test('a T2 series gets a warning that there is no verdict, never a negative; its slices flag at the slice threshold', async () => {
      await renderRead('T2', 0.9);
      expect(verdict()).toBe('withheld');
      expect(text('tuberlens-verdict')).toContain(T2_WITHHELD);
      expect(text('tuberlens-verdict')).not.toMatch(/No tubers detected|Tubers likely/);
      expect(text('tuberlens-series-probability')).toBe(
        "Series probability 0.90; slices flagged at ≥ 0.30, the model card's slice threshold."
      );
      expect(flaggedBars()).toEqual(['1', '2']);
      expect(text('tuberlens-flagged-count')).toContain('2 slices flagged at ≥ 0.30');

      const [csv, json] = await downloads();
      expect(csv.trim().split('\n')[3]).toBe('3,3,1.2.3.2,0.900000,');
      expect(JSON.parse(json).series[0]).toMatchObject({
        contrast: 'T2',
        threshold: 0.3,
        probability: 0.9,
        positive: null,
        verdictWithheld: T2_WITHHELD,
      });
    });

    test('a T2 series offers the study’s FLAIR series, which one click shows and decides', async () => {
      await renderRead('T2', 0.9);
      const offer = element<HTMLButtonElement>('tuberlens-detect-validated');
      expect(offer?.textContent).toBe('Detect on the FLAIR series “AX FLAIR”');
      await act(async () => {
        offer!.click();
        await new Promise(resolve => setTimeout(resolve, 0));
      });
      expect(verdict()).toBe('negative');
      expect(text('tuberlens-series-probability')).toContain(
        "the model card's FLAIR series threshold"
      );
      expect(element('tuberlens-detect-validated')).toBeNull();
    });

    test('a FLAIR series offers no other series', async () => {
      await renderRead('FLAIR', 0.8);
      expect(element('tuberlens-detect-validated')).toBeNull();
    });
  });

  test('while running: progress and Stop; once stopped: why, and no verdict', async () => {
    let release!: () => void;
    const hold = new Promise<void>(resolve => (release = resolve));
    const fake = fakeDetection(4, PROBABILITIES, {
      displayed: 'img:1',
      gate: imageId => (imageId === 'img:1' ? undefined : hold),
    });
    const detection = fake.detection();
    await renderPanel(fake, detection);
    let running!: Promise<void>;
    await act(async () => {
      running = detection.detect();
      await new Promise(resolve => setTimeout(resolve, 0));
    });

    expect(status('tuberlens-detection')).toBe('running');
    expect(element<HTMLProgressElement>('tuberlens-progress')?.value).toBe(1);
    expect(text('tuberlens-detection')).toContain('1 of 4 slices analysed');
    expect(element('tuberlens-verdict')?.getAttribute('data-verdict')).toBe('none');

    await act(async () => {
      element<HTMLButtonElement>('tuberlens-stop')!.click();
      release();
      await running;
    });
    expect(status('tuberlens-detection')).toBe('stopped');
    expect(text('tuberlens-detection-message')).toBe('Stopped by you.');
    expect(text('tuberlens-verdict')).toBe('No series verdict until every slice is analysed.');
    expect(element('tuberlens-stop')).toBeNull();
  });

  test('a failure is shown as a failure: no verdict, no downloads', async () => {
    const fake = fakeDetection(2, PROBABILITIES, {
      loadEngine: async () => {
        throw new Error('No TensorFlow.js backend could run the model here.');
      },
    });
    const detection = fake.detection();
    await detection.detect();
    await renderPanel(fake, detection);

    expect(status('tuberlens-detection')).toBe('failed');
    expect(text('tuberlens-detection-message')).toBe(
      'Tuber detection failed: No TensorFlow.js backend could run the model here.'
    );
    expect(element('tuberlens-verdict')).toBeNull();
    expect(element('tuberlens-download-csv')).toBeNull();
  });

  test('results of one series are not shown while another is displayed', async () => {
    const fake = fakeDetection(2, PROBABILITIES, { displayed: 'img:0' });
    const detection = fake.detection();
    await detection.detect();
    await renderPanel(fake, detection);
    await act(async () => fake.mocks.display('flair'));

    expect(status('tuberlens-detection')).toBe('idle');
    expect(element('tuberlens-verdict')).toBeNull();
    expect(element<HTMLButtonElement>('tuberlens-detect')!.disabled).toBe(false);
  });
});

describe('a stored result of the displayed series', () => {
  const flair = {
    ...displaySet('flair', 'AX FLAIR'),
    StudyInstanceUID: STUDY,
    SeriesInstanceUID: FLAIR_SERIES,
  };

  async function renderWithStored(search: Parameters<typeof fakeStoredResultHost>[0]) {
    const { services } = mockServices([flair], 'flair');
    const stored = fakeStoredResultHost(search);
    const storedResults = new StoredResults(services, stored.host);
    const stop = storedResults.watchDisplayedSeries();
    await renderWithoutModel(services, storedResults);
    return { stored, stop };
  }

  test('is shown as stored, apart from detection, with its flagged slices to click', async () => {
    const newest = storedResult({ createdAt: '2026-11-25T09:30:00Z' });
    const older = storedResult({
      model: { name: 'tuber-net', version: '0.9.0', sha256: '' },
      createdAt: '2026-01-01T00:00:00Z',
    });
    const { stored, stop } = await renderWithStored({ results: [older, newest], unreadable: [] });

    expect(status('tuberlens-stored-result')).toBe('found');
    expect(text('tuberlens-stored-model')).toBe('tuber-net 1.0.0, 2026-11-25 09:30 UTC');
    expect(text('tuberlens-stored-version-note')).toBe(
      'The newest of 2 stored results (also tuber-net 0.9.0).'
    );
    expect(
      view.container
        .querySelector('[data-cy="tuberlens-stored-verdict"]')
        ?.getAttribute('data-verdict')
    ).toBe('positive');
    expect(text('tuberlens-stored-probability')).toBe(
      'Series probability 0.91 ≥ 0.50, the threshold it was stored with.'
    );
    expect(text('tuberlens-stored-origin')).toBe('From the PACS — not re-run.');
    expect(status('tuberlens-stored-layer')).toBe('waiting');
    // Detection stays apart: nothing ran.
    expect(status('tuberlens-detection')).toBe('idle');

    const slices = [
      ...view.container.querySelectorAll<HTMLButtonElement>('[data-cy="tuberlens-stored-slice"]'),
    ];
    expect(text('tuberlens-stored-flagged')).toBe('2 of 4 slices flagged:23');
    await act(async () => slices[1].click());
    expect(stored.host.showImage).toHaveBeenCalledWith('default', `flair:${FLAIR_SERIES}.3`);
    stop();
  });

  test('a stored result without verdict shows its reason as a warning, never as negative', async () => {
    const reason =
      'No verdict: tuber-net 1.0.0 is validated for FLAIR series only, not for T2 series.';
    const withheld = storedResult({ positive: null, withheldReason: reason, threshold: 0.3 });
    const { stop } = await renderWithStored({ results: [withheld], unreadable: [] });

    const verdict = view.container.querySelector('[data-cy="tuberlens-stored-verdict"]');
    expect(verdict?.getAttribute('data-verdict')).toBe('withheld');
    expect(verdict?.textContent).toContain(reason);
    expect(verdict?.textContent).not.toMatch(/No tubers detected|Tubers likely/);
    expect(text('tuberlens-stored-probability')).toBe(
      'Series probability 0.91; slices flagged at ≥ 0.30, the threshold it was stored with.'
    );
    stop();
  });

  test('says when the PACS holds none, or could not be asked', async () => {
    const none = await renderWithStored({ results: [], unreadable: [] });
    expect(status('tuberlens-stored-result')).toBe('none');
    expect(text('tuberlens-stored-message')).toBe(
      'The PACS holds no TuberLens result for this series.'
    );
    none.stop();

    const failed = await renderWithStored(new Error('HTTP 502'));
    expect(status('tuberlens-stored-result')).toBe('failed');
    expect(text('tuberlens-stored-message')).toBe(
      'The PACS could not be asked for a stored result: HTTP 502'
    );
    failed.stop();
  });

  test('the Cohort link opens the cohort view of the viewer app', async () => {
    (window as { config?: object }).config = { routerBasename: '/viewer/' };
    const { stop } = await renderWithStored({ results: [], unreadable: [] });
    expect(
      view.container
        .querySelector<HTMLAnchorElement>('[data-cy="tuberlens-cohort-link"]')
        ?.getAttribute('href')
    ).toBe('/viewer/tuberlens-cohort');
    delete (window as { config?: object }).config;
    stop();
  });
});
