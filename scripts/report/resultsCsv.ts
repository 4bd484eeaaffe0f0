/**
 * The results CSV (docs/results-format.md) read for `tuberlens report`, every value checked. Its columns,
 * statuses and writer are in extension/src/core/results/resultsCsv.ts.
 */
import { CsvError, parseCsv } from '../../extension/src/core/csv';
import {
  hasResult,
  RESULT_STATUSES,
  RESULTS_CSV_COLUMNS,
  type ResultRow,
  type ResultsCsvColumn,
} from '../../extension/src/core/results/resultsCsv';

/**
 * The rows of a results CSV. Columns are found by name (extra ones are ignored). Throws CsvError naming
 * the row (the header is row 1) for a missing column, a malformed value or a study listed twice.
 */
export function readResultsCsv(text: string): ResultRow[] {
  const [header, ...records] = parseCsv(text);
  if (!header) throw new CsvError('the file is empty: no header line');
  const missing = RESULTS_CSV_COLUMNS.filter(column => !header.includes(column));
  if (missing.length > 0) {
    throw new CsvError(
      `the columns ${missing.join(', ')} are missing: not a results CSV of \`tuberlens batch\``
    );
  }
  const rowOfStudy = new Map<string, number>();
  return records.map((record, n) => {
    const rowNumber = n + 2;
    if (record.length !== header.length) {
      throw new CsvError(
        `row ${rowNumber} has ${record.length} fields where the header has ${header.length}`
      );
    }
    const row = resultRow(column => record[header.indexOf(column)], rowNumber);
    const earlier = rowOfStudy.get(row.studyInstanceUID);
    if (earlier !== undefined) {
      throw new CsvError(
        `study ${row.studyInstanceUID} is listed twice (rows ${earlier} and ${rowNumber})`
      );
    }
    rowOfStudy.set(row.studyInstanceUID, rowNumber);
    return row;
  });
}

function resultRow(field: (column: ResultsCsvColumn) => string, rowNumber: number): ResultRow {
  const fail = (problem: string) => new CsvError(`row ${rowNumber}: ${problem}`);
  const oneOf = <T extends string>(column: ResultsCsvColumn, values: readonly T[]): T => {
    const value = field(column);
    if (values.includes(value as T)) return value as T;
    throw fail(`${column} "${value}" is none of ${values.map(v => v || '(empty)').join(', ')}`);
  };
  const number = (column: ResultsCsvColumn, valid: (value: number) => boolean, what: string) => {
    const text = field(column).trim();
    if (text === '') return undefined;
    const value = Number(text);
    if (!valid(value)) throw fail(`${column} "${text}" is not ${what}`);
    return value;
  };
  const probability = (column: ResultsCsvColumn) =>
    number(column, value => value >= 0 && value <= 1, 'a number from 0 to 1');
  const count = (column: ResultsCsvColumn) =>
    number(column, value => Number.isInteger(value) && value >= 0, 'a whole number');
  const row: ResultRow = {
    studyInstanceUID: field('study_instance_uid'),
    patientId: field('patient_id'),
    studyDate: field('study_date'),
    studyDescription: field('study_description'),
    seriesInstanceUID: field('series_instance_uid'),
    seriesDescription: field('series_description'),
    contrast: oneOf('contrast', ['', 'FLAIR', 'T2'] as const) || undefined,
    status: oneOf('status', RESULT_STATUSES),
    probability: probability('probability'),
    positive: { '1': true, '0': false, '': undefined }[oneOf('positive', ['1', '0', ''])],
    threshold: probability('threshold'),
    slices: count('slices'),
    flaggedSlices: count('flagged_slices'),
    modelName: field('model_name'),
    modelVersion: field('model_version'),
    segSopInstanceUID: field('seg_sop_instance_uid'),
    srSopInstanceUID: field('sr_sop_instance_uid'),
    processedAt: field('processed_at'),
    message: field('message'),
  };
  if (row.studyInstanceUID === '') throw fail('study_instance_uid is empty');
  if (!hasResult(row)) return row;
  if (row.probability === undefined || row.threshold === undefined)
    throw fail(`status ${row.status} needs probability and threshold`);
  // A result with an empty positive is one the model gave no verdict for (message: why).
  return { ...row, positive: row.positive ?? null };
}
