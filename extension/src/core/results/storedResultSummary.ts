/**
 * What the stored TuberLens results say, for the cohort table and the panel: the one shown where there
 * are several, its flagged slices, the time it was made. Framework-free.
 */
import type { StoredResult, StoredSlice } from './storedResult';

/** The result shown for a study or a series, and what else the PACS holds for it. */
export interface ChosenResult {
  result: StoredResult;
  /** How many results there are, the chosen one included. */
  count: number;
  /** The other results' models, where they differ from the chosen one's. */
  otherModels: string[];
}

export function modelLabel({ name, version }: StoredResult['model']): string {
  return `${name} ${version}`;
}

/** The newest result (by the time it was made), or undefined when there is none. */
export function newestResult(results: readonly StoredResult[]): ChosenResult | undefined {
  const [result, ...older] = [...results].sort(
    (a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt)
  );
  if (!result) return undefined;
  const chosenModel = modelLabel(result.model);
  const otherModels = [...new Set(older.map(other => modelLabel(other.model)))].filter(
    model => model !== chosenModel
  );
  return { result, count: results.length, otherModels };
}

/** Says that the shown result is one of several, and of which other models; undefined when it is the only one. */
export function versionNote({ count, otherModels }: ChosenResult): string | undefined {
  if (count === 1) return undefined;
  const others = otherModels.length > 0 ? ` (also ${otherModels.join(', ')})` : '';
  return `The newest of ${count} stored results${others}.`;
}

/** The slices at or above the result's own threshold. */
export function flaggedSlices({ slices, threshold }: StoredResult): StoredSlice[] {
  return slices.filter(slice => slice.probability >= threshold);
}

/** An ISO 8601 time as "YYYY-MM-DD HH:MM UTC"; text that is no time is shown as it is. */
export function resultTime(iso: string): string {
  const time = Date.parse(iso);
  return Number.isNaN(time)
    ? iso
    : `${new Date(time).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
