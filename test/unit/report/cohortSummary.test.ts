import { emptyResultRow } from '../../../extension/src/core/results/resultsCsv';
import { summariseCohort } from '../../../scripts/report/cohortSummary';
import { KNOWN_COHORT, resultRow, rowWithoutResult, withheldRow } from './fixtures';

const labelsOf = (entries: Array<[string, boolean]>) => new Map(entries);

describe('summariseCohort', () => {
  const cohortRows = KNOWN_COHORT.map(({ row }) => row);
  const cohortLabels = KNOWN_COHORT.map(({ row, tsc }): [string, boolean] => [
    row.studyInstanceUID,
    tsc,
  ]);

  it('computes the paper metrics on a cohort small enough to check by hand', () => {
    const [group] = summariseCohort(cohortRows, labelsOf(cohortLabels)).groups;
    const { metrics, confusion, labelled, labelledPositive } = group.evaluation!;
    expect(confusion).toEqual({
      truePositives: 3,
      falsePositives: 1,
      trueNegatives: 5,
      falseNegatives: 1,
    });
    expect([labelled, labelledPositive]).toEqual([10, 4]);
    expect(metrics.sensitivity.estimate).toBeCloseTo(3 / 4);
    expect(metrics.specificity.estimate).toBeCloseTo(5 / 6);
    expect(metrics.ppv.estimate).toBeCloseTo(3 / 4);
    expect(metrics.npv.estimate).toBeCloseTo(5 / 6);
    expect(metrics.f1.estimate).toBeCloseTo((2 * 3) / (2 * 3 + 1 + 1));
    expect(metrics.accuracy.estimate).toBeCloseTo(8 / 10);
    expect(metrics.auc.estimate).toBeCloseTo(22 / 24);
    for (const { estimate, low, high } of Object.values(metrics)) {
      expect(low).toBeLessThanOrEqual(estimate);
      expect(high).toBeGreaterThanOrEqual(estimate);
    }
  });

  it('counts statuses and keeps unlabelled results and unmatched labels out of the metrics', () => {
    const rows = [
      ...cohortRows,
      resultRow({ studyInstanceUID: '7.1', probability: 0.99 }),
      rowWithoutResult('failed', { studyInstanceUID: '7.2' }),
      rowWithoutResult('no-series', { studyInstanceUID: '7.3' }),
      emptyResultRow('7.4', 'not-analysed'),
    ];
    const labels = labelsOf([
      ...cohortLabels,
      ['7.2', true],
      ['7.3', false],
      ['7.4', true],
      ['8.1', true],
    ]);
    const summary = summariseCohort(rows, labels);
    expect(summary.statusCounts).toEqual({
      stored: 11,
      analysed: 0,
      'already-stored': 0,
      'no-series': 1,
      'not-analysed': 1,
      failed: 1,
    });
    expect(summary.labelCoverage).toEqual({
      labels: 14,
      ofStudiesWithoutResult: 3,
      ofStudiesNotListed: 1,
    });
    const { evaluation } = summary.groups[0];
    expect([evaluation!.labelled, evaluation!.unlabelled]).toEqual([10, 1]);
    expect(evaluation!.metrics.sensitivity.estimate).toBeCloseTo(3 / 4);
  });

  it('keeps the results of each model version apart', () => {
    const rows = [
      ...cohortRows,
      resultRow({ studyInstanceUID: '7.1', modelVersion: '2.0.0', threshold: 0.7 }),
    ];
    const summary = summariseCohort(rows, labelsOf([...cohortLabels, ['7.1', true]]));
    expect(
      summary.groups.map(group => [
        group.version,
        group.threshold,
        group.contrasts,
        group.results.length,
      ])
    ).toEqual([
      ['1.0.0', 0.5, ['FLAIR'], 10],
      ['2.0.0', 0.7, ['FLAIR'], 1],
    ]);
    expect(summary.groups[1].evaluation!.labelled).toBe(1);
    expect(summary.groups[1].evaluation!.metrics.specificity.estimate).toBeNaN();
  });

  it('lists results without a verdict, apart by threshold and contrast, and leaves them out of the metrics', () => {
    const rows = [
      ...cohortRows,
      withheldRow({ studyInstanceUID: '7.1', probability: 0.95 }),
      withheldRow({ studyInstanceUID: '7.2', probability: 0.05 }),
      // A FLAIR threshold equal to the slice threshold: one group, both contrasts named.
      withheldRow({ studyInstanceUID: '7.3', threshold: 0.5 }),
    ];
    const labels = labelsOf([...cohortLabels, ['7.1', false], ['7.2', true], ['7.3', false]]);
    const [flair, t2] = summariseCohort(rows, labels).groups;
    expect(flair.contrasts).toEqual(['FLAIR', 'T2']);
    expect(flair.results).toHaveLength(11);
    expect([flair.evaluation!.labelled, flair.evaluation!.unlabelled]).toEqual([10, 0]);
    expect(flair.evaluation!.confusion).toEqual({
      truePositives: 3,
      falsePositives: 1,
      trueNegatives: 5,
      falseNegatives: 1,
    });
    expect(t2).toMatchObject({ threshold: 0.3, contrasts: ['T2'] });
    expect(t2.results.map(row => row.positive)).toEqual([null, null]);
    expect(t2.evaluation!.labelled).toBe(0);
    expect(Object.values(t2.evaluation!.confusion)).toEqual([0, 0, 0, 0]);
  });

  it('has no evaluation without labels', () => {
    const summary = summariseCohort(cohortRows);
    expect(summary.groups[0].evaluation).toBeUndefined();
    expect(summary.labelCoverage).toBeUndefined();
  });
});
