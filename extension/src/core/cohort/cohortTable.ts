/** The cohort table's columns, as text, sorted and filtered. Framework-free. */
import { flaggedSlices, modelLabel, resultTime } from '../results/storedResultSummary';
import { VERDICTS, type CohortRow, type Verdict } from './cohortRows';

export const COHORT_COLUMNS = [
  { id: 'patient', label: 'Patient' },
  { id: 'studyDate', label: 'Study date' },
  { id: 'studyDescription', label: 'Description' },
  { id: 'series', label: 'Analysed series' },
  { id: 'probability', label: 'Probability' },
  { id: 'verdict', label: 'Verdict' },
  { id: 'flagged', label: 'Flagged / slices' },
  { id: 'model', label: 'Model' },
  { id: 'resultDate', label: 'Result date' },
] as const;

export type CohortColumn = (typeof COHORT_COLUMNS)[number]['id'];

export interface CohortSort {
  column: CohortColumn;
  direction: 'ascending' | 'descending';
}

export interface CohortFilter {
  /** Matched, case-insensitively, against every cell, the patient ID and the study UID. */
  text: string;
  verdict: Verdict | 'all';
}

export const VERDICT_LABELS: Record<Verdict, string> = {
  positive: 'positive',
  negative: 'negative',
  'no-verdict': 'no verdict',
  'not-analysed': 'not analysed',
};

type SortKey = string | number | undefined;

const CELLS: Record<CohortColumn, { text(row: CohortRow): string; key(row: CohortRow): SortKey }> =
  {
    patient: {
      text: row =>
        [personName(row.patientName), row.patientId && `(${row.patientId})`]
          .filter(Boolean)
          .join(' '),
      key: row => personName(row.patientName).toLowerCase() || undefined,
    },
    studyDate: { text: row => dicomDate(row.studyDate), key: row => row.studyDate || undefined },
    studyDescription: {
      text: row => row.studyDescription,
      key: row => row.studyDescription.toLowerCase() || undefined,
    },
    series: {
      text: row => row.stored?.result.seriesDescription ?? '',
      key: row => row.stored?.result.seriesDescription.toLowerCase(),
    },
    probability: {
      text: row => row.stored?.result.probability.toFixed(2) ?? '',
      key: row => row.stored?.result.probability,
    },
    verdict: {
      text: row => VERDICT_LABELS[row.verdict],
      key: row => VERDICTS.indexOf(row.verdict),
    },
    flagged: {
      text: row =>
        row.stored
          ? `${flaggedSlices(row.stored.result).length} / ${row.stored.result.slices.length}`
          : '',
      key: row => (row.stored ? flaggedSlices(row.stored.result).length : undefined),
    },
    model: {
      text: row => (row.stored ? modelLabel(row.stored.result.model) : ''),
      key: row => (row.stored ? modelLabel(row.stored.result.model).toLowerCase() : undefined),
    },
    resultDate: {
      text: row => (row.stored ? resultTime(row.stored.result.createdAt) : ''),
      key: row => (row.stored ? Date.parse(row.stored.result.createdAt) : undefined),
    },
  };

export function cellText(row: CohortRow, column: CohortColumn): string {
  return CELLS[column].text(row);
}

/** Sorted by one column; rows without a value for it come last in either direction. */
export function sortRows(rows: readonly CohortRow[], { column, direction }: CohortSort) {
  const sign = direction === 'ascending' ? 1 : -1;
  return rows
    .map(row => ({ row, key: CELLS[column].key(row) }))
    .sort((a, b) => {
      if (a.key === undefined || b.key === undefined)
        return Number(a.key === undefined) - Number(b.key === undefined);
      return sign * (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    })
    .map(({ row }) => row);
}

export function filterRows(rows: readonly CohortRow[], { text, verdict }: CohortFilter) {
  const query = text.trim().toLowerCase();
  return rows.filter(
    row =>
      (verdict === 'all' || row.verdict === verdict) &&
      (query === '' || searchableText(row).includes(query))
  );
}

function searchableText(row: CohortRow): string {
  const cells = COHORT_COLUMNS.map(({ id }) => cellText(row, id));
  return [...cells, row.patientId, row.studyInstanceUID].join('\n').toLowerCase();
}

/** "Doe^Jane" as "Doe, Jane". */
function personName(name: string): string {
  return name
    .split('^')
    .map(part => part.trim())
    .filter(Boolean)
    .join(', ');
}

/** YYYYMMDD as YYYY-MM-DD. */
function dicomDate(date: string): string {
  return /^\d{8}$/.test(date) ? `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}` : date;
}
