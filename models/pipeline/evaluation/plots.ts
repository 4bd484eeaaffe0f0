/** Small dependency-free SVG plots for reports: ROC curve, reliability diagram, histogram, bar chart. */
import type { CalibrationBin, RocPoint } from './metrics';

const SIZE = 360;
const MARGIN = 48;
const PLOT = SIZE - 2 * MARGIN;
const BAR_HEIGHT = 16;
const BAR_LABEL_MARGIN = 150;

/** Where the unit square of a plot lies in its SVG: square by default, taller for long bar charts. */
class Canvas {
  constructor(
    readonly plotHeight = PLOT,
    readonly left = MARGIN
  ) {}

  get width(): number {
    return this.left + PLOT + MARGIN;
  }

  get height(): number {
    return this.plotHeight + 2 * MARGIN;
  }

  x(value: number): number {
    return this.left + value * PLOT;
  }

  y(value: number): number {
    return MARGIN + (1 - value) * this.plotHeight;
  }
}

const SQUARE = new Canvas();
const x = (value: number) => SQUARE.x(value);
const y = (value: number) => SQUARE.y(value);

/** An axis label at `at`, a fraction of the axis from its origin. */
interface Tick {
  at: number;
  text: string;
}

const UNIT_TICKS: Tick[] = [0, 0.25, 0.5, 0.75, 1].map(at => ({ at, text: String(at) }));

interface FrameOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  xTicks?: Tick[];
  yTicks?: Tick[];
  /** The chance line of ROC and calibration plots. */
  diagonal?: boolean;
  canvas?: Canvas;
}

