/**
 * The cohort as CSV, in the columns of `tuberlens batch`'s results.csv (docs/results-format.md): a
 * result read back from the PACS has the status `already-stored`, a study without one `not-analysed`.
 * Framework-free.
 */
import { csvLine } from '../csv';
import { flaggedSlices, versionNote } from '../results/storedResultSummary';
import type { CohortRow } from './cohortRows';

const COLUMNS = [
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

type Fields = Record<(typeof COLUMNS)[number], string>;

const EMPTY = Object.fromEntries(COLUMNS.map(column => [column, ''])) as Fields;

export function cohortCsv(rows: readonly CohortRow[]): string {
  const lines = rows.map(row => {
    const values = fields(row);
    return csvLine(COLUMNS.map(column => values[column]));
  });
  return [csvLine(COLUMNS), ...lines].join('');
}

function fields(row: CohortRow): Fields {
  const study = {
    study_instance_uid: row.studyInstanceUID,
    patient_id: row.patientId,
    study_date: row.studyDate,
    study_description: row.studyDescription,
  };
  if (!row.stored) return { ...EMPTY, ...study, status: 'not-analysed' };
  const { result } = row.stored;
  return {
    ...study,
    series_instance_uid: result.seriesInstanceUID,
    series_description: result.seriesDescription,
    contrast: result.contrast ?? '',
    status: 'already-stored',
    probability: result.probability.toFixed(6),
    positive: result.positive ? '1' : '0',
    threshold: String(result.threshold),
    slices: String(result.slices.length),
    flagged_slices: String(flaggedSlices(result).length),
    model_name: result.model.name,
    model_version: result.model.version,
    seg_sop_instance_uid: result.segSopInstanceUID,
    sr_sop_instance_uid: result.srSopInstanceUID,
    processed_at: result.createdAt,
    message: versionNote(row.stored) ?? '',
  };
}
