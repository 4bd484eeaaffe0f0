/** @jest-environment jsdom */
import { act, createElement } from 'react';
import { cohortRows, type Cohort } from '../../../extension/src/core/cohort/cohortRows';
import type { DicomJson } from '../../../extension/src/core/dicomweb/dicomJson';
import { CohortPage } from '../../../extension/src/ui/CohortPage';
import { downloadText } from '../../../extension/src/ui/download';
import { parseCsv } from '../../../extension/src/core/csv';
import { storedResult } from './fakeStoredResults';
import { reactRootPerTest } from './reactRoot';

jest.mock('../../../extension/src/ui/download', () => ({ downloadText: jest.fn() }));

const study = (uid: string, patientName: string, description: string): DicomJson => ({
  '0020000D': { vr: 'UI', Value: [uid] },
  '00100010': { vr: 'PN', Value: [{ Alphabetic: patientName }] },
  '00100020': { vr: 'LO', Value: [uid] },
  '00080020': { vr: 'DA', Value: ['20260101'] },
  '00081030': { vr: 'LO', Value: [description] },
});

const COHORT: Cohort = {
  rows: cohortRows(
    [
      study('1.1', 'Demo^TSC', 'TSC'),
      study('1.2', 'Demo^Control', 'CONTROL'),
      study('1.3', 'Pd', 'PD'),
    ],
    [
      storedResult({ studyInstanceUID: '1.1', probability: 0.91 }),
      storedResult({ studyInstanceUID: '1.2', probability: 0.12, positive: false }),
    ]
  ),
  unreadable: [],
};

const view = reactRootPerTest();

afterEach(() => {
  jest.mocked(downloadText).mockClear();
});

const element = <T extends Element = HTMLElement>(selector: string) =>
  view.container.querySelector<T>(selector);
const byCy = <T extends Element = HTMLElement>(testId: string) =>
  element<T>(`[data-cy="${testId}"]`);
const shownStudies = () =>
  [...view.container.querySelectorAll('[data-cy="tuberlens-cohort-row"]')].map(row =>
    row.getAttribute('data-study-instance-uid')
  );

async function renderPage(loadCohort: () => Promise<Cohort>) {
  await view.render(
    createElement(CohortPage, {
      loadCohort,
      studyUrl: uid => `/tuberlens?StudyInstanceUIDs=${uid}`,
      studyListUrl: () => '/',
    })
  );
}

async function change(selector: string, value: string) {
  const input = element<HTMLInputElement | HTMLSelectElement>(selector)!;
  const prototype = Object.getPrototypeOf(input) as object;
  await act(async () => {
    Object.getOwnPropertyDescriptor(prototype, 'value')!.set!.call(input, value);
    input.dispatchEvent(
      new Event(input instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true })
    );
  });
}

test('says it is loading until the PACS answers, then lists every study with its result', async () => {
  let answer: (cohort: Cohort) => void = () => {};
  await renderPage(() => new Promise(resolve => (answer = resolve)));
  expect(byCy('tuberlens-cohort-page')!.getAttribute('data-status')).toBe('loading');
  expect(byCy('tuberlens-cohort-message')!.textContent).toContain('Loading the studies');

  await act(async () => answer(COHORT));
  expect(byCy('tuberlens-cohort-page')!.getAttribute('data-status')).toBe('loaded');
  expect(byCy('tuberlens-cohort-summary')!.textContent).toBe(
    '3 studies: 1 positive, 1 negative, 1 not analysed.'
  );
  const tsc = element('[data-study-instance-uid="1.1"]')!;
  expect(tsc.getAttribute('data-verdict')).toBe('positive');
  expect(tsc.querySelector('[data-cy="tuberlens-cohort-cell-probability"]')!.textContent).toBe(
    '0.91'
  );
  expect(tsc.querySelector<HTMLAnchorElement>('[data-cy="tuberlens-cohort-open"]')!.href).toMatch(
    /\/tuberlens\?StudyInstanceUIDs=1\.1$/
  );
  expect(
    element('[data-study-instance-uid="1.3"] [data-cy="tuberlens-cohort-cell-verdict"]')!
      .textContent
  ).toBe('not analysed');
});

test('a PACS that cannot be reached is an error with its reason, never an empty list; Reload tries again', async () => {
  const load = jest
    .fn<Promise<Cohort>, []>()
    .mockRejectedValueOnce(new Error('The PACS at /dicomweb answered HTTP 502 to GET /studies.'))
    .mockResolvedValueOnce(COHORT);
  await renderPage(load);
  expect(byCy('tuberlens-cohort-page')!.getAttribute('data-status')).toBe('failed');
  expect(byCy('tuberlens-cohort-message')!.textContent).toBe(
    'The cohort could not be loaded: The PACS at /dicomweb answered HTTP 502 to GET /studies.'
  );
  expect(byCy('tuberlens-cohort-table')).toBeNull();

  await act(async () => byCy('tuberlens-cohort-reload')!.click());
  expect(byCy('tuberlens-cohort-page')!.getAttribute('data-status')).toBe('loaded');
  expect(shownStudies()).toHaveLength(3);
});

