/**
 * The results CSV, one row per study (docs/results-format.md): `tuberlens batch` and the cohort view's
 * export write it, `tuberlens report` reads it. Framework-free.
 */
import { csvLine } from '../csv';
import type { StoredResult } from './storedResult';
import { flaggedSlices } from './storedResultSummary';

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

export type ResultsCsvColumn = (typeof RESULTS_CSV_COLUMNS)[number];

export const RESULTS_CSV_HEADER = csvLine(RESULTS_CSV_COLUMNS);

export const RESULT_STATUSES = [
  'stored',
  'analysed',
  'already-stored',
  'no-series',
  /** The PACS holds no TuberLens result for the study: the cohort view's export writes it. */
  'not-analysed',
  'failed',
] as const;

export type ResultStatus = (typeof RESULT_STATUSES)[number];

/** The statuses of a study with a result: a probability, a verdict or none, and the threshold. */
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
  /** null: a result without a verdict (operatingPoint.ts), `message` says why; undefined: no result. */
  positive: boolean | null | undefined;
  /** The threshold the result was made at: its flagged slices' and, with a verdict, the verdict's. */
  threshold: number | undefined;
  slices: number | undefined;
  flaggedSlices: number | undefined;
  modelName: string;
  modelVersion: string;
  segSopInstanceUID: string;
  srSopInstanceUID: string;
  /** ISO 8601 UTC */
  processedAt: string;
  /** Why a study failed, has no series, or has a result without a verdict. */
  message: string;
}

export function hasResult(row: ResultRow): boolean {
  return STATUSES_WITH_RESULT.includes(row.status);
}

/** The row of a study without a result yet: every other column empty. */
export function emptyResultRow(studyInstanceUID: string, status: ResultStatus): ResultRow {
  return {
    studyInstanceUID,
    patientId: '',
    studyDate: '',
    studyDescription: '',
    seriesInstanceUID: '',
    seriesDescription: '',
    contrast: undefined,
    status,
    probability: undefined,
    positive: undefined,
    threshold: undefined,
    slices: undefined,
    flaggedSlices: undefined,
    modelName: '',
    modelVersion: '',
    segSopInstanceUID: '',
    srSopInstanceUID: '',
    processedAt: '',
    message: '',
  };
}

/**
 * The columns a result fills; the SEG and SR UIDs only where the result is stored in the PACS, the
 * message only where the result has no verdict (its reason).
 */
export function resultColumns(result: StoredResult, status: ResultStatus): Partial<ResultRow> {
  const stored = status !== 'analysed';
  return {
    seriesInstanceUID: result.seriesInstanceUID,
    seriesDescription: result.seriesDescription,
    contrast: result.contrast,
    status,
    probability: result.probability,
    positive: result.positive,
    threshold: result.threshold,
    slices: result.slices.length,
    flaggedSlices: flaggedSlices(result).length,
    modelName: result.model.name,
    modelVersion: result.model.version,
    segSopInstanceUID: stored ? result.segSopInstanceUID : '',
    srSopInstanceUID: stored ? result.srSopInstanceUID : '',
    processedAt: result.createdAt,
    message: result.withheldReason ?? '',
  };
}

/** One CSV line (ending with a line feed) in the order of RESULTS_CSV_COLUMNS. */
export function formatResultRow(row: ResultRow): string {
  const optional = (value: number | undefined, format: (value: number) => string = String) =>
    value === undefined ? '' : format(value);
  const fields: Record<ResultsCsvColumn, string> = {
    study_instance_uid: row.studyInstanceUID,
    patient_id: row.patientId,
    study_date: row.studyDate,
    study_description: row.studyDescription,
    series_instance_uid: row.seriesInstanceUID,
    series_description: row.seriesDescription,
    contrast: row.contrast ?? '',
    status: row.status,
    probability: optional(row.probability, value => value.toFixed(6)),
    positive: row.positive === undefined || row.positive === null ? '' : row.positive ? '1' : '0',
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
  return csvLine(RESULTS_CSV_COLUMNS.map(column => fields[column]));
}

/** A whole results CSV: the header, then one line per row. */
export function formatResultsCsv(rows: readonly ResultRow[]): string {
  return RESULTS_CSV_HEADER + rows.map(formatResultRow).join('');
}
