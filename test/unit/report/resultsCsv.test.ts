import { cohortCsv } from '../../../extension/src/core/cohort/cohortCsv';
import { cohortRows } from '../../../extension/src/core/cohort/cohortRows';
import { CsvError } from '../../../extension/src/core/csv';
import {
  formatResultRow,
  formatResultsCsv,
  RESULTS_CSV_COLUMNS,
} from '../../../extension/src/core/results/resultsCsv';
import { readResultsCsv } from '../../../scripts/report/resultsCsv';
import { storedResult } from '../extension/fakeStoredResults';
import { resultRow, rowWithoutResult, T2_WITHHELD_REASON, withheldRow } from './fixtures';

const HEADER = RESULTS_CSV_COLUMNS.join(',');

describe('the results CSV', () => {
  it('has the columns of docs/results-format.md, in order', () => {
    expect(HEADER).toBe(
      'study_instance_uid,patient_id,study_date,study_description,series_instance_uid,series_description,contrast,status,probability,positive,threshold,slices,flagged_slices,model_name,model_version,seg_sop_instance_uid,sr_sop_instance_uid,processed_at,message'
    );
  });

  it('reads back what formatResultRow wrote, quoting included', () => {
    const rows = [
      resultRow({ studyDescription: 'MRI, BRAIN "TSC" protocol', threshold: 0.41234567 }),
      resultRow({ studyInstanceUID: '1.2.3', probability: 0.123456, status: 'already-stored' }),
      rowWithoutResult('failed', {
        studyInstanceUID: '1.2.4',
        message: 'first line, with a comma\nsecond "quoted" line',
      }),
      rowWithoutResult('no-series', { studyInstanceUID: '1.2.5', patientId: '' }),
    ];
    expect(readResultsCsv(formatResultsCsv(rows))).toEqual(rows);
  });

  it('reads the CSV the cohort view exports: stored results and studies not analysed', () => {
    const study = (uid: string) => ({ '0020000D': { vr: 'UI', Value: [uid] } });
    const withheldReason = 'No verdict: tuber-net 1.0.0 is validated for FLAIR series only.';
    const exported = cohortCsv(
      cohortRows(
        [study('1.1'), study('1.2'), study('1.3')],
        [
          storedResult({ studyInstanceUID: '1.1' }),
          storedResult({ studyInstanceUID: '1.3', positive: null, withheldReason }),
        ]
      )
    );
    const [stored, notAnalysed, withoutVerdict] = readResultsCsv(exported);
    expect(withoutVerdict).toMatchObject({ positive: null, message: withheldReason });
    expect(stored).toMatchObject({ studyInstanceUID: '1.1', status: 'already-stored' });
    expect(stored.probability).toBeCloseTo(0.91);
    expect(notAnalysed).toMatchObject({
      studyInstanceUID: '1.2',
      status: 'not-analysed',
      probability: undefined,
    });
  });

  it('reads a result with an empty positive as one without a verdict, never as negative', () => {
    const rows = [
      withheldRow({ studyInstanceUID: '1.2.1', probability: 0.8 }),
      withheldRow({ studyInstanceUID: '1.2.2', status: 'already-stored' }),
    ];
    const csv = formatResultsCsv(rows);
    expect(csv.split('\n')[1].split(',').slice(7, 11)).toEqual(['stored', '0.800000', '', '0.3']);
    expect(readResultsCsv(csv)).toEqual(rows);
    expect(readResultsCsv(csv)[0]).toMatchObject({ positive: null, message: T2_WITHHELD_REASON });
  });

  it('writes the probability with six decimals and the verdict as 1 or 0', () => {
    const line = formatResultRow(resultRow({ probability: 0.87654321, positive: true }));
    expect(line.split(',').slice(8, 13)).toEqual(['0.876543', '1', '0.5', '24', '3']);
    expect(line.endsWith('\n')).toBe(true);
  });

  it('finds the columns by name and ignores extra ones', () => {
    const [row] = readResultsCsv(formatResultsCsv([resultRow()]));
    const fields = formatResultRow(row).trim().split(',');
    const reordered = `extra,${[...RESULTS_CSV_COLUMNS].reverse().join(',')}\nx,${fields.reverse().join(',')}\n`;
    expect(readResultsCsv(reordered)).toEqual([row]);
  });

  it.each([
    ['', 'the file is empty: no header line'],
    [
      'study_instance_uid,status,probability\n1.2.3,stored,0.9\n',
      'the columns patient_id, study_date, study_description, series_instance_uid, series_description, contrast, positive, threshold, slices, flagged_slices, model_name, model_version, seg_sop_instance_uid, sr_sop_instance_uid, processed_at, message are missing: not a results CSV of `tuberlens batch`',
    ],
  ])('rejects the file %j', (text, message) => {
    expect(() => readResultsCsv(text)).toThrow(new CsvError(message));
  });

  const csvWith = (...changes: Array<Record<string, string>>) => {
    const base = formatResultRow(resultRow()).trim().split(',');
    const lines = changes.map(change =>
      RESULTS_CSV_COLUMNS.map((column, n) => change[column] ?? base[n]).join(',')
    );
    return `${HEADER}\n${lines.join('\n')}\n`;
  };

  it.each([
    [{ probability: 'high' }, 'row 2: probability "high" is not a number from 0 to 1'],
    [{ probability: '1.5' }, 'row 2: probability "1.5" is not a number from 0 to 1'],
    [{ slices: '2.5' }, 'row 2: slices "2.5" is not a whole number'],
    [{ positive: 'yes' }, 'row 2: positive "yes" is none of 1, 0, (empty)'],
    [
      { status: 'done' },
      'row 2: status "done" is none of stored, analysed, already-stored, no-series, not-analysed, failed',
    ],
    [{ contrast: 'T1' }, 'row 2: contrast "T1" is none of (empty), FLAIR, T2'],
    [{ study_instance_uid: '' }, 'row 2: study_instance_uid is empty'],
    [{ probability: '' }, 'row 2: status stored needs probability and threshold'],
    [{ threshold: '' }, 'row 2: status stored needs probability and threshold'],
  ])('rejects the row %j', (change, message) => {
    expect(() => readResultsCsv(csvWith(change))).toThrow(new CsvError(message));
  });

  it('rejects a study listed twice, naming both rows', () => {
    expect(() => readResultsCsv(csvWith({}, { study_instance_uid: '9.9' }, {}))).toThrow(
      new CsvError('study 1.2.826.0.1.1 is listed twice (rows 2 and 4)')
    );
  });

  it('rejects a row with more or fewer fields than the header', () => {
    expect(() => readResultsCsv(`${HEADER}\n1.2.3,P1\n`)).toThrow(
      new CsvError('row 2 has 2 fields where the header has 19')
    );
  });
});