export function escapeXml(text: string): string {
  const entities: Record<string, string> = {
    '&': '&amp;',
    '<': '&lt;',
    '>': '&gt;',
    '"': '&quot;',
    "'": '&#39;',
  };
  return text.replace(/[&<>"']/g, char => entities[char]);
}

function frame(
  {
    title,
    xLabel,
    yLabel,
    xTicks = UNIT_TICKS,
    yTicks = UNIT_TICKS,
    diagonal = false,
    canvas = SQUARE,
  }: FrameOptions,
  body: string
): string {
  const { width, height, left, plotHeight } = canvas;
  const ticks = [
    ...xTicks.map(
      t =>
        `<text x="${canvas.x(t.at)}" y="${canvas.y(0) + 16}" text-anchor="middle">${escapeXml(t.text)}</text>`
    ),
    ...yTicks.map(
      t =>
        `<text x="${left - 8}" y="${canvas.y(t.at) + 4}" text-anchor="end">${escapeXml(t.text)}</text>`
    ),
  ].join('');
  const chanceLine = `<line x1="${canvas.x(0)}" y1="${canvas.y(0)}" x2="${canvas.x(1)}" y2="${canvas.y(1)}" stroke="#bbb" stroke-dasharray="4 4"/>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`,
    `<rect x="${left}" y="${MARGIN}" width="${PLOT}" height="${plotHeight}" fill="none" stroke="#888"/>`,
    ticks,
    `<text x="${canvas.x(0.5)}" y="${height - 10}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text x="14" y="${height / 2}" text-anchor="middle" transform="rotate(-90 14 ${height / 2})">${escapeXml(yLabel)}</text>`,
    diagonal ? chanceLine : '',
    body,
    '</svg>',
  ].join('\n');
}

/** A round axis maximum of at least `max`, with ticks on whole numbers. */
function countAxis(max: number): { top: number; ticks: Tick[] } {
  const rough = Math.max(1, max) / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(
    1,
    [1, 2, 5, 10].map(f => f * magnitude).find(s => s >= rough)!
  );
  const top = step * Math.ceil(Math.max(1, max) / step);
  const ticks = Array.from({ length: top / step + 1 }, (_, n) => ({
    at: (n * step) / top,
    text: String(n * step),
  }));
  return { top, ticks };
}

export function rocSvg(
  curve: RocPoint[],
  auc: number,
  operatingPoint?: { falsePositiveRate: number; truePositiveRate: number },
  title = 'ROC, test slices'
): string {
  const path = curve
    .map(
      (p, n) =>
        `${n === 0 ? 'M' : 'L'}${x(p.falsePositiveRate).toFixed(1)},${y(p.truePositiveRate).toFixed(1)}`
    )
    .join(' ');
  const marker = operatingPoint
    ? `<circle cx="${x(operatingPoint.falsePositiveRate)}" cy="${y(operatingPoint.truePositiveRate)}" r="4" fill="#d33"/>`
    : '';
  return frame(
    {
      title: `${title} (AUC ${auc.toFixed(3)})`,
      xLabel: 'false positive rate',
      yLabel: 'true positive rate',
      diagonal: true,
    },
    `<path d="${path}" fill="none" stroke="#1f77b4" stroke-width="2"/>${marker}`
  );
}

export function calibrationSvg(bins: CalibrationBin[]): string {
  const total = bins.reduce((sum, bin) => sum + bin.count, 0);
  const points = bins
    .map(
      bin =>
        `<circle cx="${x(bin.meanProbability)}" cy="${y(bin.observedRate)}" r="${2 + 10 * Math.sqrt(bin.count / total)}" fill="#1f77b4" fill-opacity="0.6"/>`
    )
    .join('');
  const path = bins
    .map(
      (bin, n) =>
        `${n === 0 ? 'M' : 'L'}${x(bin.meanProbability).toFixed(1)},${y(bin.observedRate).toFixed(1)}`
    )
    .join(' ');
  return frame(
    {
      title: 'Calibration, test slices',
      xLabel: 'predicted probability',
      yLabel: 'observed tuber rate',
      diagonal: true,
    },
    `<path d="${path}" fill="none" stroke="#1f77b4"/>${points}`
  );
}

/** Counts of probabilities in ten bins of 0.1 (the last one holds 1), the threshold marked in red. */
export function probabilityHistogramSvg(
  probabilities: number[],
  threshold: number,
  { title, xLabel, yLabel }: { title: string; xLabel: string; yLabel: string }
): string {
  const counts = Array.from({ length: 10 }, () => 0);
  for (const p of probabilities) counts[Math.min(9, Math.floor(p * 10))]++;
  const { top, ticks } = countAxis(Math.max(...counts));
  const bars = counts
    .map(
      (count, n) =>
        `<rect x="${x(n / 10) + 1}" y="${y(count / top)}" width="${PLOT / 10 - 2}" height="${y(0) - y(count / top)}" fill="#1f77b4"/>`
    )
    .join('');
  const marker =
    `<line x1="${x(threshold)}" y1="${y(0)}" x2="${x(threshold)}" y2="${y(1)}" stroke="#d33" stroke-width="2" stroke-dasharray="5 3"/>` +
    `<text x="${x(threshold)}" y="${y(1) - 6}" text-anchor="middle" fill="#d33">threshold ${threshold.toFixed(3)}</text>`;
  const xTicks = [0, 0.2, 0.4, 0.6, 0.8, 1].map(at => ({ at, text: String(at) }));
  return frame({ title, xLabel, yLabel, xTicks, yTicks: ticks }, bars + marker);
}

export interface Bar {
  label: string;
  value: number;
  /** Drawn in red rather than blue. */
  highlighted: boolean;
}

/** One horizontal bar per entry, top to bottom in the given order, labelled on the left. */
export function barChartSvg(
  bars: Bar[],
  { title, valueLabel }: { title: string; valueLabel: string }
): string {
  const canvas = new Canvas(Math.max(1, bars.length) * BAR_HEIGHT, BAR_LABEL_MARGIN);
  const { top, ticks } = countAxis(Math.max(0, ...bars.map(bar => bar.value)));
  const rowTop = (n: number) => canvas.y(1 - n / bars.length);
  const body = bars
    .map((bar, n) => {
      const end = canvas.x(bar.value / top);
      return (
        `<rect x="${canvas.x(0)}" y="${rowTop(n) + 2}" width="${end - canvas.x(0)}" height="${BAR_HEIGHT - 4}" fill="${bar.highlighted ? '#d33' : '#1f77b4'}"/>` +
        `<text x="${end + 4}" y="${rowTop(n) + BAR_HEIGHT - 4}">${bar.value}</text>`
      );
    })
    .join('');
  const yTicks = bars.map((bar, n) => ({ at: 1 - (n + 0.5) / bars.length, text: bar.label }));
  return frame({ title, xLabel: valueLabel, yLabel: '', xTicks: ticks, yTicks, canvas }, body);
}
