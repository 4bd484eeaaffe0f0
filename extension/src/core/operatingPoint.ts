/**
 * The operating point a series is read at: the threshold that flags its slices and, where the model is
 * validated for the series' contrast, decides its verdict. Framework-free: the viewer, `tuberlens
 * predict` and `tuberlens batch` share it.
 *
 * A model card states a series threshold per contrast (`seriesThresholds`), chosen on validation series
 * of that contrast; a contrast it leaves out (because the model failed validation on it) or a series
 * that is neither T2 nor FLAIR gets no verdict: its slice probabilities are shown at the card's slice
 * threshold, and the reason is stated, so that a model that cannot tell is never read as "no tubers".
 * A card without `seriesThresholds` (older models) decides every series at its slice threshold.
 */
import type { Contrast } from './seriesClassification';

export const SERIES_VERDICT_CONTRASTS = ['FLAIR', 'T2'] as const;
export type VerdictContrast = (typeof SERIES_VERDICT_CONTRASTS)[number];
export type SeriesThresholds = Partial<Record<VerdictContrast, number>>;

export interface OperatingPointCard {
  name: string;
  version: string;
  threshold: number;
  seriesThresholds?: SeriesThresholds;
}

export type OperatingPoint =
  | { verdict: true; threshold: number }
  | {
      verdict: false;
      threshold: number;
      /** Why the series gets no verdict, as one sentence for the user. */
      reason: string;
    };

export function operatingPoint(card: OperatingPointCard, contrast: Contrast): OperatingPoint {
  const { seriesThresholds } = card;
  if (!seriesThresholds) return { verdict: true, threshold: card.threshold };
  const seriesThreshold = contrast === 'other' ? undefined : seriesThresholds[contrast];
  if (seriesThreshold !== undefined) return { verdict: true, threshold: seriesThreshold };
  return { verdict: false, threshold: card.threshold, reason: withheldReason(card, contrast) };
}

function withheldReason(
  { name, version, seriesThresholds }: OperatingPointCard,
  contrast: Contrast
) {
  const validated = Object.keys(seriesThresholds ?? {}).join(' and ') || 'no contrast';
  const series =
    contrast === 'other' ? 'a series that is neither T2 nor FLAIR' : `${contrast} series`;
  return `No verdict: ${name} ${version} is validated for ${validated} series only, not for ${series}.`;
}
