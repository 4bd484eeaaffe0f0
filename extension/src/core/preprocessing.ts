/**
 * Turns one axial MR slice into the tuber detector's input tensor.
 * Framework-free (no Node or DOM APIs): the viewer (cornerstone pixels), the CLI (DICOM files,
 * NIfTI volumes) and training (synthesised series) share it, so the model sees the same tensor
 * wherever the pixels come from.
 *
 * Steps, in order: modality LUT (rescale slope/intercept); the pixel grid turned to the
 * radiological axial display; resampling to a fixed physical field of view centred on the image
 * centre; intensities of the head mapped from their low..high percentiles to 0..1, clipped to
 * 0..1.5.
 */

import { classifyPlane } from './seriesClassification';

export interface SliceInput {
  /** Stored pixel values, row by row. */
  pixels: ArrayLike<number>;
  rows: number;
  columns: number;
  /** DICOM PixelSpacing: [between rows, between columns] in mm. */
  pixelSpacing: [number, number];
  rescaleSlope?: number;
  rescaleIntercept?: number;
  /** DICOM ImageOrientationPatient (LPS): row direction then column direction. */
  imageOrientationPatient?: ArrayLike<number>;
}

export interface PreprocessingSpec {
  /** Width and height of the model input in pixels. */
  size: number;
  /** Side of the square field of view, centred on the image centre, in mm. */
  fieldOfViewMm: number;
  /** Percentiles of the head's intensities that map to 0 and 1. */
  percentiles: readonly [number, number];
  /**
   * Head mask threshold as a fraction of the way from the slice's 1st to its 99.9th percentile
   * (pixels inside the image only); 0.1 when left out.
   */
  headThreshold?: number;
}

/**
 * 240 mm is the usual clinical axial field of view and holds an adult head with its scalp, so
 * most inputs are downsampled, not upsampled; 128 pixels make 1.875 mm pixels, fine enough for
 * tubers (several mm to cm). Inside the head mask the darkest 1% is its partial-volume rim and
 * skull, which would otherwise set the black point. The 99.5th percentile (as the window of our
 * synthetic DICOM series) ignores the brightest 0.5% (vessels, flow artefacts), where a maximum
 * would follow single outlier pixels. A head threshold of 0.1 lies above background noise and
 * below brain parenchyma on T2 and FLAIR.
 */
export const DEFAULT_PREPROCESSING: PreprocessingSpec = Object.freeze({
  size: 128,
  fieldOfViewMm: 240,
  percentiles: Object.freeze([1, 99.5] as const),
  headThreshold: 0.1,
});

/** Bumped whenever the algorithm changes what a spec produces. */
const PREPROCESSING_VERSION = 1;
/**
 * Normalised values clip to 0..UPPER_CLIP. Headroom above 1: on FLAIR tubers are the brightest
 * tissue, so on slices with tubers they set the 99.5th percentile themselves (a quarter of tuber
 * pixels of synthetic adult FLAIR lie above 1, none above 1.5); clipping at 1 would flatten them.
 */
export const UPPER_CLIP = 1.5;
const DEFAULT_HEAD_THRESHOLD = 0.1;
/** Percentiles of the pixels inside the image between which the head threshold lies. */
const SLICE_PERCENTILES: readonly [number, number] = [1, 99.9];
/** Output pixels whose footprint lies this much inside the image count as inside it. */
const FULL_COVERAGE = 1 - 1e-6;

/** How the stored pixel grid turns into the radiological axial display. */
export interface GridOrientation {
  /** Stored rows run along the patient's left-right axis (a transposed acquisition). */
  transposed: boolean;
  /** Stored row index runs opposite to its display direction. */
  reverseRows: boolean;
  /** Stored column index runs opposite to its display direction. */
  reverseColumns: boolean;
}

export interface PreprocessingResult {
  /** size × size, row by row: rows anterior→posterior, columns patient right→left; 0..1.5. */
  tensor: Float32Array;
  /**
   * Fraction of the field of view in the head mask (0 for a blank slice). The mask is relative to
   * the slice's own intensities, so a slice of nothing but noise gives a large fraction (0.8–0.9 in
   * our synthetic series), more than a real head (at most about 0.5 of 240 mm with its scalp).
   */
  headFraction: number;
  /** Rescaled values mapped to 0 and 1, or null where the slice has no contrast (all zeros). */
  intensityWindow: [number, number] | null;
  orientation: GridOrientation;
  /** Millimetres per output pixel. */
  outputSpacingMm: number;
}

