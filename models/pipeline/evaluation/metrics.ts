/**
 * Binary classification metrics as the 2020 tuber study reported them (sensitivity, specificity, PPV,
 * NPV, F1, accuracy, AUC), with bootstrap confidence intervals the study did not give.
 */
import { Random } from '../synthesis/random';

export interface Prediction {
  probability: number;
  positive: boolean;
}

/** A model's probabilities beside the labels of the records they were predicted for, in order. */
export function toPredictions(
  probabilities: number[],
  records: ReadonlyArray<{ positive: boolean }>
): Prediction[] {
  return probabilities.map((probability, n) => ({ probability, positive: records[n].positive }));
}

/** The records' contrasts, each with the indices of its records. */
export function indicesByContrast<C extends string>(
  records: ReadonlyArray<{ contrast: C }>
): Map<C, number[]> {
  const groups = new Map<C, number[]>();
  records.forEach((record, n) =>
    groups.set(record.contrast, [...(groups.get(record.contrast) ?? []), n])
  );
  return groups;
}

export interface ConfusionMatrix {
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
}

export interface Metrics {
  sensitivity: number;
  specificity: number;
  ppv: number;
  npv: number;
  f1: number;
  accuracy: number;
  auc: number;
}

export type MetricName = keyof Metrics;
export const METRIC_NAMES: MetricName[] = [
  'sensitivity',
  'specificity',
  'ppv',
  'npv',
  'f1',
  'accuracy',
  'auc',
];

export function confusionMatrix(predictions: Prediction[], threshold: number): ConfusionMatrix {
  const matrix = { truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0 };
  for (const { probability, positive } of predictions) {
    const called = probability >= threshold;
    if (called && positive) matrix.truePositives++;
    else if (called) matrix.falsePositives++;
    else if (positive) matrix.falseNegatives++;
    else matrix.trueNegatives++;
  }
  return matrix;
}

/** NaN where a ratio has nothing to count (e.g. specificity without negatives). */
export function metricsAt(predictions: Prediction[], threshold: number): Metrics {
  const {
    truePositives: tp,
    falsePositives: fp,
    trueNegatives: tn,
    falseNegatives: fn,
  } = confusionMatrix(predictions, threshold);
  const ratio = (numerator: number, denominator: number) =>
    denominator === 0 ? NaN : numerator / denominator;
  return {
    sensitivity: ratio(tp, tp + fn),
    specificity: ratio(tn, tn + fp),
    ppv: ratio(tp, tp + fp),
    npv: ratio(tn, tn + fn),
    f1: ratio(2 * tp, 2 * tp + fp + fn),
    accuracy: ratio(tp + tn, predictions.length),
    auc: areaUnderRoc(predictions),
  };
}

/** AUC as the Mann–Whitney probability that a positive outranks a negative (ties count half). */
export function areaUnderRoc(predictions: Prediction[]): number {
  const sorted = [...predictions].sort((a, b) => a.probability - b.probability);
  const positives = sorted.filter(p => p.positive).length;
  const negatives = sorted.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  let rankSum = 0;
  for (let start = 0; start < sorted.length;) {
    let end = start;
    while (end < sorted.length && sorted[end].probability === sorted[start].probability) end++;
    const averageRank = (start + 1 + end) / 2;
    for (let n = start; n < end; n++) if (sorted[n].positive) rankSum += averageRank;
    start = end;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface RocPoint {
  threshold: number;
  falsePositiveRate: number;
  truePositiveRate: number;
}

/** The ROC curve from (0, 0) to (1, 1), one point per distinct probability. */
export function rocCurve(predictions: Prediction[]): RocPoint[] {
  const thresholds = [...new Set(predictions.map(p => p.probability))].sort((a, b) => b - a);
  const points = thresholds.map(threshold => {
    const m = confusionMatrix(predictions, threshold);
    return {
      threshold,
      falsePositiveRate: m.falsePositives / Math.max(1, m.falsePositives + m.trueNegatives),
      truePositiveRate: m.truePositives / Math.max(1, m.truePositives + m.falseNegatives),
    };
  });
  return [{ threshold: Infinity, falsePositiveRate: 0, truePositiveRate: 0 }, ...points];
}

/** The threshold maximising Youden's J (sensitivity + specificity − 1), chosen on validation data. */
export function youdenThreshold(predictions: Prediction[]): number {
  let best = { threshold: 0.5, j: -Infinity };
  for (const point of rocCurve(predictions)) {
    const j = point.truePositiveRate - point.falsePositiveRate;
    if (Number.isFinite(point.threshold) && j > best.j) best = { threshold: point.threshold, j };
  }
  return best.threshold;
}

/**
 * Youden's threshold moved halfway down to the next lower probability, so that it lies between the
 * lowest case called positive and the highest called negative rather than on a validation case: with
 * few validation cases (series, one per brain) a threshold on the lowest positive is one brain from
 * missing the next like it.
 */
export function separatingThreshold(predictions: Prediction[]): number {
  const threshold = youdenThreshold(predictions);
  const below = predictions.map(p => p.probability).filter(probability => probability < threshold);
  return below.length === 0 ? threshold : (threshold + Math.max(...below)) / 2;
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

/**
 * Percentile bootstrap 95 % intervals, resampling the given units (slices, or whole patients when the
 * predictions are grouped by patient, so that slices of one brain do not count as independent).
 */
export function bootstrapIntervals(
  groups: Prediction[][],
  threshold: number,
  { resamples = 2000, seed = 'bootstrap' }: { resamples?: number; seed?: string } = {}
): Record<MetricName, Interval> {
  const random = new Random(seed);
  const estimate = metricsAt(groups.flat(), threshold);
  const samples = METRIC_NAMES.map(() => [] as number[]);
  for (let r = 0; r < resamples; r++) {
    const resample = Array.from(
      { length: groups.length },
      () => groups[random.integer(0, groups.length - 1)]
    ).flat();
    const metrics = metricsAt(resample, threshold);
    METRIC_NAMES.forEach((name, n) => {
      if (!Number.isNaN(metrics[name])) samples[n].push(metrics[name]);
    });
  }
  return Object.fromEntries(
    METRIC_NAMES.map((name, n) => {
      const sorted = samples[n].sort((a, b) => a - b);
      const at = (q: number) =>
        sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
      return [name, { estimate: estimate[name], low: at(0.025), high: at(0.975) }];
    })
  ) as Record<MetricName, Interval>;
}

export interface CalibrationBin {
  meanProbability: number;
  observedRate: number;
  count: number;
}

/** Reliability diagram data: equal-width probability bins with their observed positive rate. */
export function calibrationBins(predictions: Prediction[], bins = 10): CalibrationBin[] {
  const groups = Array.from({ length: bins }, () => [] as Prediction[]);
  for (const p of predictions) groups[Math.min(bins - 1, Math.floor(p.probability * bins))].push(p);
  return groups
    .filter(group => group.length > 0)
    .map(group => ({
      meanProbability: group.reduce((sum, p) => sum + p.probability, 0) / group.length,
      observedRate: group.filter(p => p.positive).length / group.length,
      count: group.length,
    }));
}

/** Mean binary cross-entropy, the paper's model selection criterion. */
export function binaryCrossEntropy(predictions: Prediction[]): number {
  const epsilon = 1e-7;
  let sum = 0;
  for (const { probability, positive } of predictions) {
    const p = Math.min(1 - epsilon, Math.max(epsilon, probability));
    sum -= positive ? Math.log(p) : Math.log(1 - p);
  }
  return sum / Math.max(1, predictions.length);
}
