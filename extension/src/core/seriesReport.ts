/**
 * A series' detection result as numbers and as files: the series probability and verdict, flagged
 * slices, and the per-slice CSV and JSON a researcher downloads. Framework-free.
 */
import type { OperatingPoint } from './operatingPoint';
import type { Contrast } from './seriesClassification';

export interface SliceRecord {
  sopInstanceUID?: string;
  instanceNumber?: number;
  /** Undefined until the slice has been analysed. */
  probability?: number;
}

export interface SeriesReport {
  model: { name: string; version: string; backend: string };
  /** The model card's (slice) threshold. */
  threshold: number;
  series: { seriesInstanceUID?: string; seriesDescription: string; contrast: Contrast };
  /** The threshold the series is read at, and whether it gets a verdict there. */
  operatingPoint: OperatingPoint;
  /** In the display set's order. */
  slices: SliceRecord[];
}

/** The series' probability: its most suspicious slice's, as `tuberlens predict` reports it. */
export function seriesProbability(slices: readonly SliceRecord[]): number | undefined {
  const analysed = slices.flatMap(slice => slice.probability ?? []);
  return analysed.length === slices.length && analysed.length > 0
    ? Math.max(...analysed)
    : undefined;
}

/** A verdict only for a complete series: a partial run can say nothing about the slices it missed. */
export function seriesVerdict(slices: readonly SliceRecord[], threshold: number) {
  const probability = seriesProbability(slices);
  return probability === undefined
    ? undefined
    : { probability, positive: probability >= threshold };
}

export type SeriesDecision =
  | { probability: number; positive: boolean; threshold: number }
  | { probability: number; positive: null; threshold: number; withheldReason: string };

/**
 * A complete series read at its operating point: the verdict, or none with the reason where the model
 * is not validated for the series (positive null, never false).
 */
export function seriesDecision(
  slices: readonly SliceRecord[],
  point: OperatingPoint
): SeriesDecision | undefined {
  const verdict = seriesVerdict(slices, point.threshold);
  if (!verdict) return undefined;
  return point.verdict
    ? { ...verdict, threshold: point.threshold }
    : {
        probability: verdict.probability,
        positive: null,
        threshold: point.threshold,
        withheldReason: point.reason,
      };
}

export function isFlagged(slice: SliceRecord, threshold: number): boolean {
  return slice.probability !== undefined && slice.probability >= threshold;
}

/** The decision on an analysed series: every one of its slices (at least one) has its probability. */
export function decideAnalysedSeries(
  probabilities: readonly number[],
  point: OperatingPoint
): SeriesDecision {
  const decision = seriesDecision(
    probabilities.map(probability => ({ probability })),
    point
  );
  if (!decision) throw new RangeError('A series without slices has no decision.');
  return decision;
}

export function reportCsv(report: SeriesReport): string {
  const header = 'slice,instance_number,sop_instance_uid,probability,flagged';
  const rows = report.slices.map((slice, index) => {
    const flagged = flagOf(slice, report.operatingPoint);
    return [
      index + 1,
      slice.instanceNumber ?? '',
      slice.sopInstanceUID ?? '',
      slice.probability?.toFixed(6) ?? '',
      flagged === null ? '' : Number(flagged),
    ].join(',');
  });
  return `${[header, ...rows].join('\n')}\n`;
}

/** The shape of `tuberlens predict --json`, so viewer and CLI results read alike. */
export function reportJson(report: SeriesReport): string {
  const point = report.operatingPoint;
  const decision = seriesDecision(report.slices, point);
  const document = {
    model: report.model,
    threshold: report.threshold,
    series: [
      {
        ...report.series,
        threshold: point.threshold,
        probability: decision?.probability ?? null,
        positive: decision?.positive ?? null,
        ...(point.verdict ? {} : { verdictWithheld: point.reason }),
        complete: decision !== undefined,
        instances: report.slices.map(slice => ({
          ...(slice.sopInstanceUID ? { sopInstanceUID: slice.sopInstanceUID } : {}),
          ...(slice.instanceNumber !== undefined ? { instanceNumber: slice.instanceNumber } : {}),
          probability: slice.probability ?? null,
          positive: flagOf(slice, point),
        })),
      },
    ],
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** A slice's flag in a download: null where it is not analysed or its series gets no verdict. */
export function flagOf(slice: SliceRecord, point: OperatingPoint): boolean | null {
  return slice.probability === undefined || !point.verdict
    ? null
    : isFlagged(slice, point.threshold);
}
