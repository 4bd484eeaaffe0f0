import { operatingPoint } from '../../../extension/src/core/operatingPoint';
import {
  isFlagged,
  reportCsv,
  reportJson,
  seriesDecision,
  seriesProbability,
  seriesVerdict,
  type SeriesReport,
} from '../../../extension/src/core/seriesReport';

/** A series read with a card that has one threshold for slices and series alike. */
const report: SeriesReport = {
  model: { name: 'tuber-net', version: '1.0.0', backend: 'webgl' },
  threshold: 0.5,
  series: { seriesInstanceUID: '1.2.3', seriesDescription: 'AX T2 FSE', contrast: 'T2' },
  operatingPoint: { verdict: true, threshold: 0.5 },
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

/** Validated on FLAIR series only: slices at 0.3, FLAIR series at 0.7, T2 series get no verdict. */
const FLAIR_CARD = {
  name: 'tuber-net',
  version: '2.0.0',
  threshold: 0.3,
  seriesThresholds: { FLAIR: 0.7 },
};
const WITHHELD =
  'No verdict: tuber-net 2.0.0 is validated for FLAIR series only, not for T2 series.';

describe('series decision at the operating point', () => {
  const slices = (top: number) => [{ probability: 0.1 }, { probability: top }];

  test('a validated contrast is decided at its series threshold', () => {
    const flair = operatingPoint(FLAIR_CARD, 'FLAIR');
    expect(seriesDecision(slices(0.5), flair)).toEqual({
      probability: 0.5,
      positive: false,
      threshold: 0.7,
    });
    expect(seriesDecision(slices(0.8), flair)).toEqual({
      probability: 0.8,
      positive: true,
      threshold: 0.7,
    });
  });

  test('another contrast gets no verdict, with the reason, never a negative', () => {
    expect(seriesDecision(slices(0.9), operatingPoint(FLAIR_CARD, 'T2'))).toEqual({
      probability: 0.9,
      positive: null,
      threshold: 0.3,
      withheldReason: WITHHELD,
    });
    expect(seriesDecision([{}], operatingPoint(FLAIR_CARD, 'T2'))).toBeUndefined();
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

  test('the CSV flags at the series threshold, and flags nothing where the verdict is withheld', () => {
    const flags = (point: SeriesReport['operatingPoint']) =>
      reportCsv({ ...report, operatingPoint: point })
        .trim()
        .split('\n')
        .slice(1)
        .map(row => row.split(',')[4]);
    expect(flags(operatingPoint(FLAIR_CARD, 'FLAIR'))).toEqual(['0', '0', '1']);
    expect(flags(operatingPoint(FLAIR_CARD, 'T2'))).toEqual(['', '', '']);
  });

  test('the JSON reads like `tuberlens predict --json`, and a partial run has no verdict', () => {
    expect(JSON.parse(reportJson(report))).toEqual({
      model: report.model,
      threshold: 0.5,
      series: [
        {
          seriesInstanceUID: '1.2.3',
          seriesDescription: 'AX T2 FSE',
          contrast: 'T2',
          threshold: 0.5,
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

  describe('with a card that has series thresholds', () => {
    const read = (contrast: 'FLAIR' | 'T2') =>
      JSON.parse(
        reportJson({
          ...report,
          model: { ...report.model, version: FLAIR_CARD.version },
          threshold: FLAIR_CARD.threshold,
          series: { seriesInstanceUID: '1.2.3', seriesDescription: `AX ${contrast}`, contrast },
          operatingPoint: operatingPoint(FLAIR_CARD, contrast),
        })
      );

    test('the JSON gives a FLAIR series its verdict and flags at the FLAIR series threshold', () => {
      const json = read('FLAIR');
      expect(json.threshold).toBe(0.3);
      expect(json.series[0]).toEqual({
        seriesInstanceUID: '1.2.3',
        seriesDescription: 'AX FLAIR',
        contrast: 'FLAIR',
        threshold: 0.7,
        probability: 0.875,
        positive: true,
        complete: true,
        instances: [
          { sopInstanceUID: '1.2.3.1', instanceNumber: 1, probability: 0.125, positive: false },
          { sopInstanceUID: '1.2.3.2', instanceNumber: 2, probability: 0.5, positive: false },
          { sopInstanceUID: '1.2.3.3', instanceNumber: 3, probability: 0.875, positive: true },
        ],
      });
    });

    test('the JSON withholds a T2 series’ verdict, saying why, and flags none of its slices', () => {
      const [series] = read('T2').series;
      expect(series).toMatchObject({
        contrast: 'T2',
        threshold: 0.3,
        probability: 0.875,
        positive: null,
        verdictWithheld: WITHHELD,
        complete: true,
      });
      expect(series.instances.map((instance: { positive: unknown }) => instance.positive)).toEqual([
        null,
        null,
        null,
      ]);
    });
  });
});
