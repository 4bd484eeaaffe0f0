import type { Anatomy } from './anatomy';
import { sampleContrast } from './contrast';
import { Random } from './random';
import { acquireSeries, renderTissueSignal, sampleAcquisition, type Acquisition } from './render';
import { NO_TUBERS, placeLesions, TSC_TUBERS, type Tuber } from './tubers';
import type { Contrast, RenderedSeries } from './types';

export interface SubjectOptions {
  tsc: boolean;
  contrasts: Contrast[];
  /** An unmyelinated (infant) brain: white matter brighter than cortex. */
  infant?: boolean;
  /** Fixed acquisition settings instead of random ones (e.g. a typical clinical protocol for demos). */
  acquisition?: Partial<Acquisition>;
}

export interface SyntheticSubject {
  seed: string;
  tsc: boolean;
  tubers: Tuber[];
  series: RenderedSeries[];
}

/** Slices holding at least this much tuber are positive; slices with none are negative; the rest ambiguous. */
export const POSITIVE_AREA_MM2 = 20;

export type SliceLabel = 'positive' | 'negative' | 'ambiguous';

export interface SliceRow {
  contrast: Contrast;
  slice: number;
  instanceNumber: number;
  tuberAreaMm2: number;
  label: SliceLabel;
}

const TIMINGS: Record<
  Contrast,
  (random: Random) => Pick<RenderedSeries, 'repetitionTime' | 'echoTime' | 'inversionTime'>
> = {
  T2: random => ({
    repetitionTime: Math.round(random.uniform(3000, 6000)),
    echoTime: Math.round(random.uniform(80, 120)),
  }),
  FLAIR: random => ({
    repetitionTime: Math.round(random.uniform(8000, 11000)),
    echoTime: Math.round(random.uniform(100, 140)),
    inversionTime: Math.round(random.uniform(2200, 2800)),
  }),
};
const DESCRIPTIONS: Record<Contrast, string> = { T2: 'AX T2 FSE', FLAIR: 'AX FLAIR' };

/** One synthetic brain, TSC or control, acquired as axial 2D series of the requested contrasts. */
export function synthesizeSubject(
  anatomy: Anatomy,
  seed: string,
  options: SubjectOptions
): SyntheticSubject {
  const random = new Random(seed);
  const lesions = placeLesions(
    anatomy,
    random.fork('lesions'),
    options.tsc ? TSC_TUBERS : NO_TUBERS
  );
  const acquisition = { ...sampleAcquisition(random.fork('acquisition')), ...options.acquisition };
  const series = options.contrasts.map(contrast => {
    const contrastRandom = random.fork(contrast);
    const model = sampleContrast(contrast, contrastRandom, options.infant);
    const signal = renderTissueSignal(anatomy, lesions, model, contrastRandom);
    const images = acquireSeries(anatomy, signal, lesions.tuber, acquisition, contrastRandom);
    return {
      contrast,
      seriesDescription: DESCRIPTIONS[contrast],
      ...images,
      ...TIMINGS[contrast](contrastRandom),
    };
  });
  return { seed, tsc: options.tsc, tubers: lesions.tubers, series };
}

/**
 * Which label map subject n is drawn from: consecutive pairs share one, and with TSC and control subjects
 * alternating, each anatomy appears with and without tubers, so a model cannot learn the diagnosis from it.
 */
export function labelMapIndex(subjectIndex: number, labelMapCount: number): number {
  return Math.floor(subjectIndex / 2) % labelMapCount;
}

export function sliceTable(series: RenderedSeries): SliceRow[] {
  const pixelAreaMm2 = series.pixelSpacing[0] * series.pixelSpacing[1];
  return series.masks.map((mask, slice) => {
    let pixels = 0;
    for (let n = 0; n < mask.length; n++) pixels += mask[n];
    const tuberAreaMm2 = pixels * pixelAreaMm2;
    const label: SliceLabel =
      tuberAreaMm2 >= POSITIVE_AREA_MM2
        ? 'positive'
        : tuberAreaMm2 === 0
          ? 'negative'
          : 'ambiguous';
    return { contrast: series.contrast, slice, instanceNumber: slice + 1, tuberAreaMm2, label };
  });
}
