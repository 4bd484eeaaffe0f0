/**
 * Evaluates a trained candidate the way the 2020 study did, and more strictly: the threshold is chosen on
 * validation slices, the paper's metrics are measured on the untouched test split with 95 % bootstrap
 * intervals over patients, plus ROC and calibration plots, a patient-level result, a series threshold
 * per contrast chosen on validation series, and the Grad-CAM pointing game.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { gradCam } from '../../../extension/src/core/explain';
import { GRAD_CAM_LAYER } from '../training/architectures';
import { predictSplit } from '../training/train';
import { modelInputs, type SliceRecord, type TrainingSplit } from '../training/trainingSet';
import {
  areaUnderRoc,
  binaryCrossEntropy,
  bootstrapIntervals,
  calibrationBins,
  confusionMatrix,
  indicesByContrast,
  metricsAt,
  rocCurve,
  separatingThreshold,
  toPredictions,
  youdenThreshold,
  type ConfusionMatrix,
  type Interval,
  type MetricName,
  type Prediction,
} from './metrics';
import { pointingHit } from './pointingGame';
import { calibrationSvg, rocSvg } from './plots';

/** Tuber masks are dilated by this margin for the pointing game. */
export const POINTING_MARGIN_MM = 5;

/**
 * A contrast gets a series verdict only where its validation series rank TSC brains above controls at
 * least this well; below it the model cannot tell, and the product says so instead of deciding.
 */
export const MINIMUM_SERIES_AUC = 0.9;

/**
 * Lower bounds (mm² of tuber on the slice) of the strata that detection and localisation are also
 * reported by: a slice is labelled "tuber" from 20 mm², and small tubers are the hard ones.
 */
const TUBER_AREA_STRATA_MM2 = [20, 50, 150, 400] as const;

/** The test slices of one contrast whose tuber area lies in [fromMm2, toMm2). */
export interface TuberAreaStratum {
  fromMm2: number;
  /** Absent for the last, open-ended stratum. */
  toMm2?: number;
  slices: number;
  /** These slices ranked against every tuber-free test slice of the contrast. */
  auc: number;
  /** Share called tuber at the slice threshold. */
  sensitivity: number;
  /** Share flagged at the contrast's series threshold, which the product flags slices at; absent without a verdict. */
  flagged?: number;
  /** How many of them have their Grad-CAM peak within the dilated tuber mask. */
  pointingHits: number;
}

/**
 * One contrast read as the product reads a series (the highest slice probability): its threshold, chosen
 * on the validation series of that contrast, or none where their AUC is under MINIMUM_SERIES_AUC; and
 * the test series at that threshold.
 */
export interface SeriesOperatingPoint {
  validation: { count: number; tsc: number; auc: number };
  /** Absent: no verdict for this contrast. */
  threshold?: number;
  test: {
    count: number;
    tsc: number;
    auc: number;
    metrics?: Record<MetricName, Interval>;
    confusion?: ConfusionMatrix;
  };
}

export interface Evaluation {
  threshold: number;
  /** Brains of the validation split the thresholds were chosen on. */
  validationBrains: number;
  /** Binary cross-entropy on those validation slices. */
  validationLoss: number;
  testLoss: number;
  slices: {
    count: number;
    positives: number;
    metrics: Record<MetricName, Interval>;
    confusion: ConfusionMatrix;
    /** AUC and operating point per contrast, at the same threshold (no intervals). */
    byContrast: Record<string, { count: number; positives: number } & Record<MetricName, number>>;
  };
  patients: {
    count: number;
    tsc: number;
    metrics: Record<MetricName, Interval>;
    confusion: ConfusionMatrix;
    /**
     * A brain's series of one contrast on its own, positive when any of its slices is: what `tuberlens
     * batch` and the viewer's verdict do with the one series they analyse.
     */
    byContrast: Record<string, { count: number; tsc: number } & Record<MetricName, number>>;
  };
  /** Series verdicts per contrast: what the viewer, `predict` and `batch` decide with. */
  series: Record<string, SeriesOperatingPoint>;
  pointingGame: PointingScore & {
    marginMm: number;
    byContrast: Record<string, PointingScore>;
  };
  /** Detection and localisation per contrast by tuber area on the slice (strata without slices left out). */
  byTuberArea: Record<string, TuberAreaStratum[]>;
  plots: { roc: string; calibration: string };
}

export interface PointingScore {
  hits: number;
  slices: number;
  share: number;
}

