import { cohortCsv } from '../../../extension/src/core/cohort/cohortCsv';
import {
  cohortRows,
  loadCohort,
  type CohortRow,
} from '../../../extension/src/core/cohort/cohortRows';
import {
  cellText,
  filterRows,
  sortRows,
  type CohortColumn,
} from '../../../extension/src/core/cohort/cohortTable';
import { parseCsv } from '../../../extension/src/core/csv';
import type { DicomJson } from '../../../extension/src/core/dicomweb/dicomJson';
import {
  DicomwebError,
  type QueryParameters,
} from '../../../extension/src/core/dicomweb/dicomwebClient';
import { QIDO_PAGE_SIZE } from '../../../extension/src/core/dicomweb/pagedSearch';
import { RESULTS_CSV_COLUMNS } from '../../../extension/src/core/results/resultsCsv';
import { storedResult } from './fakeStoredResults';

jest.mock('../../../extension/src/core/results/storedResult', () => ({
  ...jest.requireActual('../../../extension/src/core/results/storedResult'),
  // The SR itself is read by its own tests; here an SR's metadata is the result it holds.
  readStoredResult: (json: object) => {
    if ('broken' in json) throw new Error('SR 9 is not a TuberLens result: its title is wrong.');
    return json;
  },
}));

function study(uid: string, patientName: string, studyDate: string, description: string) {
  return {
    '0020000D': { vr: 'UI', Value: [uid] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: patientName }] },
    '00100020': { vr: 'LO', Value: [`ID-${uid}`] },
    '00080020': { vr: 'DA', Value: [studyDate] },
    '00081030': { vr: 'LO', Value: [description] },
  } satisfies DicomJson;
}

const STUDIES = [
  study('1.1', 'Demo^TSC', '20260101', 'SYNTHETIC BRAIN MRI - TSC'),
  study('1.2', 'Demo^Control', '20250601', 'SYNTHETIC BRAIN MRI - CONTROL'),
  study('1.3', 'Anonymous', '20010316', 'BRAIN'),
];
const TSC = storedResult({ studyInstanceUID: '1.1', probability: 0.91, positive: true });
const CONTROL = storedResult({
  studyInstanceUID: '1.2',
  probability: 0.12,
  positive: false,
  slices: [{ sopInstanceUID: '9', probability: 0.12 }],
});

const WITHHELD_REASON =
  'No verdict: tuber-net 1.0.0 is validated for FLAIR series only, not for T2 series.';
/** A T2 result the model gave no verdict for. */
const T2_ONLY = storedResult({
  studyInstanceUID: '1.4',
  seriesDescription: 'AX T2',
  contrast: 'T2',
  probability: 0.7,
  positive: null,
  withheldReason: WITHHELD_REASON,
});

const rows = () => cohortRows(STUDIES, [TSC, CONTROL]);
const uids = (list: readonly CohortRow[]) => list.map(row => row.studyInstanceUID);

describe('cohort rows', () => {
  test('every study, with its stored result or as not analysed', () => {
    const [tsc, control, daikon] = rows();
    expect(tsc).toMatchObject({ verdict: 'positive', patientId: 'ID-1.1' });
    expect(tsc.stored?.result).toBe(TSC);
    expect(control.verdict).toBe('negative');
    expect(daikon.verdict).toBe('not-analysed');
    expect(daikon.stored).toBeUndefined();
    const cells = (row: CohortRow) =>
      (
        [
          'patient',
          'studyDate',
          'series',
          'probability',
          'verdict',
          'flagged',
          'model',
          'resultDate',
        ] as CohortColumn[]
      ).map(column => cellText(row, column));
    expect(cells(tsc)).toEqual([
      'Demo, TSC (ID-1.1)',
      '2026-01-01',
      'AX FLAIR',
      '0.91',
      'positive',
      '2 / 4',
      'tuber-net 1.0.0',
      '2026-11-20 10:00 UTC',
    ]);
    expect(cells(daikon)).toEqual([
      'Anonymous (ID-1.3)',
      '2001-03-16',
      '',
      '',
      'not analysed',
      '',
      '',
      '',
    ]);
  });

  test('of several results of a study the newest is shown, and the others are named', () => {
    const older = storedResult({
      studyInstanceUID: '1.1',
      model: { name: 'tuber-net', version: '0.9.0', sha256: '' },
      createdAt: '2026-10-01T08:00:00Z',
      probability: 0.4,
      positive: false,
    });
    const newest = storedResult({ studyInstanceUID: '1.1', createdAt: '2026-11-21T08:00:00Z' });
    const [tsc] = cohortRows(STUDIES, [older, TSC, newest]);
    expect(tsc.stored).toEqual({ result: newest, count: 3, otherModels: ['tuber-net 0.9.0'] });
    expect(tsc.verdict).toBe('positive');
  });

  test('a result without a verdict is "no verdict", never negative, sorted after the verdicts', () => {
    const withT2 = cohortRows(
      [...STUDIES, study('1.4', 'Demo^T2', '20260102', 'T2 ONLY')],
      [TSC, CONTROL, T2_ONLY]
    );
    const t2 = withT2[3];
    expect(t2.verdict).toBe('no-verdict');
    expect(cellText(t2, 'verdict')).toBe('no verdict');
    expect(cellText(t2, 'probability')).toBe('0.70');
    expect(uids(filterRows(withT2, { text: '', verdict: 'no-verdict' }))).toEqual(['1.4']);
    expect(uids(filterRows(withT2, { text: '', verdict: 'negative' }))).toEqual(['1.2']);
    expect(uids(sortRows(withT2, { column: 'verdict', direction: 'ascending' }))).toEqual([
      '1.1',
      '1.2',
      '1.4',
      '1.3',
    ]);
  });
});

