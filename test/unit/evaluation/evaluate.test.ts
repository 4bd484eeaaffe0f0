import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initialiseNodeBackend } from '../../../models/pipeline/tfBackend';
import { evaluateModel, MINIMUM_SERIES_AUC } from '../../../models/pipeline/evaluation/evaluate';
import { renderReport } from '../../../models/pipeline/evaluation/report';
import { loadModel } from '../../../models/pipeline/training/modelFiles';
import { trainCandidate } from '../../../models/pipeline/training/train';
import { TOY_SIZE, toyConfig, toySplit } from '../../fixtures/toyTrainingSet';

let folder: string;
beforeAll(async () => {
  await initialiseNodeBackend('wasm');
  folder = mkdtempSync(join(tmpdir(), 'tuberlens-evaluate-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

test('evaluates a trained model: threshold from validation, test metrics with intervals, pointing game, report', async () => {
  const data = { train: toySplit(512, 'train'), validation: toySplit(32, 'validation') };
  const state = await trainCandidate(toyConfig(6), data, folder, () => {});
  const model = await loadModel(join(folder, 'best'));
  const test = toySplit(48, 'test');
  const tensors = tf.memory().numTensors;

  const evaluation = await evaluateModel(model, data.validation, test, TOY_SIZE * 1.875);

  expect(tf.memory().numTensors).toBe(tensors);
  expect(evaluation.threshold).toBeGreaterThan(0);
  expect(evaluation.threshold).toBeLessThan(1);
  expect(evaluation.slices).toMatchObject({ count: 48, positives: 12 });
  expect(evaluation.patients).toMatchObject({ count: 24, tsc: 12 });
  expect(evaluation.slices.metrics.auc.estimate).toBeGreaterThan(0.9);
  const { sensitivity } = evaluation.slices.metrics;
  expect(sensitivity.low).toBeLessThanOrEqual(sensitivity.estimate);
  expect(sensitivity.high).toBeGreaterThanOrEqual(sensitivity.estimate);
  const confusion = evaluation.slices.confusion;
  expect(confusion.truePositives + confusion.falseNegatives).toBe(12);
  // At 16² the tuber map is 2×2, so this toy cannot localise: only the bookkeeping is checked here
  // (Grad-CAM localisation itself is tested in explain.test.ts).
  const { hits, slices, share, marginMm } = evaluation.pointingGame;
  expect({ slices, marginMm }).toEqual({ slices: 12, marginMm: 5 });
  expect(share).toBe(hits / slices);
  expect(evaluation.pointingGame.byContrast).toEqual({ T2: { hits, slices, share } });
  expect(evaluation.plots.roc).toMatch(/^<svg[\s\S]*<\/svg>$/);
  expect(evaluation.plots.calibration).toContain('<circle');

  const report = renderReport(evaluation, {
    name: 'toy',
    version: '0.0.1',
    architecture: 'plain',
    parameters: model.countParams(),
    trainingSet: 'toy',
    trainingHistory: state.history,
    bestEpoch: state.bestEpoch,
    trainingValidationBrains: 16,
    selectionLoss: 0.25,
    candidates: [
      {
        architecture: 'plain',
        epochs: state.completedEpochs,
        bestEpoch: state.bestEpoch,
        selectionLoss: 0.25,
        trainingValidationLoss: state.bestValidationLoss,
        validationAuc: 0.9,
        examplesPerSecond: 100,
      },
      {
        architecture: 'residual',
        epochs: 3,
        bestEpoch: 1,
        selectionLoss: 0.8,
        trainingValidationLoss: 0.9,
        validationAuc: 0.6,
        examplesPerSecond: 50,
      },
    ],
  });
  expect(report).toContain('| plain (selected) |');
  expect(report).toContain('| residual | 3 | 1 | 0.8000 | 0.9000 | 0.6000 | 50.0 |');
  expect(report).toContain(
    'selected by the\nlowest validation binary cross-entropy (0.2500) on 16 validation brains'
  );
  expect(report).toContain('| Sensitivity |');
  expect(report).toContain('| T2 | 48 (12) |');
  expect(evaluation.slices.byContrast.T2).toMatchObject({ count: 48, positives: 12 });
  expect(evaluation.patients.byContrast.T2).toMatchObject({ count: 24, tsc: 12 });
  expect(report).toContain('| Contrast | Brains (TSC) |');
  // The toy's 16 validation series rank well, so its T2 series get a threshold chosen on them.
  const series = evaluation.series.T2;
  expect(series.validation).toMatchObject({ count: 16, tsc: 8 });
  expect(series.test).toMatchObject({ count: 24, tsc: 12 });
  expect(series.validation.auc).toBeGreaterThanOrEqual(MINIMUM_SERIES_AUC);
  expect(series.threshold).toBeGreaterThan(0);
  expect(series.test.metrics?.sensitivity.estimate).toBeGreaterThan(0.5);
  expect(report).toMatch(/\| T2 \| 16 \(8\), AUC [01]\.\d{3} \| 0\.\d{4} \| 24 \(12\) \|/);
  expect(report).toContain('| T2 | 24 (12) |');
  expect(report).toContain('| 0.95 |');
  expect(report).toContain('pointing game');
  expect(report).toContain(`By contrast: T2 ${hits} of 12 (`);
  // Every toy tuber covers 36 mm², so one stratum holds all slices with tuber and repeats the totals.
  const t2Slices = evaluation.slices.byContrast.T2;
  expect(evaluation.byTuberArea.T2).toEqual([
    {
      fromMm2: 20,
      toMm2: 50,
      slices: 12,
      auc: t2Slices.auc,
      sensitivity: t2Slices.sensitivity,
      flagged: expect.any(Number),
      pointingHits: hits,
    },
  ]);
  expect(report).toContain(`| T2 | 20–50 mm² | 12 | ${t2Slices.auc.toFixed(3)} |`);
  // Spread over the four strata, the same slices split three per stratum and their counts add up.
  const areas = [36, 100, 200, 500];
  let positiveCount = 0;
  const spread = {
    ...test,
    records: test.records.map(record =>
      record.positive ? { ...record, tuberAreaMm2: areas[positiveCount++ % areas.length] } : record
    ),
  };
  const strata = (await evaluateModel(model, data.validation, spread, TOY_SIZE * 1.875)).byTuberArea
    .T2;
  expect(strata.map(({ fromMm2, toMm2, slices }) => [fromMm2, toMm2, slices])).toEqual([
    [20, 50, 3],
    [50, 150, 3],
    [150, 400, 3],
    [400, undefined, 3],
  ]);
  const total = (count: (stratum: (typeof strata)[number]) => number) =>
    strata.reduce((sum, stratum) => sum + count(stratum), 0);
  const [whole] = evaluation.byTuberArea.T2;
  expect(total(s => s.pointingHits)).toBe(hits);
  expect(total(s => s.sensitivity * s.slices)).toBeCloseTo(whole.sensitivity * 12, 9);
  expect(total(s => (s.flagged ?? NaN) * s.slices)).toBeCloseTo((whole.flagged ?? NaN) * 12, 9);

  // Ambiguous slices leave the slice metrics but stay in their series and brain: with each TSC
  // brain's slice with tuber flagged ambiguous, the slice metrics see no tuber left, while every
  // series and brain still holds its tuber slice and is judged as before.
  const flagged = {
    ...test,
    records: test.records.map(record =>
      record.positive ? { ...record, positive: false, ambiguous: true as const } : record
    ),
  };
  const withAmbiguous = await evaluateModel(model, data.validation, flagged, TOY_SIZE * 1.875);
  expect(withAmbiguous.slices).toMatchObject({ count: 36, positives: 0 });
  expect(withAmbiguous.patients).toMatchObject({ count: 24, tsc: 12 });
  expect(withAmbiguous.patients.confusion).toEqual(evaluation.patients.confusion);
  expect(withAmbiguous.series.T2.test).toEqual(evaluation.series.T2.test);
  expect(withAmbiguous.byTuberArea.T2).toEqual([]);
  model.dispose();
}, 120_000);
