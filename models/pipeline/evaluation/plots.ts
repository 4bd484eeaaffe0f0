/** Small dependency-free SVG plots for evaluation reports: ROC curve and reliability diagram. */
import type { CalibrationBin, RocPoint } from './metrics';

const SIZE = 360;
const MARGIN = 48;
const PLOT = SIZE - 2 * MARGIN;

const x = (value: number) => MARGIN + value * PLOT;
const y = (value: number) => SIZE - MARGIN - value * PLOT;

function frame(title: string, xLabel: string, yLabel: string, body: string): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      t =>
        `<text x="${x(t)}" y="${SIZE - MARGIN + 16}" text-anchor="middle">${t}</text>` +
        `<text x="${MARGIN - 8}" y="${y(t) + 4}" text-anchor="end">${t}</text>`
    )
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" font-family="sans-serif" font-size="11">`,
    `<rect width="${SIZE}" height="${SIZE}" fill="white"/>`,
    `<text x="${SIZE / 2}" y="20" text-anchor="middle" font-size="13">${title}</text>`,
    `<rect x="${MARGIN}" y="${MARGIN}" width="${PLOT}" height="${PLOT}" fill="none" stroke="#888"/>`,
    ticks,
    `<text x="${SIZE / 2}" y="${SIZE - 10}" text-anchor="middle">${xLabel}</text>`,
    `<text x="14" y="${SIZE / 2}" text-anchor="middle" transform="rotate(-90 14 ${SIZE / 2})">${yLabel}</text>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#bbb" stroke-dasharray="4 4"/>`,
    body,
    '</svg>',
  ].join('\n');
}

export function rocSvg(
  curve: RocPoint[],
  auc: number,
  operatingPoint?: { falsePositiveRate: number; truePositiveRate: number }
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
    `ROC, test slices (AUC ${auc.toFixed(3)})`,
    'false positive rate',
    'true positive rate',
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
    'Calibration, test slices',
    'predicted probability',
    'observed tuber rate',
    `<path d="${path}" fill="none" stroke="#1f77b4"/>${points}`
  );
}
