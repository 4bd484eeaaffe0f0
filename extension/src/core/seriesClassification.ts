/**
 * Classifies an MR series by contrast and acquisition plane from its DICOM attributes.
 * Framework-free: the viewer's hanging protocol, the panel's input warnings and the CLI share it.
 */

export type Contrast = 'T2' | 'FLAIR' | 'other';
export type Plane = 'axial' | 'coronal' | 'sagittal' | 'unknown';

export interface SeriesAttributes {
  Modality?: string;
  SeriesDescription?: string;
  SequenceName?: string;
  ScanningSequence?: string | string[];
  RepetitionTime?: number | string;
  EchoTime?: number | string;
  InversionTime?: number | string;
  ImageOrientationPatient?: ArrayLike<number | string>;
}

export interface SeriesClassification {
  contrast: Contrast;
  plane: Plane;
  /** Suitable input for the tuber detector: an axial T2-weighted or FLAIR MR series. */
  suitable: boolean;
}

const FLAIR_TOKEN = /flair|^tirm|darkfluid/;
const T2_TOKEN = /^t2/;
// T2* (T2-star) gradient echo and T2 maps are other contrasts than T2-weighted.
const T2_VARIANT = /t2[\s_-]*(\*|star|map)/;
const PD_OR_T1_TOKEN = /^(pd|pdw|proton)$|^t1/;

/** Minimum cosine between the slice normal and a patient axis for the plane to be named. */
const PLANE_COSINE = Math.cos((30 * Math.PI) / 180);

export function classifySeries(attributes: SeriesAttributes): SeriesClassification {
  const contrast =
    attributes.Modality && attributes.Modality !== 'MR' ? 'other' : classifyContrast(attributes);
  const plane = classifyPlane(attributes.ImageOrientationPatient);
  return { contrast, plane, suitable: contrast !== 'other' && plane === 'axial' };
}

export function classifyContrast(attributes: SeriesAttributes): Contrast {
  const tokens = nameTokens(attributes);
  if (tokens.some(token => FLAIR_TOKEN.test(token))) return 'FLAIR';
  if (T2_VARIANT.test(tokens.join(' '))) return 'other';
  if (tokens.some(token => T2_TOKEN.test(token))) return 'T2';
  if (tokens.some(token => PD_OR_T1_TOKEN.test(token))) return 'other';
  return contrastFromTimings(attributes);
}

/** Lower-case words of the series' names; '*' stays part of a word so that "T2*" is not "T2". */
function nameTokens({ SeriesDescription, SequenceName }: SeriesAttributes): string[] {
  return [SeriesDescription, SequenceName]
    .filter((name): name is string => typeof name === 'string')
    .flatMap(name =>
      name
        .toLowerCase()
        .replace(/dark[\s_-]+fluid/g, 'darkfluid')
        .split(/[^a-z0-9*]+/)
    )
    .filter(token => token.length > 0);
}

/** Timing rules for series whose names say nothing (values in ms, as DICOM stores them). */
function contrastFromTimings({
  RepetitionTime,
  EchoTime,
  InversionTime,
}: SeriesAttributes): Contrast {
  const tr = toNumber(RepetitionTime);
  const te = toNumber(EchoTime);
  const ti = toNumber(InversionTime);
  if (te === undefined || te < 70) return 'other';
  if (ti !== undefined && ti >= 1500) return 'FLAIR';
  if (tr !== undefined && tr >= 2000) return 'T2';
  return 'other';
}

export function classifyPlane(orientation: ArrayLike<number | string> | undefined): Plane {
  if (!orientation || orientation.length !== 6) return 'unknown';
  const [rx, ry, rz, cx, cy, cz] = Array.from(orientation, Number);
  if (![rx, ry, rz, cx, cy, cz].every(Number.isFinite)) return 'unknown';
  const normal = [ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx];
  const length = Math.hypot(...normal);
  if (length === 0) return 'unknown';
  const [x, y, z] = normal.map(component => Math.abs(component) / length);
  if (z >= PLANE_COSINE) return 'axial';
  if (y >= PLANE_COSINE) return 'coronal';
  if (x >= PLANE_COSINE) return 'sagittal';
  return 'unknown';
}

function toNumber(value: number | string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}
