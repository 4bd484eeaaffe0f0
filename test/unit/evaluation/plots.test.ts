import {
  barChartSvg,
  probabilityHistogramSvg,
  rocSvg,
} from '../../../models/pipeline/evaluation/plots';

const rectHeights = (svg: string) =>
  [
    ...svg.matchAll(
      /<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill="#1f77b4"\/>/g
    ),
  ].map(match => Number(match[1]));

describe('SVG plots', () => {
  const curve = [
    { threshold: Infinity, falsePositiveRate: 0, truePositiveRate: 0 },
    { threshold: 0.5, falsePositiveRate: 0.2, truePositiveRate: 0.9 },
    { threshold: 0.1, falsePositiveRate: 1, truePositiveRate: 1 },
  ];

  it('titles the ROC curve for test slices unless told otherwise', () => {
    expect(rocSvg(curve, 0.85)).toContain('ROC, test slices (AUC 0.850)');
    expect(rocSvg(curve, 0.85, undefined, 'ROC, studies')).toContain('ROC, studies (AUC 0.850)');
  });

  it('bins probabilities by tenths, 1 in the last bin, and marks the threshold', () => {
    const svg = probabilityHistogramSvg([0, 0.05, 0.1, 0.95, 1, 1], 0.42, {
      title: 'T',
      xLabel: 'x',
      yLabel: 'y',
    });
    const heights = rectHeights(svg);
    expect(heights).toHaveLength(10);
    // Bin 0 holds 2, bin 1 holds 1, bin 9 holds 3: the axis tops out at 3.
    expect(heights[0] / heights[9]).toBeCloseTo(2 / 3);
    expect(heights[1] / heights[9]).toBeCloseTo(1 / 3);
    expect(heights.slice(2, 9)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(svg).toContain('threshold 0.420');
  });

  it('draws one bar per entry, highlighted ones in red, with escaped labels', () => {
    const svg = barChartSvg(
      [
        { label: 'A & <B>', value: 4, highlighted: true },
        { label: 'C', value: 0, highlighted: false },
      ],
      { title: 'Bars', valueLabel: 'count' }
    );
    expect(svg).toContain('fill="#d33"');
    expect(svg).toContain('A &amp; &lt;B&gt;');
    expect(svg).not.toContain('<B>');
  });
});
