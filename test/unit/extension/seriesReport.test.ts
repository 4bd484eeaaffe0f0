import {
  isFlagged,
  reportCsv,
  reportJson,
  seriesProbability,
  seriesVerdict,
  type SeriesReport,
} from '../../../extension/src/core/seriesReport';

const report: SeriesReport = {
  model: { name: 'tuber-net', version: '1.0.0', backend: 'webgl' },
  threshold: 0.5,
  series: { seriesInstanceUID: '1.2.3', seriesDescription: 'AX T2 FSE' },
  slices: [
    { sopInstanceUID: '1.2.3.1', instanceNumber: 1, probability: 0.125 },
    { sopInstanceUID: '1.2.3.2', instanceNumber: 2, probability: 0.5 },
    { sopInstanceUID: '1.2.3.3', instanceNumber: 3, probability: 0.875 },
  ],
};

describe('series verdict', () => {
  test('the series probability is its most suspicious slice’s, compared with the threshold', () => {
    expect(seriesProbability(report.slices)).toBe(0.875);
    expect(seriesVerdict(report.slices, 0.5)).toEqual({ probability: 0.875, positive: true });
    expect(seriesVerdict(report.slices, 0.9)).toEqual({ probability: 0.875, positive: false });
    expect(isFlagged(report.slices[1], 0.5)).toBe(true);
    expect(isFlagged({}, 0)).toBe(false);
  });

  test('there is no verdict while a slice is not analysed, nor for an empty series', () => {
    const partial = [...report.slices.slice(0, 2), { sopInstanceUID: '1.2.3.3' }];
    expect(seriesProbability(partial)).toBeUndefined();
    expect(seriesVerdict(partial, 0.5)).toBeUndefined();
    expect(seriesVerdict([], 0.5)).toBeUndefined();
  });
});

describe('downloads', () => {
  test('the CSV has one row per slice in series order', () => {
    expect(reportCsv(report)).toBe(
      [
        'slice,instance_number,sop_instance_uid,probability,flagged',
        '1,1,1.2.3.1,0.125000,0',
        '2,2,1.2.3.2,0.500000,1',
        '3,3,1.2.3.3,0.875000,1',
        '',
      ].join('\n')
    );
    const partial = { ...report, slices: [{ instanceNumber: 7 }] };
    expect(reportCsv(partial).split('\n')[1]).toBe('1,7,,,');
  });

  test('the JSON reads like `tuberlens predict --json`, and a partial run has no verdict', () => {
    expect(JSON.parse(reportJson(report))).toEqual({
      model: report.model,
      threshold: 0.5,
      series: [
        {
          seriesInstanceUID: '1.2.3',
          seriesDescription: 'AX T2 FSE',
          probability: 0.875,
          positive: true,
          complete: true,
          instances: [
            { sopInstanceUID: '1.2.3.1', instanceNumber: 1, probability: 0.125, positive: false },
            { sopInstanceUID: '1.2.3.2', instanceNumber: 2, probability: 0.5, positive: true },
            { sopInstanceUID: '1.2.3.3', instanceNumber: 3, probability: 0.875, positive: true },
          ],
        },
      ],
    });
    const partial = JSON.parse(reportJson({ ...report, slices: [{}, ...report.slices.slice(1)] }));
    expect(partial.series[0]).toMatchObject({ probability: null, positive: null, complete: false });
    expect(partial.series[0].instances[0]).toEqual({ probability: null, positive: null });
  });
});