describe('sorting and filtering', () => {
  test('sorts by a column either way; rows without a value come last both ways', () => {
    const byProbability = (direction: 'ascending' | 'descending') =>
      uids(sortRows(rows(), { column: 'probability', direction }));
    expect(byProbability('ascending')).toEqual(['1.2', '1.1', '1.3']);
    expect(byProbability('descending')).toEqual(['1.1', '1.2', '1.3']);
    expect(uids(sortRows(rows(), { column: 'studyDate', direction: 'ascending' }))).toEqual([
      '1.3',
      '1.2',
      '1.1',
    ]);
    expect(uids(sortRows(rows(), { column: 'patient', direction: 'descending' }))).toEqual([
      '1.1',
      '1.2',
      '1.3',
    ]);
  });

  test('filters by verdict and by text in any cell, the patient ID or the study UID', () => {
    expect(uids(filterRows(rows(), { text: '', verdict: 'not-analysed' }))).toEqual(['1.3']);
    expect(uids(filterRows(rows(), { text: '', verdict: 'all' }))).toEqual(['1.1', '1.2', '1.3']);
    expect(uids(filterRows(rows(), { text: ' control ', verdict: 'all' }))).toEqual(['1.2']);
    expect(uids(filterRows(rows(), { text: 'TUBER-NET', verdict: 'negative' }))).toEqual(['1.2']);
    expect(uids(filterRows(rows(), { text: 'id-1.3', verdict: 'all' }))).toEqual(['1.3']);
    expect(uids(filterRows(rows(), { text: 'tsc', verdict: 'negative' }))).toEqual([]);
  });
});

describe('the cohort CSV', () => {
  test('has the columns of results.csv, a row per study, quoted where needed', () => {
    const quoted = cohortRows(
      [study('1.4', 'Doe^Jane', '20240101', 'MRI, "brain"'), ...STUDIES],
      [TSC, storedResult({ studyInstanceUID: '1.4', createdAt: '2026-01-01T00:00:00Z' }), TSC]
    );
    const [header, ...records] = parseCsv(cohortCsv(quoted));
    expect(header).toEqual(RESULTS_CSV_COLUMNS);
    const byStudy = Object.fromEntries(
      records.map(record => [record[0], Object.fromEntries(header.map((h, i) => [h, record[i]]))])
    );
    expect(byStudy['1.4'].study_description).toBe('MRI, "brain"');
    expect(byStudy['1.1']).toMatchObject({
      patient_id: 'ID-1.1',
      study_date: '20260101',
      series_instance_uid: TSC.seriesInstanceUID,
      contrast: 'FLAIR',
      status: 'already-stored',
      probability: '0.910000',
      positive: '1',
      threshold: '0.5',
      slices: '4',
      flagged_slices: '2',
      model_name: 'tuber-net',
      model_version: '1.0.0',
      seg_sop_instance_uid: TSC.segSopInstanceUID,
      sr_sop_instance_uid: TSC.srSopInstanceUID,
      processed_at: TSC.createdAt,
      message: 'The newest of 2 stored results.',
    });
    expect(byStudy['1.3']).toMatchObject({
      status: 'not-analysed',
      probability: '',
      positive: '',
      model_name: '',
      message: '',
      study_description: 'BRAIN',
    });
    expect(records).toHaveLength(4);
  });

  test('writes a result without a verdict with an empty positive and the reason, beside the version note', () => {
    const older = storedResult({ studyInstanceUID: '1.4', createdAt: '2026-01-01T00:00:00Z' });
    const [record] = parseCsv(
      cohortCsv(cohortRows([study('1.4', 'Demo^T2', '20260102', 'T2 ONLY')], [T2_ONLY, older]))
    ).slice(1);
    const field = (name: string) => record[RESULTS_CSV_COLUMNS.indexOf(name as never)];
    expect([field('status'), field('contrast'), field('positive'), field('threshold')]).toEqual([
      'already-stored',
      'T2',
      '',
      '0.5',
    ]);
    expect(field('message')).toBe(`${WITHHELD_REASON} The newest of 2 stored results.`);
  });
});

