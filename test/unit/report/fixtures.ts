import { csvLine } from '../../../extension/src/core/csv';
import { emptyResultRow, type ResultRow } from '../../../extension/src/core/results/resultsCsv';

/** A stored FLAIR result of tuber-net 1.0.0 at threshold 0.5; `changes` override any column. */
export function resultRow(changes: Partial<ResultRow> = {}): ResultRow {
  const uid = changes.studyInstanceUID ?? '1.2.826.0.1.1';
  const probability = changes.probability ?? 0.9;
  return {
    studyInstanceUID: uid,
    patientId: `P-${uid.split('.').pop()}`,
    studyDate: '20200131',
    studyDescription: 'MRI BRAIN',
    seriesInstanceUID: `${uid}.1`,
    seriesDescription: 'AX FLAIR',
    contrast: 'FLAIR',
    status: 'stored',
    probability,
    positive: probability >= 0.5,
    threshold: 0.5,
    slices: 24,
    flaggedSlices: probability >= 0.5 ? 3 : 0,
    modelName: 'tuber-net',
    modelVersion: '1.0.0',
    segSopInstanceUID: `${uid}.2.1`,
    srSopInstanceUID: `${uid}.3.1`,
    processedAt: '2026-01-01T12:00:00Z',
    message: '',
    ...changes,
  };
}

export const T2_WITHHELD_REASON =
  'No verdict: tuber-net 1.0.0 is validated for FLAIR series only, not for T2 series.';

/** A T2 result without a verdict, flagged at the slice threshold 0.3: the model is validated for FLAIR only. */
export function withheldRow(changes: Partial<ResultRow> = {}): ResultRow {
  return resultRow({
    seriesDescription: 'AX T2 FSE',
    contrast: 'T2',
    positive: null,
    threshold: 0.3,
    message: T2_WITHHELD_REASON,
    ...changes,
  });
}

/** A study without a result: no series qualified, or the analysis failed. */
export function rowWithoutResult(
  status: 'no-series' | 'failed',
  changes: Partial<ResultRow> = {}
): ResultRow {
  const study = resultRow(changes);
  return {
    ...emptyResultRow(study.studyInstanceUID, status),
    patientId: study.patientId,
    studyDate: study.studyDate,
    studyDescription: study.studyDescription,
    modelName: study.modelName,
    modelVersion: study.modelVersion,
    processedAt: study.processedAt,
    message: status === 'failed' ? 'the PACS answered 500' : 'no axial T2/FLAIR MR series',
    ...changes,
  };
}

/**
 * Four TSC studies (0.9, 0.8, 0.7, 0.3) and six controls (0.6, 0.4, 0.2, 0.1, 0.05, 0.01). At 0.5:
 * TP 3, FN 1, FP 1, TN 5; a positive outranks a negative in 22 of the 24 pairs.
 */
const KNOWN_PROBABILITIES: Array<[number, boolean]> = [
  [0.9, true],
  [0.8, true],
  [0.7, true],
  [0.3, true],
  [0.6, false],
  [0.4, false],
  [0.2, false],
  [0.1, false],
  [0.05, false],
  [0.01, false],
];

/**
 * Four TSC studies (0.9, 0.8, 0.7, 0.3) and six controls (0.6, 0.4, 0.2, 0.1, 0.05, 0.01). At 0.5:
 * TP 3, FN 1, FP 1, TN 5; a TSC study outranks a control in 22 of the 24 pairs.
 */
export const KNOWN_COHORT = KNOWN_PROBABILITIES.map(([probability, tsc], n) => ({
  row: resultRow({ studyInstanceUID: `1.2.826.0.1.${n + 1}`, probability }),
  tsc,
}));

export function labelsCsv(labels: Array<[string, string]>): string {
  return csvLine(['study_instance_uid', 'label']) + labels.map(pair => csvLine(pair)).join('');
}