export async function evaluateModel(
  model: tfl.LayersModel,
  validation: TrainingSplit,
  test: TrainingSplit,
  fieldOfViewMm: number
): Promise<Evaluation> {
  const validationSlices = toPredictions(await predictSplit(model, validation), validation.records);
  const testSlices = toPredictions(await predictSplit(model, test), test.records);
  const validationPredictions = labelled(validation.records, validationSlices).predictions;
  const labelledTest = labelled(test.records, testSlices);
  const testPredictions = labelledTest.predictions;
  const threshold = youdenThreshold(validationPredictions);

  const bySubject = groupBy(test.records, testSlices);
  const patientPredictions = [...bySubject.values()].map(brainPrediction);
  const testSeries = seriesByContrast(test.records, testSlices);
  const operatingPoint = metricsAt(testPredictions, threshold);
  const series = seriesOperatingPoints(
    seriesByContrast(validation.records, validationSlices),
    testSeries
  );
  const pointingHits = pointingHitsOf(model, test, fieldOfViewMm);
  return {
    threshold,
    validationBrains: new Set(validation.records.map(record => record.subjectId)).size,
    validationLoss: binaryCrossEntropy(validationPredictions),
    testLoss: binaryCrossEntropy(testPredictions),
    slices: {
      count: testPredictions.length,
      positives: testPredictions.filter(p => p.positive).length,
      metrics: bootstrapIntervals(
        [...groupBy(labelledTest.records, testPredictions).values()].map(
          group => group.predictions
        ),
        threshold
      ),
      confusion: confusionMatrix(testPredictions, threshold),
      byContrast: metricsByContrast(labelledTest.records, testPredictions, threshold),
    },
    patients: {
      count: patientPredictions.length,
      tsc: patientPredictions.filter(([p]) => p.positive).length,
      metrics: bootstrapIntervals(patientPredictions, threshold),
      confusion: confusionMatrix(patientPredictions.flat(), threshold),
      byContrast: seriesMetricsAt(testSeries, threshold),
    },
    series,
    pointingGame: pointingGameOf(test.records, pointingHits),
    byTuberArea: tuberAreaStrata(test.records, testSlices, { threshold, series, pointingHits }),
    plots: {
      roc: rocSvg(rocCurve(testPredictions), operatingPoint.auc, {
        falsePositiveRate: 1 - operatingPoint.specificity,
        truePositiveRate: operatingPoint.sensitivity,
      }),
      calibration: calibrationSvg(calibrationBins(testPredictions)),
    },
  };
}

/**
 * The slices with a clear label, records and predictions side by side: slice metrics leave ambiguous
 * slices out, while series and brains keep them, as the product reads every slice of a series.
 */
function labelled(records: SliceRecord[], predictions: Prediction[]) {
  const kept = records.flatMap((record, n) => (record.ambiguous ? [] : [n]));
  return { records: kept.map(n => records[n]), predictions: kept.map(n => predictions[n]) };
}

function metricsByContrast(records: SliceRecord[], predictions: Prediction[], threshold: number) {
  return Object.fromEntries(
    [...indicesByContrast(records)].map(([contrast, indices]) => {
      const subset = indices.map(n => predictions[n]);
      return [
        contrast,
        {
          count: subset.length,
          positives: subset.filter(p => p.positive).length,
          ...metricsAt(subset, threshold),
        },
      ];
    })
  );
}

/** A brain as one prediction: its most suspicious slice's probability, labelled TSC or control. */
function brainPrediction({ tsc, predictions }: { tsc: boolean; predictions: Prediction[] }) {
  return [{ probability: Math.max(...predictions.map(p => p.probability)), positive: tsc }];
}

/** Each contrast's series, one per brain, at the slice threshold. */
function seriesMetricsAt(series: Map<string, Prediction[]>, threshold: number) {
  return Object.fromEntries(
    [...series].map(([contrast, brains]) => [
      contrast,
      { ...counts(brains), ...metricsAt(brains, threshold) },
    ])
  );
}

/** Each contrast's series, one per brain, as predictions: the highest slice probability, TSC or not. */
function seriesByContrast(records: SliceRecord[], predictions: Prediction[]) {
  return new Map(
    [...indicesByContrast(records)].map(([contrast, indices]) => {
      const subjects = groupBy(
        indices.map(n => records[n]),
        indices.map(n => predictions[n])
      );
      return [contrast, [...subjects.values()].flatMap(brainPrediction)];
    })
  );
}

export function seriesOperatingPoints(
  validation: Map<string, Prediction[]>,
  test: Map<string, Prediction[]>
): Record<string, SeriesOperatingPoint> {
  return Object.fromEntries(
    [...validation].map(([contrast, chosenOn]) => {
      const auc = areaUnderRoc(chosenOn);
      const threshold = auc >= MINIMUM_SERIES_AUC ? separatingThreshold(chosenOn) : undefined;
      const tested = test.get(contrast) ?? [];
      const decided =
        threshold === undefined
          ? {}
          : {
              metrics: bootstrapIntervals(
                tested.map(series => [series]),
                threshold
              ),
              confusion: confusionMatrix(tested, threshold),
            };
      return [
        contrast,
        {
          validation: { ...counts(chosenOn), auc },
          ...(threshold === undefined ? {} : { threshold }),
          test: { ...counts(tested), auc: areaUnderRoc(tested), ...decided },
        },
      ];
    })
  );
}