describe('loading the cohort', () => {
  /** The page of `matches` that a QIDO-RS query's limit and offset ask for. */
  const page = (matches: DicomJson[], { limit, offset }: QueryParameters) =>
    matches.slice(Number(offset), Number(offset) + Number(limit));
  const archive = (srSeries: DicomJson[] = [], studies: DicomJson[] = STUDIES) => ({
    searchStudies: jest.fn(async (query: QueryParameters) => page(studies, query)),
    searchSeries: jest.fn(async (_study: string | undefined, query: QueryParameters) =>
      page(srSeries, query)
    ),
    seriesMetadata: jest.fn(async (_study: string, series: string) =>
      series === '1.1.90'
        ? [TSC as unknown as DicomJson]
        : [{ broken: true } as unknown as DicomJson]
    ),
  });
  const srSeries = (studyUid: string, seriesUid: string) => ({
    '0020000D': { vr: 'UI', Value: [studyUid] },
    '0020000E': { vr: 'UI', Value: [seriesUid] },
  });
  const firstPage = { limit: QIDO_PAGE_SIZE, offset: 0 };

  test('one QIDO-RS search (and the empty page that ends it) finds the TuberLens SRs of every study, then each SR is read', async () => {
    const pacs = archive([srSeries('1.1', '1.1.90')]);
    const cohort = await loadCohort(pacs);
    expect(pacs.searchStudies).toHaveBeenCalledWith({ includefield: '00081030', ...firstPage });
    expect(pacs.searchSeries).toHaveBeenCalledTimes(2);
    expect(pacs.searchSeries).toHaveBeenCalledWith(undefined, {
      Modality: 'SR',
      SeriesDescription: 'TuberLens*',
      ...firstPage,
    });
    expect(pacs.seriesMetadata).toHaveBeenCalledWith('1.1', '1.1.90');
    expect(cohort.rows.map(row => row.verdict)).toEqual([
      'positive',
      'not-analysed',
      'not-analysed',
    ]);
    expect(cohort.unreadable).toEqual([]);
  });

  test('a PACS with more studies and SRs than one answer holds is read page by page', async () => {
    const uids = Array.from({ length: QIDO_PAGE_SIZE + 1 }, (_, n) => `2.${n}`);
    const pacs = archive(
      uids.map(uid => srSeries(uid, `${uid}.90`)),
      uids.map(uid => study(uid, 'Doe^Jane', '20260101', 'BRAIN'))
    );
    const cohort = await loadCohort(pacs);
    expect(cohort.rows.map(row => row.studyInstanceUID)).toEqual(uids);
    expect(cohort.unreadable).toHaveLength(uids.length);
    // Two full pages, then the empty page that ends each search.
    expect(pacs.searchStudies).toHaveBeenCalledTimes(3);
    expect(pacs.searchSeries).toHaveBeenCalledTimes(3);
  });

  test('an SR that cannot be read is reported, and the others still count', async () => {
    const pacs = archive([srSeries('1.1', '1.1.90'), srSeries('1.2', '1.2.90')]);
    const cohort = await loadCohort(pacs);
    expect(cohort.rows.map(row => row.verdict)).toEqual([
      'positive',
      'not-analysed',
      'not-analysed',
    ]);
    expect(cohort.unreadable).toEqual([
      'SR series 1.2.90: SR 9 is not a TuberLens result: its title is wrong.',
    ]);
  });

  test('a PACS that does not answer fails the load: it is never an empty cohort', async () => {
    const pacs = archive();
    const unreachable = new DicomwebError('The PACS at x did not answer.', 'unreachable');
    pacs.searchStudies.mockRejectedValue(unreachable);
    await expect(loadCohort(pacs)).rejects.toBe(unreachable);
  });
});