const UNCHANGED: GridOrientation = { transposed: false, reverseRows: false, reverseColumns: false };

/** The model input of one slice: size × size, row by row, values 0..1.5 (the head mostly 0..1). */
export function preprocessSlice(
  input: SliceInput,
  spec: PreprocessingSpec = DEFAULT_PREPROCESSING
): Float32Array {
  return preprocessSliceWithInfo(input, spec).tensor;
}

export function preprocessSliceWithInfo(
  input: SliceInput,
  spec: PreprocessingSpec = DEFAULT_PREPROCESSING
): PreprocessingResult {
  validateSpec(spec);
  const { pixels, rows, columns, pixelSpacing } = input;
  if (!isPositiveInteger(rows) || !isPositiveInteger(columns)) {
    throw new RangeError(`Invalid slice size ${rows}×${columns}`);
  }
  if (pixels.length !== rows * columns) {
    throw new RangeError(`Slice has ${pixels.length} pixels, expected ${rows}×${columns}`);
  }
  if (!pixelSpacing.every(spacing => Number.isFinite(spacing) && spacing > 0)) {
    throw new RangeError(`Invalid pixel spacing ${pixelSpacing.join('\\')}`);
  }
  const slope = input.rescaleSlope ?? 1;
  const intercept = input.rescaleIntercept ?? 0;
  if (!Number.isFinite(slope) || !Number.isFinite(intercept)) {
    throw new RangeError(`Invalid rescale slope ${slope} or intercept ${intercept}`);
  }

  const { size } = spec;
  const { image, rowWeights, columnWeights, orientation, outputSpacingMm } = onModelGrid(
    input,
    spec,
    slope,
    intercept
  );
  const stats = intensityWindow(image, rowWeights.coverage, columnWeights.coverage, spec);

  const tensor = new Float32Array(size * size);
  if (stats) {
    const [low, high] = stats.window;
    const gain = 1 / (high - low);
    const { transposed } = orientation;
    for (let m = 0; m < size; m++) {
      for (let k = 0; k < size; k++) {
        const value = (image[m * size + k] - low) * gain;
        // NaN fails both comparisons and becomes 0.
        tensor[transposed ? k * size + m : m * size + k] =
          value > 0 ? (value < UPPER_CLIP ? value : UPPER_CLIP) : 0;
      }
    }
  }
  return {
    tensor,
    headFraction: stats ? stats.headCount / (size * size) : 0,
    intensityWindow: stats ? stats.window : null,
    orientation,
    outputSpacingMm,
  };
}

/**
 * The slice on the model grid without intensity normalisation: the same orientation, field of view and
 * resampling as preprocessSlice. For masks: a tuber mask gives each model pixel's tuber fraction.
 */
export function resampleToModelGrid(
  input: SliceInput,
  spec: PreprocessingSpec = DEFAULT_PREPROCESSING
): Float32Array {
  const { image, orientation } = onModelGrid(input, spec, 1, 0);
  if (!orientation.transposed) return image;
  const { size } = spec;
  const transposed = new Float32Array(size * size);
  for (let m = 0; m < size; m++)
    for (let k = 0; k < size; k++) transposed[k * size + m] = image[m * size + k];
  return transposed;
}

/** Where a slice's pixels lie: all of SliceInput but its values. */
export type SliceGeometry = Pick<
  SliceInput,
  'rows' | 'columns' | 'pixelSpacing' | 'imageOrientationPatient'
>;

/**
 * The inverse of the geometry preprocessSlice applies: a size × size model-grid map (a Grad-CAM or
 * saliency map) on the slice's own stored pixel grid, rows × columns, row by row. Each stored pixel
 * takes the map bilinearly at its centre's place on the model grid, through the same orientation and
 * field of view; pixels outside the field of view get 0.
 */
