/**
 * A TuberLens result as it is stored in the PACS: a DICOM Comprehensive SR holding the model identity and
 * the per-slice probabilities, beside a DICOM SEG holding the tuber regions. `tuberlens batch --store`
 * writes both; the cohort view and the viewer panel read the SR back. Framework-free.
 */

export interface StoredModel {
  name: string;
  version: string;
  /** SHA-256 of the weights the result was made with. */
  sha256: string;
}

export interface StoredSlice {
  sopInstanceUID: string;
  instanceNumber?: number;
  probability: number;
}

export interface StoredResult {
  studyInstanceUID: string;
  /** The analysed series. */
  seriesInstanceUID: string;
  seriesDescription: string;
  model: StoredModel;
  /** The model card's threshold when the result was made. */
  threshold: number;
  /** The highest slice probability. */
  probability: number;
  positive: boolean;
  slices: StoredSlice[];
  /** ISO 8601 UTC. */
  createdAt: string;
  /** The SR itself. */
  srSeriesInstanceUID: string;
  srSopInstanceUID: string;
  /** The SEG holding the tuber regions. */
  segSeriesInstanceUID: string;
  segSopInstanceUID: string;
}

/** Every TuberLens SR's and SEG's Series Description starts so; QIDO-RS finds them with "TuberLens*". */
export const STORED_SERIES_PREFIX = 'TuberLens';

export function resultSeriesDescription({ name, version }: Pick<StoredModel, 'name' | 'version'>) {
  return `${STORED_SERIES_PREFIX} result ${name} ${version}`;
}

export function regionsSeriesDescription({ name, version }: Pick<StoredModel, 'name' | 'version'>) {
  return `${STORED_SERIES_PREFIX} regions ${name} ${version}`;
}
