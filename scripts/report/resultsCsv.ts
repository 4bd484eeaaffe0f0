/**
 * The results CSV of `tuberlens batch`, one row per study (docs/results-format.md): `batch` writes it
 * with formatResultRow, `report` reads it with readResultsCsv.
 */
import { CsvError, parseCsv, toCsvLine } from '../csv';

export const RESULTS_CSV_COLUMNS = [
  'study_instance_uid',
  'patient_id',
  'study_date',
  'study_description',
  'series_instance_uid',
  'series_description',
  'contrast',
  'status',
  'probability',
  'positive',
  'threshold',
  'slices',
  'flagged_slices',
  'model_name',
  'model_version',
  'seg_sop_instance_uid',
  'sr_sop_instance_uid',
  'processed_at',
  'message',
] as const;

type Column = (typeof RESULTS_CSV_COLUMNS)[number];

export const RESULT_STATUSES = [
  'stored',
  'analysed',
  'already-stored',
  'no-series',
  'failed',
] as const;

export type ResultStatus = (typeof RESULT_STATUSES)[number];

/** The statuses of a study with a result: a probability, a verdict and the threshold. */
const STATUSES_WITH_RESULT: readonly ResultStatus[] = ['stored', 'analysed', 'already-stored'];

/** One study; text columns are '' when empty, number and boolean columns undefined. */
export interface ResultRow {
  studyInstanceUID: string;
  patientId: string;
  /** YYYYMMDD */
  studyDate: string;
  studyDescription: string;
  seriesInstanceUID: string;
  seriesDescription: string;
  contrast: 'FLAIR' | 'T2' | undefined;
  status: ResultStatus;
  /** The highest slice probability. */
  probability: number | undefined;
  positive: boolean | undefined;
  threshold: number | undefined;
  slices: number | undefined;
  flaggedSlices: number | undefined;
  modelName: string;
  modelVersion: string;
  segSopInstanceUID: string;
  srSopInstanceUID: string;
  /** ISO 8601 UTC */
  processedAt: string;
  message: string;
}

export function hasResult(row: ResultRow): boolean {
  return STATUSES_WITH_RESULT.includes(row.status);
}

/** One CSV line (ending with a line feed) in the order of RESULTS_CSV_COLUMNS. */
export function formatResultRow(row: ResultRow): string {
  const optional = (value: number | undefined, format: (value: number) => string = String) =>
    value === undefined ? '' : format(value);
  const fields: Record<Column, string> = {
    study_instance_uid: row.studyInstanceUID,
    patient_id: row.patientId,
    study_date: row.studyDate,
    study_description: row.studyDescription,
    series_instance_uid: row.seriesInstanceUID,
    series_description: row.seriesDescription,
    contrast: row.contrast ?? '',
    status: row.status,
    probability: optional(row.probability, value => value.toFixed(6)),
    positive: row.positive === undefined ? '' : row.positive ? '1' : '0',
    threshold: optional(row.threshold),
    slices: optional(row.slices),
    flagged_slices: optional(row.flaggedSlices),
    model_name: row.modelName,
    model_version: row.modelVersion,
    seg_sop_instance_uid: row.segSopInstanceUID,
    sr_sop_instance_uid: row.srSopInstanceUID,
    processed_at: row.processedAt,
    message: row.message,
  };
  return toCsvLine(RESULTS_CSV_COLUMNS.map(column => fields[column]));
}

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

function resultRow(field: (column: Column) => string, rowNumber: number): ResultRow {
  const fail = (problem: string) => new CsvError(`row ${rowNumber}: ${problem}`);
  const oneOf = <T extends string>(column: Column, values: readonly T[]): T => {
    const value = field(column);
    if (values.includes(value as T)) return value as T;
    throw fail(`${column} "${value}" is none of ${values.map(v => v || '(empty)').join(', ')}`);
  };
  const number = (column: Column, valid: (value: number) => boolean, what: string) => {
    const text = field(column).trim();
    if (text === '') return undefined;
    const value = Number(text);
    if (!valid(value)) throw fail(`${column} "${text}" is not ${what}`);
    return value;
  };
  const probability = (column: Column) =>
    number(column, value => value >= 0 && value <= 1, 'a number from 0 to 1');
  const count = (column: Column) =>
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
  const incomplete = [row.probability, row.positive, row.threshold].includes(undefined);
  if (hasResult(row) && incomplete)
    throw fail(`status ${row.status} needs probability, positive and threshold`);
  return row;
}