export function modelGridToImage(
  map: Float32Array,
  geometry: SliceGeometry,
  spec: PreprocessingSpec = DEFAULT_PREPROCESSING
): Float32Array {
  validateSpec(spec);
  const { size, fieldOfViewMm } = spec;
  if (map.length !== size * size) {
    throw new RangeError(`Map has ${map.length} values, expected ${size}×${size}`);
  }
  const { rows, columns, pixelSpacing } = geometry;
  const outputSpacingMm = fieldOfViewMm / size;
  const orientation = axialGridOrientation(geometry.imageOrientationPatient);
  const rowPlaces = modelGridPlaces(
    rows,
    pixelSpacing[0],
    size,
    outputSpacingMm,
    orientation.reverseRows
  );
  const columnPlaces = modelGridPlaces(
    columns,
    pixelSpacing[1],
    size,
    outputSpacingMm,
    orientation.reverseColumns
  );
  const image = new Float32Array(rows * columns);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) {
      // The model grid's rows run along the stored columns when the acquisition is transposed.
      image[i * columns + j] = orientation.transposed
        ? bilinear(map, size, columnPlaces[j], rowPlaces[i])
        : bilinear(map, size, rowPlaces[i], columnPlaces[j]);
    }
  }
  return image;
}

/**
 * Where each stored pixel's centre lies along one axis of the model grid, in model pixel indices
 * (axisWeights read backwards: model pixel k is centred on input position
 * inputCount / 2 + (k − size / 2 + ½) · scale).
 */
function modelGridPlaces(
  inputCount: number,
  inputSpacing: number,
  size: number,
  outputSpacing: number,
  reverse: boolean
): Float64Array {
  const scale = outputSpacing / inputSpacing;
  const places = new Float64Array(inputCount);
  for (let j = 0; j < inputCount; j++) {
    const place = (j + 0.5 - inputCount / 2) / scale + size / 2 - 0.5;
    places[j] = reverse ? size - 1 - place : place;
  }
  return places;
}

/** The map at a fractional (row, column), clamped at the edge pixels; 0 beyond the grid's edges. */
function bilinear(map: Float32Array, size: number, row: number, column: number): number {
  if (row < -0.5 || row > size - 0.5 || column < -0.5 || column > size - 0.5) return 0;
  const r = Math.min(Math.max(row, 0), size - 1);
  const c = Math.min(Math.max(column, 0), size - 1);
  const r0 = Math.floor(r);
  const c0 = Math.floor(c);
  const r1 = Math.min(r0 + 1, size - 1);
  const c1 = Math.min(c0 + 1, size - 1);
  const fr = r - r0;
  const fc = c - c0;
  const top = map[r0 * size + c0] * (1 - fc) + map[r0 * size + c1] * fc;
  const bottom = map[r1 * size + c0] * (1 - fc) + map[r1 * size + c1] * fc;
  return top * (1 - fr) + bottom * fr;
}

/** Resamples the stored grid onto the model grid (before any transposition), applying slope and intercept. */
function onModelGrid(input: SliceInput, spec: PreprocessingSpec, slope: number, intercept: number) {
  const { size, fieldOfViewMm } = spec;
  const outputSpacingMm = fieldOfViewMm / size;
  const orientation = axialGridOrientation(input.imageOrientationPatient);
  const rowWeights = axisWeights(
    input.rows,
    input.pixelSpacing[0],
    size,
    outputSpacingMm,
    orientation.reverseRows
  );
  const columnWeights = axisWeights(
    input.columns,
    input.pixelSpacing[1],
    size,
    outputSpacingMm,
    orientation.reverseColumns
  );
  const image = resample(input.pixels, input.columns, rowWeights, columnWeights, slope, intercept);
  return { image, rowWeights, columnWeights, orientation, outputSpacingMm };
}

/**
 * How to show an axial slice as radiologists do (rows anterior→posterior, columns patient
 * right→left: row direction +x, column direction +y in LPS) by reversing or transposing the
 * stored grid. Slices that are not axial, and missing or malformed orientations, stay as stored.
 */
export function axialGridOrientation(orientation: ArrayLike<number> | undefined): GridOrientation {
  if (!orientation || classifyPlane(orientation) !== 'axial') return UNCHANGED;
  const [rx, ry, , cx, cy] = Array.from(orientation, Number);
  if (Math.abs(rx) + Math.abs(cy) >= Math.abs(ry) + Math.abs(cx)) {
    return { transposed: false, reverseRows: cy < 0, reverseColumns: rx < 0 };
  }
  // Stored columns advance along y and become the display's rows; stored rows advance along x.
  return { transposed: true, reverseRows: cx < 0, reverseColumns: ry < 0 };
}

