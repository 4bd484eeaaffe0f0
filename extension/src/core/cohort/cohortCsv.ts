/**
 * The cohort as CSV, in the columns of `tuberlens batch`'s results.csv (docs/results-format.md): a
 * result read back from the PACS has the status `already-stored`, a study without one `not-analysed`.
 * Framework-free.
 */
import {
  emptyResultRow,
  formatResultsCsv,
  resultColumns,
  type ResultRow,
} from '../results/resultsCsv';
import { versionNote } from '../results/storedResultSummary';
import type { CohortRow } from './cohortRows';

export function cohortCsv(rows: readonly CohortRow[]): string {
  return formatResultsCsv(rows.map(resultRow));
}

function resultRow(row: CohortRow): ResultRow {
  const study: ResultRow = {
    ...emptyResultRow(row.studyInstanceUID, 'not-analysed'),
    patientId: row.patientId,
    studyDate: row.studyDate,
    studyDescription: row.studyDescription,
  };
  if (!row.stored) return study;
  const columns = resultColumns(row.stored.result, 'already-stored');
  return {
    ...study,
    ...columns,
    message: [columns.message, versionNote(row.stored)].filter(Boolean).join(' '),
  };
}
