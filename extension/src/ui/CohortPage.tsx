import { useCallback, useEffect, useMemo, useState } from 'react';
import { cohortCsv } from '../core/cohort/cohortCsv';
import { VERDICTS, type Cohort, type CohortRow, type Verdict } from '../core/cohort/cohortRows';
import {
  cellText,
  COHORT_COLUMNS,
  filterRows,
  sortRows,
  VERDICT_LABELS,
  type CohortColumn,
  type CohortFilter,
  type CohortSort,
} from '../core/cohort/cohortTable';
import { versionNote } from '../core/results/storedResultSummary';
import { downloadText } from './download';
import { styles } from './styles';
import { INTENDED_USE } from './TubersPanel';

export interface CohortPageProps {
  loadCohort: () => Promise<Cohort>;
  /** Where a study opens in the TuberLens mode. */
  studyUrl: (studyInstanceUID: string) => string;
  /** Where the viewer's study list is. */
  studyListUrl: () => string;
}

type Loading =
  { phase: 'loading' } | { phase: 'failed'; message: string } | { phase: 'loaded'; cohort: Cohort };

const VERDICT_FILTERS: Array<CohortFilter['verdict']> = ['all', ...VERDICTS];

/** Every study of the PACS with its stored TuberLens result: sortable, filterable, saved as CSV. */
export function CohortPage({ loadCohort, studyUrl, studyListUrl }: CohortPageProps) {
  const [loading, reload] = useCohort(loadCohort);
  return (
    <div style={styles.page} data-cy="tuberlens-cohort-page" data-status={loading.phase}>
      <header style={styles.row}>
        <h1 style={styles.title}>TuberLens cohort</h1>
        <a href={studyListUrl()} style={styles.link} data-cy="tuberlens-cohort-study-list">
          Study list
        </a>
        <button
          type="button"
          data-cy="tuberlens-cohort-reload"
          style={styles.button}
          onClick={reload}
        >
          Reload
        </button>
      </header>
      <p style={styles.intendedUse}>{INTENDED_USE}</p>
      {loading.phase === 'loading' && (
        <p style={styles.muted} data-cy="tuberlens-cohort-message">
          Loading the studies and their stored TuberLens results from the PACS …
        </p>
      )}
      {loading.phase === 'failed' && (
        <p style={styles.failure} data-cy="tuberlens-cohort-message">
          The cohort could not be loaded: {loading.message}
        </p>
      )}
      {loading.phase === 'loaded' && <CohortTable cohort={loading.cohort} studyUrl={studyUrl} />}
    </div>
  );
}

function useCohort(loadCohort: () => Promise<Cohort>): [Loading, () => void] {
  const [loading, setLoading] = useState<Loading>({ phase: 'loading' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let current = true;
    loadCohort().then(
      cohort => current && setLoading({ phase: 'loaded', cohort }),
      (error: unknown) =>
        current &&
        setLoading({
          phase: 'failed',
          message: error instanceof Error ? error.message : String(error),
        })
    );
    return () => {
      current = false;
    };
  }, [loadCohort, attempt]);
  const reload = useCallback(() => {
    setLoading({ phase: 'loading' });
    setAttempt(count => count + 1);
  }, []);
  return [loading, reload];
}

function CohortTable({
  cohort,
  studyUrl,
}: {
  cohort: Cohort;
  studyUrl: CohortPageProps['studyUrl'];
}) {
  const [sort, setSort] = useState<CohortSort>({ column: 'studyDate', direction: 'descending' });
  const [filter, setFilter] = useState<CohortFilter>({ text: '', verdict: 'all' });
  const rows = useMemo(
    () => sortRows(filterRows(cohort.rows, filter), sort),
    [cohort.rows, filter, sort]
  );
  if (cohort.rows.length === 0) {
    return (
      <p style={styles.muted} data-cy="tuberlens-cohort-message">
        The PACS holds no studies.
      </p>
    );
  }
  return (
    <>
      <CohortControls
        filter={filter}
        onFilter={setFilter}
        onDownload={() => downloadText('tuberlens-cohort.csv', cohortCsv(rows), 'text/csv')}
      />
      <p style={styles.muted} data-cy="tuberlens-cohort-summary">
        {summary(cohort.rows, rows)}
      </p>
      {cohort.unreadable.length > 0 && (
        <p style={styles.warning} data-cy="tuberlens-cohort-unreadable">
          ⚠ {cohort.unreadable.length} stored TuberLens result(s) could not be read:{' '}
          {cohort.unreadable.join('; ')}
        </p>
      )}
      <table style={styles.table} data-cy="tuberlens-cohort-table">
        <thead>
          <tr>
            {COHORT_COLUMNS.map(({ id, label }) => (
              <SortableHeader key={id} column={id} label={label} sort={sort} onSort={setSort} />
            ))}
            <th style={styles.headerCell} />
          </tr>
        </thead>
        <tbody>
          {rows.map(row => (
            <CohortTableRow key={row.studyInstanceUID} row={row} studyUrl={studyUrl} />
          ))}
        </tbody>
      </table>
      {rows.length === 0 && (
        <p style={styles.muted} data-cy="tuberlens-cohort-message">
          No study matches the filter.
        </p>
      )}
    </>
  );
}