/** A short stable name of the spec and algorithm for the model card. */
export function preprocessingFingerprint(spec: PreprocessingSpec = DEFAULT_PREPROCESSING): string {
  validateSpec(spec);
  const [low, high] = spec.percentiles;
  const threshold = spec.headThreshold ?? DEFAULT_HEAD_THRESHOLD;
  return `pre${PREPROCESSING_VERSION}-${spec.size}px-${spec.fieldOfViewMm}mm-p${low}-${high}-h${threshold}`;
}

function validateSpec({ size, fieldOfViewMm, percentiles, headThreshold }: PreprocessingSpec) {
  if (!isPositiveInteger(size)) throw new RangeError(`Invalid size ${size}`);
  if (!Number.isFinite(fieldOfViewMm) || fieldOfViewMm <= 0) {
    throw new RangeError(`Invalid field of view ${fieldOfViewMm}`);
  }
  const [low, high] = percentiles;
  if (!(low >= 0 && low < high && high <= 100)) {
    throw new RangeError(`Invalid percentiles ${low}, ${high}`);
  }
  if (headThreshold !== undefined && !(headThreshold >= 0 && headThreshold < 1)) {
    throw new RangeError(`Invalid head threshold ${headThreshold}`);
  }
}

function isPositiveInteger(value: number): boolean {
  return Number.isInteger(value) && value > 0;
}

/**
 * Weights that take one axis of the stored grid to the output grid. Output pixel k (of `stride`
 * taps) reads input pixels first[k] .. first[k] + count[k] - 1; outside the image counts as 0.
 */
interface AxisWeights {
  first: Int32Array;
  count: Int32Array;
  weights: Float64Array;
  stride: number;
  /** Sum of each output pixel's weights: the fraction of it inside the image. */
  coverage: Float64Array;
}

/**
 * Exact area-weighted resampling where an output pixel is at least an input pixel wide, linear
 * interpolation where it is narrower; both give the same weights at equal spacing. Both grids are
 * centred on each other. In input pixel units, input pixel j spans [j, j + 1).
 */
function axisWeights(
  inputCount: number,
  inputSpacing: number,
  size: number,
  outputSpacing: number,
  reverse: boolean
): AxisWeights {
  const scale = outputSpacing / inputSpacing;
  const stride = Math.ceil(scale) + 2;
  const first = new Int32Array(size);
  const count = new Int32Array(size);
  const weights = new Float64Array(size * stride);
  const coverage = new Float64Array(size);
  for (let k = 0; k < size; k++) {
    // A reversed axis reads the mirror image of the output position.
    const start = inputCount / 2 + ((reverse ? size - 1 - k : k) - size / 2) * scale;
    const base = k * stride;
    if (scale >= 1) {
      const end = start + scale;
      const from = Math.max(0, Math.floor(start));
      const to = Math.min(inputCount, Math.ceil(end));
      first[k] = from;
      count[k] = Math.max(0, to - from);
      for (let j = from; j < to; j++) {
        const weight = Math.max(0, Math.min(j + 1, end) - Math.max(j, start)) / scale;
        weights[base + j - from] = weight;
        coverage[k] += weight;
      }
    } else {
      // Position of the output pixel's centre, in input pixel centres.
      const centre = start + scale / 2 - 0.5;
      if (centre < -0.5 || centre > inputCount - 0.5) continue;
      const left = Math.floor(centre);
      coverage[k] = 1;
      if (left < 0 || left >= inputCount - 1) {
        first[k] = Math.min(Math.max(left, 0), inputCount - 1);
        count[k] = 1;
        weights[base] = 1;
      } else {
        first[k] = left;
        count[k] = 2;
        weights[base] = 1 - (centre - left);
        weights[base + 1] = centre - left;
      }
    }
  }
  return { first, count, weights, stride, coverage };
}

/**
 * Separable resampling of the stored grid, then the modality LUT (linear, so it commutes with
 * resampling; the image's outside stays 0). Result: [output row-axis index][output column-axis
 * index], before any transposition. Each output row first sums a few whole stored rows into one
 * line (a contiguous loop that reads every needed pixel once), then resamples that line.
 */
