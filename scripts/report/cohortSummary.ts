/**
 * What `tuberlens report` says about a results CSV: counts by status, the results of each model version
 * and, given truth labels, the study-level metrics of each version, on the results with a verdict.
 */
import {
  bootstrapIntervals,
  confusionMatrix,
  rocCurve,
  type ConfusionMatrix,
  type Interval,
  type MetricName,
  type Prediction,
  type RocPoint,
} from '../../models/pipeline/evaluation/metrics';
import {
  SERIES_VERDICT_CONTRASTS,
  type VerdictContrast,
} from '../../extension/src/core/operatingPoint';
import {
  hasResult,
  RESULT_STATUSES,
  type ResultRow,
  type ResultStatus,
} from '../../extension/src/core/results/resultsCsv';

export const BOOTSTRAP_RESAMPLES = 2000;

/**
 * A row with a result: readResultsCsv guarantees these columns where hasResult holds. `positive` is
 * null where the model gave no verdict for the series (see operatingPoint.ts; `message` says why).
 */
export type RowWithResult = ResultRow & {
  probability: number;
  positive: boolean | null;
  threshold: number;
};

export type RowWithVerdict = RowWithResult & { positive: boolean };

export function hasVerdict(row: RowWithResult): row is RowWithVerdict {
  return row.positive !== null;
}

/**
 * The results of one model version at one threshold. Results of different versions are never pooled:
 * their probabilities need not be comparable, nor their thresholds equal. A model card's series
 * thresholds differ by contrast, so its FLAIR and T2 results fall into groups of their own.
 */
export interface ModelGroup {
  name: string;
  version: string;
  threshold: number;
  /** The contrasts of the analysed series, FLAIR first. */
  contrasts: VerdictContrast[];
  /** Those without a verdict included: they are listed, never counted as negative. */
  results: RowWithResult[];
  /** Present when truth labels were given. */
  evaluation?: GroupEvaluation;
}

export interface GroupEvaluation {
  /** Results with a verdict and a label: what the metrics rest on. */
  labelled: number;
  labelledPositive: number;
  /** Results with a verdict but without a label, left out of the metrics. */
  unlabelled: number;
  metrics: Record<MetricName, Interval>;
  confusion: ConfusionMatrix;
  roc: RocPoint[];
}

export interface LabelCoverage {
  labels: number;
  /** Labels of studies in the CSV that have no result (no series, not analysed, failed). */
  ofStudiesWithoutResult: number;
  /** Labels of studies the CSV does not list. */
  ofStudiesNotListed: number;
}

export interface CohortSummary {
  rows: ResultRow[];
  statusCounts: Record<ResultStatus, number>;
  groups: ModelGroup[];
  /** Study Instance UID → TSC, when truth labels were given. */
  labels?: Map<string, boolean>;
  labelCoverage?: LabelCoverage;
}

export function summariseCohort(rows: ResultRow[], labels?: Map<string, boolean>): CohortSummary {
  const groups = modelGroups(rows);
  if (labels) for (const group of groups) group.evaluation = evaluateGroup(group, labels);
  return {
    rows,
    statusCounts: Object.fromEntries(
      RESULT_STATUSES.map(status => [status, rows.filter(row => row.status === status).length])
    ) as Record<ResultStatus, number>,
    groups,
    ...(labels ? { labels, labelCoverage: labelCoverage(rows, labels) } : {}),
  };
}

function modelGroups(rows: ResultRow[]): ModelGroup[] {
  const groups = new Map<string, Omit<ModelGroup, 'contrasts'>>();
  for (const row of rows.filter(hasResult) as RowWithResult[]) {
    const key = JSON.stringify([row.modelName, row.modelVersion, row.threshold]);
    const group = groups.get(key) ?? {
      name: row.modelName,
      version: row.modelVersion,
      threshold: row.threshold,
      results: [],
    };
    group.results.push(row);
    groups.set(key, group);
  }
  return [...groups.values()].map(group => ({ ...group, contrasts: contrastsOf(group.results) }));
}

function contrastsOf(rows: readonly ResultRow[]): VerdictContrast[] {
  return SERIES_VERDICT_CONTRASTS.filter(contrast => rows.some(row => row.contrast === contrast));
}

function evaluateGroup(group: ModelGroup, labels: Map<string, boolean>): GroupEvaluation {
  const decided = group.results.filter(hasVerdict);
  const predictions: Prediction[] = decided
    .filter(row => labels.has(row.studyInstanceUID))
    .map(row => ({ probability: row.probability, positive: labels.get(row.studyInstanceUID)! }));
  return {
    labelled: predictions.length,
    labelledPositive: predictions.filter(p => p.positive).length,
    unlabelled: decided.length - predictions.length,
    // Each study is one resampling unit.
    metrics: bootstrapIntervals(
      predictions.map(prediction => [prediction]),
      group.threshold,
      { resamples: BOOTSTRAP_RESAMPLES }
    ),
    confusion: confusionMatrix(predictions, group.threshold),
    roc: rocCurve(predictions),
  };
}

function labelCoverage(rows: ResultRow[], labels: Map<string, boolean>): LabelCoverage {
  const listed = new Map(rows.map(row => [row.studyInstanceUID, row]));
  const labelled = [...labels.keys()];
  return {
    labels: labels.size,
    ofStudiesWithoutResult: labelled.filter(uid => listed.has(uid) && !hasResult(listed.get(uid)!))
      .length,
    ofStudiesNotListed: labelled.filter(uid => !listed.has(uid)).length,
  };
}