function CohortControls({
  filter,
  onFilter,
  onDownload,
}: {
  filter: CohortFilter;
  onFilter: (filter: CohortFilter) => void;
  onDownload: () => void;
}) {
  return (
    <div style={styles.row}>
      <input
        type="search"
        placeholder="Filter: patient, description, model …"
        aria-label="Filter the studies"
        data-cy="tuberlens-cohort-filter"
        style={styles.input}
        value={filter.text}
        onChange={event => onFilter({ ...filter, text: event.target.value })}
      />
      <select
        aria-label="Verdict"
        data-cy="tuberlens-cohort-verdict-filter"
        style={styles.input}
        value={filter.verdict}
        onChange={event =>
          onFilter({ ...filter, verdict: event.target.value as CohortFilter['verdict'] })
        }
      >
        {VERDICT_FILTERS.map(verdict => (
          <option key={verdict} value={verdict}>
            {verdict === 'all' ? 'All verdicts' : VERDICT_LABELS[verdict]}
          </option>
        ))}
      </select>
      <button
        type="button"
        data-cy="tuberlens-cohort-download-csv"
        style={styles.button}
        title="The rows shown, in the columns of tuberlens batch's results.csv"
        onClick={onDownload}
      >
        Download CSV
      </button>
    </div>
  );
}

function SortableHeader({
  column,
  label,
  sort,
  onSort,
}: {
  column: CohortColumn;
  label: string;
  sort: CohortSort;
  onSort: (sort: CohortSort) => void;
}) {
  const sorted = sort.column === column;
  const next: CohortSort = {
    column,
    direction: sorted && sort.direction === 'ascending' ? 'descending' : 'ascending',
  };
  return (
    <th style={styles.headerCell} aria-sort={sorted ? sort.direction : 'none'}>
      <button
        type="button"
        data-cy={`tuberlens-cohort-sort-${column}`}
        style={styles.headerButton}
        onClick={() => onSort(next)}
      >
        {label} {sorted ? (sort.direction === 'ascending' ? '▲' : '▼') : ''}
      </button>
    </th>
  );
}

const VERDICT_STYLES: Record<Verdict, keyof typeof styles> = {
  positive: 'positive',
  negative: 'negative',
  'no-verdict': 'warning',
  'not-analysed': 'muted',
};

function CohortTableRow({
  row,
  studyUrl,
}: {
  row: CohortRow;
  studyUrl: CohortPageProps['studyUrl'];
}) {
  const note = row.stored && versionNote(row.stored);
  return (
    <tr
      style={styles.tableRow}
      data-cy="tuberlens-cohort-row"
      data-study-instance-uid={row.studyInstanceUID}
      data-verdict={row.verdict}
    >
      {COHORT_COLUMNS.map(({ id }) => (
        <td
          key={id}
          style={
            id === 'verdict'
              ? { ...styles.cell, ...styles[VERDICT_STYLES[row.verdict]] }
              : styles.cell
          }
          data-cy={`tuberlens-cohort-cell-${id}`}
          title={id === 'verdict' ? row.stored?.result.withheldReason : undefined}
        >
          {cellText(row, id)}
          {id === 'model' && note && (
            <div style={styles.muted} data-cy="tuberlens-cohort-version-note">
              {note}
            </div>
          )}
        </td>
      ))}
      <td style={styles.cell}>
        <a
          href={studyUrl(row.studyInstanceUID)}
          style={styles.link}
          data-cy="tuberlens-cohort-open"
        >
          Open
        </a>
      </td>
    </tr>
  );
}

function summary(all: readonly CohortRow[], shown: readonly CohortRow[]): string {
  const count = (verdict: Verdict) => all.filter(row => row.verdict === verdict).length;
  const withoutVerdict = count('no-verdict') ? `, ${count('no-verdict')} without verdict` : '';
  const counts = `${count('positive')} positive, ${count('negative')} negative${withoutVerdict}, ${count('not-analysed')} not analysed`;
  const showing = shown.length === all.length ? '' : `; ${shown.length} shown`;
  return `${all.length} ${all.length === 1 ? 'study' : 'studies'}: ${counts}${showing}.`;
}