function resample(
  pixels: ArrayLike<number>,
  columns: number,
  rowWeights: AxisWeights,
  columnWeights: AxisWeights,
  slope: number,
  intercept: number
): Float32Array {
  const size = rowWeights.first.length;
  const { first: rFirst, count: rCount, weights: rWeights, stride: rStride } = rowWeights;
  const { first: cFirst, count: cCount, weights: cWeights, stride: cStride } = columnWeights;
  let from = columns;
  let to = 0;
  for (let k = 0; k < size; k++) {
    if (cCount[k] === 0) continue;
    from = Math.min(from, cFirst[k]);
    to = Math.max(to, cFirst[k] + cCount[k]);
  }
  const image = new Float32Array(size * size);
  const line = new Float64Array(columns);
  for (let m = 0; m < size; m++) {
    const rowTaps = rCount[m];
    if (rowTaps === 0) continue;
    line.fill(0);
    for (let t = 0; t < rowTaps; t++) {
      const weight = rWeights[m * rStride + t];
      const offset = (rFirst[m] + t) * columns;
      for (let j = from; j < to; j++) line[j] += weight * pixels[offset + j];
    }
    const rowIntercept = intercept * rowWeights.coverage[m];
    for (let k = 0; k < size; k++) {
      // Hoisted: reading the count in the loop condition is measurably slower.
      const taps = cCount[k];
      const source = cFirst[k];
      const base = k * cStride;
      let sum = 0;
      for (let t = 0; t < taps; t++) sum += cWeights[base + t] * line[source + t];
      image[m * size + k] = slope * sum + rowIntercept * columnWeights.coverage[k];
    }
  }
  return image;
}

interface IntensityStats {
  window: [number, number];
  headCount: number;
}

/**
 * The head is every pixel inside the image above a threshold between the slice's 1st and 99.9th
 * percentiles (99.9th, so that a small head at the vertex still sets it); its low..high percentiles become 0..1. Every step is affine-covariant, so gain and
 * offset do not change the tensor. Null where there is no contrast.
 */
function intensityWindow(
  image: Float32Array,
  rowCoverage: Float64Array,
  columnCoverage: Float64Array,
  spec: PreprocessingSpec
): IntensityStats | null {
  const size = rowCoverage.length;
  const inside = new Float32Array(size * size);
  let count = 0;
  for (let m = 0; m < size; m++) {
    if (rowCoverage[m] < FULL_COVERAGE) continue;
    for (let k = 0; k < size; k++) {
      const value = image[m * size + k];
      if (columnCoverage[k] >= FULL_COVERAGE && Number.isFinite(value)) inside[count++] = value;
    }
  }
  if (count === 0) return null;
  const background = percentile(inside, count, SLICE_PERCENTILES[0]);
  const bright = percentile(inside, count, SLICE_PERCENTILES[1]);
  if (!(bright > background)) return null;
  const threshold =
    background + (spec.headThreshold ?? DEFAULT_HEAD_THRESHOLD) * (bright - background);

  const head = new Float32Array(count);
  let headCount = 0;
  for (let index = 0; index < count; index++) {
    if (inside[index] > threshold) head[headCount++] = inside[index];
  }
  if (headCount === 0) return null;
  const low = percentile(head, headCount, spec.percentiles[0]);
  const high = percentile(head, headCount, spec.percentiles[1]);
  if (!(high > low)) return null;
  return { window: [low, high], headCount };
}

/**
 * Percentile p of values[0..count), interpolated between neighbouring order statistics like
 * NumPy's default. Reorders the values; selection, as sorting 16k floats would take longer than
 * all the rest.
 */
function percentile(values: Float32Array, count: number, p: number): number {
  const position = ((count - 1) * p) / 100;
  const below = Math.floor(position);
  const value = select(values, count, below);
  if (below + 1 >= count || position === below) return value;
  // Everything after the selected index is at least as large; the next order statistic is the least.
  let next = Infinity;
  for (let index = below + 1; index < count; index++) next = Math.min(next, values[index]);
  return value + (next - value) * (position - below);
}

/**
 * The k-th smallest of values[0..count) (Wirth's selection with a median-of-three pivot), which
 * leaves smaller values before index k and larger ones after it.
 */
function select(values: Float32Array, count: number, k: number): number {
  let left = 0;
  let right = count - 1;
  for (let rounds = 0; left < right; rounds++) {
    if (rounds > 64) {
      // Pathological input: sorting the rest is still correct.
      values.subarray(left, right + 1).sort();
      break;
    }
    const pivot = medianOfThree(values[left], values[(left + right) >>> 1], values[right]);
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (pivot < values[j]) j--;
      if (i <= j) {
        const swap = values[i];
        values[i++] = values[j];
        values[j--] = swap;
      }
    }
    if (j < k) left = i;
    if (k < i) right = j;
  }
  return values[k];
}

function medianOfThree(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}
