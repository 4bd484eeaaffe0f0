import {
  areaUnderRoc,
  binaryCrossEntropy,
  bootstrapIntervals,
  calibrationBins,
  confusionMatrix,
  metricsAt,
  rocCurve,
  separatingThreshold,
  youdenThreshold,
  type Prediction,
} from '../../../models/pipeline/evaluation/metrics';
import {
  MINIMUM_SERIES_AUC,
  seriesOperatingPoints,
} from '../../../models/pipeline/evaluation/evaluate';
import { Random } from '../../../models/pipeline/synthesis/random';

const p = (probability: number, positive: boolean): Prediction => ({ probability, positive });

// 4 positives, 6 negatives; at 0.5: TP 3, FN 1, FP 1, TN 5.
const SMALL = [
  p(0.9, true),
  p(0.8, true),
  p(0.7, true),
  p(0.3, true),
  p(0.6, false),
  p(0.4, false),
  p(0.2, false),
  p(0.1, false),
  p(0.05, false),
  p(0.01, false),
];

test('confusion matrix and the paper metrics at a threshold, by hand', () => {
  expect(confusionMatrix(SMALL, 0.5)).toEqual({
    truePositives: 3,
    falsePositives: 1,
    trueNegatives: 5,
    falseNegatives: 1,
  });
  const metrics = metricsAt(SMALL, 0.5);
  expect(metrics.sensitivity).toBeCloseTo(3 / 4);
  expect(metrics.specificity).toBeCloseTo(5 / 6);
  expect(metrics.ppv).toBeCloseTo(3 / 4);
  expect(metrics.npv).toBeCloseTo(5 / 6);
  expect(metrics.f1).toBeCloseTo(0.75);
  expect(metrics.accuracy).toBeCloseTo(0.8);
  // Pairs where the positive outranks the negative: 22 of 24.
  expect(metrics.auc).toBeCloseTo(22 / 24);
});

test('AUC counts ties as half and is undefined without both classes', () => {
  expect(areaUnderRoc([p(0.5, true), p(0.5, false)])).toBe(0.5);
  expect(areaUnderRoc([p(1, true), p(0, false)])).toBe(1);
  expect(areaUnderRoc([p(0.2, true), p(0.9, true)])).toBeNaN();
  expect(metricsAt([p(0.9, true)], 0.5).specificity).toBeNaN();
});

test('the ROC curve runs from (0, 0) to (1, 1) and its trapezoid area equals the AUC', () => {
  const curve = rocCurve(SMALL);
  expect(curve[0]).toMatchObject({ falsePositiveRate: 0, truePositiveRate: 0 });
  expect(curve[curve.length - 1]).toMatchObject({ falsePositiveRate: 1, truePositiveRate: 1 });
  let area = 0;
  for (let n = 1; n < curve.length; n++) {
    const [a, b] = [curve[n - 1], curve[n]];
    area +=
      ((b.falsePositiveRate - a.falsePositiveRate) * (a.truePositiveRate + b.truePositiveRate)) / 2;
  }
  expect(area).toBeCloseTo(areaUnderRoc(SMALL));
});

test("Youden's threshold separates separable classes", () => {
  const separable = [p(0.9, true), p(0.8, true), p(0.35, false), p(0.3, false)];
  const threshold = youdenThreshold(separable);
  expect(metricsAt(separable, threshold)).toMatchObject({ sensitivity: 1, specificity: 1 });
  expect(youdenThreshold(SMALL)).toBe(0.7);
});

test('the separating threshold lies halfway between the lowest called positive and the highest called negative', () => {
  const separable = [p(0.9, true), p(0.8, true), p(0.35, false), p(0.3, false)];
  expect(separatingThreshold(separable)).toBeCloseTo((0.8 + 0.35) / 2);
  expect(separatingThreshold(SMALL)).toBeCloseTo((0.7 + 0.6) / 2);
  expect(metricsAt(SMALL, separatingThreshold(SMALL))).toEqual(metricsAt(SMALL, 0.7));
  expect(separatingThreshold([p(0.4, true), p(0.4, false)])).toBe(0.4);
});

test('bootstrap intervals contain the estimate, narrow with more data, and are reproducible', () => {
  const random = new Random('data');
  const simulate = (n: number) =>
    Array.from({ length: n }, () => {
      const positive = random.chance(0.5);
      return [p(Math.min(1, Math.max(0, random.gaussian(positive ? 0.7 : 0.3, 0.2))), positive)];
    });
  const small = bootstrapIntervals(simulate(60), 0.5, { resamples: 500 });
  const large = bootstrapIntervals(simulate(1200), 0.5, { resamples: 500 });
  for (const interval of Object.values(small)) {
    expect(interval.low).toBeLessThanOrEqual(interval.estimate);
    expect(interval.high).toBeGreaterThanOrEqual(interval.estimate);
  }
  const width = (i: { low: number; high: number }) => i.high - i.low;
  expect(width(large.sensitivity)).toBeLessThan(width(small.sensitivity) / 2);
  const groups = simulate(40);
  expect(bootstrapIntervals(groups, 0.5, { resamples: 200, seed: 's' })).toEqual(
    bootstrapIntervals(groups, 0.5, { resamples: 200, seed: 's' })
  );
});

test('calibration bins and binary cross-entropy', () => {
  const bins = calibrationBins([p(0.05, false), p(0.15, false), p(0.95, true), p(0.91, false)], 10);
  expect(bins).toEqual([
    { meanProbability: 0.05, observedRate: 0, count: 1 },
    { meanProbability: 0.15, observedRate: 0, count: 1 },
    { meanProbability: expect.closeTo(0.93, 10), observedRate: 0.5, count: 2 },
  ]);
  expect(calibrationBins([p(1, true)], 10)[0].count).toBe(1);
  expect(binaryCrossEntropy([p(0.5, true), p(0.5, false)])).toBeCloseTo(Math.log(2));
  expect(binaryCrossEntropy([p(1, true), p(0, false)])).toBeLessThan(1e-6);
  expect(Number.isFinite(binaryCrossEntropy([p(0, true)]))).toBe(true);
});

test('series operating points: a threshold for a contrast whose validation series rank well, none for one that does not', () => {
  const brains = (tsc: number[], controls: number[]) => [
    ...tsc.map(probability => p(probability, true)),
    ...controls.map(probability => p(probability, false)),
  ];
  const validation = new Map([
    ['FLAIR', brains([0.9, 0.8, 0.7], [0.5, 0.3, 0.2])],
    ['T2', brains([0.6, 0.5, 0.4], [0.9, 0.8, 0.3])],
  ]);
  const test = new Map([
    ['FLAIR', brains([0.95, 0.65, 0.55], [0.62, 0.1, 0.2])],
    ['T2', brains([0.7], [0.8])],
  ]);

  const points = seriesOperatingPoints(validation, test);

  expect(points.FLAIR.threshold).toBeCloseTo(0.6);
  expect(points.FLAIR.validation).toEqual({ count: 6, tsc: 3, auc: 1 });
  expect(points.FLAIR.test.confusion).toEqual({
    truePositives: 2,
    falseNegatives: 1,
    falsePositives: 1,
    trueNegatives: 2,
  });
  expect(points.FLAIR.test.metrics?.sensitivity.estimate).toBeCloseTo(2 / 3);
  expect(points.T2.validation.auc).toBeLessThan(MINIMUM_SERIES_AUC);
  expect(points.T2.threshold).toBeUndefined();
  expect(points.T2.test).toEqual({ count: 2, tsc: 1, auc: 0 });
});