test('a PACS without studies says so', async () => {
  await renderPage(async () => ({ rows: [], unreadable: [] }));
  expect(byCy('tuberlens-cohort-message')!.textContent).toBe('The PACS holds no studies.');
});

test('sorts by a clicked header, the other way on a second click', async () => {
  await renderPage(async () => COHORT);
  await act(async () => byCy('tuberlens-cohort-sort-probability')!.click());
  expect(shownStudies()).toEqual(['1.2', '1.1', '1.3']);
  expect(byCy('tuberlens-cohort-sort-probability')!.closest('th')!.getAttribute('aria-sort')).toBe(
    'ascending'
  );
  await act(async () => byCy('tuberlens-cohort-sort-probability')!.click());
  expect(shownStudies()).toEqual(['1.1', '1.2', '1.3']);
});

test('filters by text and verdict, and downloads the rows shown as CSV', async () => {
  await renderPage(async () => COHORT);
  await change('[data-cy="tuberlens-cohort-verdict-filter"]', 'negative');
  expect(shownStudies()).toEqual(['1.2']);
  await change('[data-cy="tuberlens-cohort-verdict-filter"]', 'all');
  await change('[data-cy="tuberlens-cohort-filter"]', 'demo');
  expect(shownStudies().sort()).toEqual(['1.1', '1.2']);
  expect(byCy('tuberlens-cohort-summary')!.textContent).toContain('; 2 shown.');

  await act(async () => byCy('tuberlens-cohort-download-csv')!.click());
  expect(downloadText).toHaveBeenCalledTimes(1);
  const [name, csv, type] = jest.mocked(downloadText).mock.calls[0];
  expect([name, type]).toEqual(['tuberlens-cohort.csv', 'text/csv']);
  const [header, ...records] = parseCsv(csv);
  const column = (name: string) => records.map(record => record[header.indexOf(name)]);
  expect(column('study_instance_uid').sort()).toEqual(['1.1', '1.2']);
  expect(column('status')).toEqual(['already-stored', 'already-stored']);

  await change('[data-cy="tuberlens-cohort-filter"]', 'nobody');
  expect(byCy('tuberlens-cohort-message')!.textContent).toBe('No study matches the filter.');
});

test('names the other model versions of a study beside the newest result', async () => {
  const rows = cohortRows(
    [study('1.1', 'Demo^TSC', 'TSC')],
    [
      storedResult({ studyInstanceUID: '1.1' }),
      storedResult({
        studyInstanceUID: '1.1',
        model: { name: 'tuber-net', version: '0.9.0', sha256: '' },
        createdAt: '2025-01-01T00:00:00Z',
      }),
    ]
  );
  await renderPage(async () => ({ rows, unreadable: ['SR series 9: no title'] }));
  expect(byCy('tuberlens-cohort-cell-model')!.textContent).toBe(
    'tuber-net 1.0.0The newest of 2 stored results (also tuber-net 0.9.0).'
  );
  expect(byCy('tuberlens-cohort-unreadable')!.textContent).toBe(
    '⚠ 1 stored TuberLens result(s) could not be read: SR series 9: no title'
  );
});

test('a result without a verdict is shown, filtered and downloaded as "no verdict" with its reason', async () => {
  const reason =
    'No verdict: tuber-net 1.0.0 is validated for FLAIR series only, not for T2 series.';
  const rows = cohortRows(
    [study('1.1', 'Demo^TSC', 'TSC'), study('1.4', 'Demo^T2', 'T2 ONLY')],
    [
      storedResult({ studyInstanceUID: '1.1' }),
      storedResult({
        studyInstanceUID: '1.4',
        contrast: 'T2',
        positive: null,
        withheldReason: reason,
      }),
    ]
  );
  await renderPage(async () => ({ rows, unreadable: [] }));
  expect(byCy('tuberlens-cohort-summary')!.textContent).toBe(
    '2 studies: 1 positive, 0 negative, 1 without verdict, 0 not analysed.'
  );
  const t2 = element('[data-study-instance-uid="1.4"]')!;
  expect(t2.getAttribute('data-verdict')).toBe('no-verdict');
  const verdict = t2.querySelector('[data-cy="tuberlens-cohort-cell-verdict"]')!;
  expect([verdict.textContent, verdict.getAttribute('title')]).toEqual(['no verdict', reason]);

  await change('[data-cy="tuberlens-cohort-verdict-filter"]', 'no-verdict');
  expect(shownStudies()).toEqual(['1.4']);
  await act(async () => byCy('tuberlens-cohort-download-csv')!.click());
  const [header, record] = parseCsv(jest.mocked(downloadText).mock.calls[0][1]);
  const field = (name: string) => record[header.indexOf(name)];
  expect([field('contrast'), field('positive'), field('message')]).toEqual(['T2', '', reason]);
});