function counts(series: Prediction[]) {
  return { count: series.length, tsc: series.filter(s => s.positive).length };
}

function groupBy(records: SliceRecord[], predictions: Prediction[]) {
  const groups = new Map<string, { tsc: boolean; predictions: Prediction[] }>();
  records.forEach((record, n) => {
    const group = groups.get(record.subjectId) ?? { tsc: record.tsc, predictions: [] };
    group.predictions.push(predictions[n]);
    groups.set(record.subjectId, group);
  });
  return groups;
}

/** The positive slices (indices into the split) whose Grad-CAM peak lies within their tuber mask dilated by 5 mm. */
function pointingHitsOf(model: tfl.LayersModel, split: TrainingSplit, fieldOfViewMm: number) {
  const { size, channels } = split;
  const pixels = size * size;
  const marginPixels = POINTING_MARGIN_MM / (fieldOfViewMm / size);
  const positives = split.records.flatMap((record, n) => (record.positive ? [n] : []));
  const hit = new Set<number>();
  for (let start = 0; start < positives.length; start += 32) {
    const batch = positives.slice(start, start + 32);
    const input = modelInputs(split, batch);
    const tensor = tf.tensor4d(input, [batch.length, size, size, channels]);
    const { maps } = gradCam({ tf, tfl }, model, tensor, GRAD_CAM_LAYER);
    tensor.dispose();
    maps.forEach((map, n) => {
      const mask = Float32Array.from(
        split.masks.subarray(batch[n] * pixels, (batch[n] + 1) * pixels),
        v => v / 255
      );
      if (pointingHit(map, mask, size, marginPixels)) hit.add(batch[n]);
    });
  }
  return hit;
}

/** Share of positive slices that are pointing-game hits, in all and by contrast. */
function pointingGameOf(records: SliceRecord[], hits: Set<number>) {
  const score = (slices: number[]): PointingScore => {
    const hitCount = slices.filter(index => hits.has(index)).length;
    return { hits: hitCount, slices: slices.length, share: hitCount / Math.max(1, slices.length) };
  };
  const positivesAmong = (indices: number[]) => indices.filter(index => records[index].positive);
  const byContrast = [...indicesByContrast(records)].map(
    ([contrast, indices]) => [contrast, score(positivesAmong(indices))] as const
  );
  return {
    ...score(positivesAmong(records.map((_, index) => index))),
    marginMm: POINTING_MARGIN_MM,
    byContrast: Object.fromEntries(byContrast),
  };
}

function tuberAreaStrata(
  records: SliceRecord[],
  predictions: Prediction[],
  operating: {
    threshold: number;
    series: Record<string, SeriesOperatingPoint>;
    pointingHits: Set<number>;
  }
): Record<string, TuberAreaStratum[]> {
  const byContrast = [...indicesByContrast(records)].map(([contrast, indices]) => {
    const tuberFree = indices
      .filter(n => !records[n].positive && !records[n].ambiguous)
      .map(n => predictions[n]);
    const seriesThreshold = operating.series[contrast]?.threshold;
    const strata = TUBER_AREA_STRATA_MM2.map((fromMm2, k): TuberAreaStratum => {
      const toMm2: number | undefined = TUBER_AREA_STRATA_MM2[k + 1];
      const inStratum = indices.filter(n => {
        const { positive, tuberAreaMm2 } = records[n];
        return positive && tuberAreaMm2 >= fromMm2 && (toMm2 === undefined || tuberAreaMm2 < toMm2);
      });
      const scores = inStratum.map(n => predictions[n].probability);
      const shareFrom = (threshold: number) =>
        scores.filter(probability => probability >= threshold).length / Math.max(1, scores.length);
      return {
        fromMm2,
        ...(toMm2 === undefined ? {} : { toMm2 }),
        slices: inStratum.length,
        auc: areaUnderRoc([...inStratum.map(n => predictions[n]), ...tuberFree]),
        sensitivity: shareFrom(operating.threshold),
        ...(seriesThreshold === undefined ? {} : { flagged: shareFrom(seriesThreshold) }),
        pointingHits: inStratum.filter(n => operating.pointingHits.has(n)).length,
      };
    });
    return [contrast, strata.filter(stratum => stratum.slices > 0)] as const;
  });
  return Object.fromEntries(byContrast);
}
