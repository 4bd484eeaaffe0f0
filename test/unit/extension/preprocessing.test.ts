import {
  DEFAULT_PREPROCESSING,
  modelGridToImage,
  resampleToModelGrid,
  SliceInput,
  UPPER_CLIP,
  axialGridOrientation,
  preprocessSlice,
  preprocessSliceWithInfo,
  preprocessingFingerprint,
} from '../../../extension/src/core/preprocessing';

const SIZE = DEFAULT_PREPROCESSING.size;
const OUTPUT_SPACING = DEFAULT_PREPROCESSING.fieldOfViewMm / SIZE;

/**
 * A synthetic T2-like axial head in LPS mm from the image centre (x patient left, y posterior):
 * a bright scalp ring, cortex, white matter, bright ventricles, a tuber in the left frontal lobe
 * and a gentle bias field, so that left/right and front/back differ.
 */
function headValue(x: number, y: number): number {
  const hypot = (a: number, b: number) => Math.sqrt(a * a + b * b); // Math.hypot is slow
  const radius = hypot((x - 3) / 70, (y + 2) / 85);
  if (radius > 1) return 20;
  const bias = 1 + 0.002 * x - 0.001 * y;
  if (radius > 0.93) return 1800 * bias;
  if (hypot((x - 30) / 8, (y + 40) / 8) < 1) return 1500 * bias;
  if (hypot((x + 12) / 6, (y + 5) / 20) < 1 || hypot((x - 14) / 6, (y + 3) / 18) < 1) {
    return 2500 * bias;
  }
  return (radius > 0.82 ? 1100 : 850) * bias;
}

/** The head area-sampled (4×4 per pixel) on a grid centred on it, as 12-bit stored values. */
function rasterise(rows: number, columns: number, pixelSpacing: [number, number]): SliceInput {
  const pixels = new Uint16Array(rows * columns);
  const [rowSpacing, columnSpacing] = pixelSpacing;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) {
      let sum = 0;
      for (let a = 0; a < 4; a++) {
        for (let b = 0; b < 4; b++) {
          const y = (i + (a + 0.5) / 4 - rows / 2) * rowSpacing;
          const x = (j + (b + 0.5) / 4 - columns / 2) * columnSpacing;
          sum += headValue(x, y);
        }
      }
      pixels[i * columns + j] = Math.round(sum / 16);
    }
  }
  return { pixels, rows, columns, pixelSpacing };
}

function meanAbsoluteDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let index = 0; index < a.length; index++) sum += Math.abs(a[index] - b[index]);
  return sum / a.length;
}

function maxAbsoluteDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let index = 0; index < a.length; index++) max = Math.max(max, Math.abs(a[index] - b[index]));
  return max;
}

/**
 * The slice as a scanner would store it under another in-plane orientation. Transposed: stored
 * rows are display columns (advancing along ±x) and stored columns are display rows (along ±y).
 */
function reorient(
  slice: SliceInput,
  transposed: boolean,
  reverseRows: boolean,
  reverseColumns: boolean
): SliceInput {
  const { rows, columns, pixels, pixelSpacing } = slice;
  const storedRows = transposed ? columns : rows;
  const storedColumns = transposed ? rows : columns;
  const stored = new Float32Array(rows * columns);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) {
      let storedRow = transposed ? j : i;
      let storedColumn = transposed ? i : j;
      if (reverseRows) storedRow = storedRows - 1 - storedRow;
      if (reverseColumns) storedColumn = storedColumns - 1 - storedColumn;
      stored[storedRow * storedColumns + storedColumn] = pixels[i * columns + j];
    }
  }
  const rowSign = reverseColumns ? -1 : 1;
  const columnSign = reverseRows ? -1 : 1;
  return {
    pixels: stored,
    rows: storedRows,
    columns: storedColumns,
    pixelSpacing: transposed ? [pixelSpacing[1], pixelSpacing[0]] : pixelSpacing,
    imageOrientationPatient: transposed
      ? [0, rowSign, 0, columnSign, 0, 0]
      : [rowSign, 0, 0, 0, columnSign, 0],
  };
}

function flipColumns(tensor: Float32Array, size = SIZE): Float32Array {
  const flipped = new Float32Array(tensor.length);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) flipped[i * size + j] = tensor[i * size + size - 1 - j];
  }
  return flipped;
}

function transpose(tensor: Float32Array, size = SIZE): Float32Array {
  const transposed = new Float32Array(tensor.length);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) transposed[j * size + i] = tensor[i * size + j];
  }
  return transposed;
}

/** The output pixel at LPS (x, y) mm from the image centre. */
function at(tensor: Float32Array, x: number, y: number): number {
  const row = Math.floor(SIZE / 2 + y / OUTPUT_SPACING);
  const column = Math.floor(SIZE / 2 + x / OUTPUT_SPACING);
  return tensor[row * SIZE + column];
}

const standard = rasterise(256, 256, [0.9, 0.9]);
const fine = rasterise(512, 512, [0.45, 0.45]);
const coarse = rasterise(200, 200, [1.2, 1.2]);
const reference = preprocessSlice(standard);

describe('preprocessSlice', () => {
  test('gives a size × size tensor with the background 0 and the head spanning 0..1', () => {
    const { tensor, headFraction, outputSpacingMm } = preprocessSliceWithInfo(standard);
    expect(tensor).toBeInstanceOf(Float32Array);
    expect(tensor.length).toBe(128 * 128);
    expect(outputSpacingMm).toBe(1.875);
    expect(Math.min(...tensor)).toBe(0);
    expect(UPPER_CLIP).toBe(1.5);
    expect(tensor.every(value => Number.isFinite(value) && value >= 0 && value <= 1.5)).toBe(true);
    // 99.5% of the head is at most 1; the brightest 0.5% (the ventricles' core) above it.
    const head = tensor.filter(value => value > 0);
    const aboveOne = head.filter(value => value > 1).length / head.length;
    expect(aboveOne).toBeGreaterThan(0);
    expect(aboveOne).toBeLessThan(0.01);
    // Corners: background inside the image and the empty margin outside it.
    expect(tensor[0]).toBe(0);
    expect(tensor[128 * 128 - 1]).toBe(0);
    expect(at(tensor, -40, 30)).toBeGreaterThan(0);
    // The head ellipse (70 × 85 mm semi-axes) covers π·70·85 / 240² of the field of view.
    expect(headFraction).toBeCloseTo((Math.PI * 70 * 85) / 240 ** 2, 1);
  });

  test('applies the rescale slope and intercept before anything else', () => {
    const stored = new Uint16Array(standard.pixels.length);
    const rescaled = new Float32Array(standard.pixels.length);
    for (let index = 0; index < stored.length; index++) {
      stored[index] = standard.pixels[index];
      rescaled[index] = 2 * standard.pixels[index] - 100;
    }
    const withLut = preprocessSliceWithInfo({
      ...standard,
      pixels: stored,
      rescaleSlope: 2,
      rescaleIntercept: -100,
    });
    const equivalent = preprocessSliceWithInfo({ ...standard, pixels: rescaled });
    expect(maxAbsoluteDifference(withLut.tensor, equivalent.tensor)).toBeLessThan(1e-5);
    // The window is in rescaled units, so the LUT really was applied.
    const [low, high] = withLut.intensityWindow ?? [NaN, NaN];
    const [storedLow, storedHigh] = preprocessSliceWithInfo(standard).intensityWindow ?? [NaN, NaN];
    expect(low).toBeCloseTo(2 * storedLow - 100, 2);
    expect(high).toBeCloseTo(2 * storedHigh - 100, 2);
    expect(equivalent.intensityWindow?.[0]).toBeCloseTo(low, 2);
  });

  test('does not depend on the pixel spacing of the same head', () => {
    const fromFine = preprocessSlice(fine);
    const fromCoarse = preprocessSlice(coarse);
    expect(meanAbsoluteDifference(fromFine, reference)).toBeLessThan(0.03);
    expect(meanAbsoluteDifference(fromCoarse, reference)).toBeLessThan(0.03);
    expect(meanAbsoluteDifference(fromFine, fromCoarse)).toBeLessThan(0.03);
  });

  test('upsamples a coarse slice by interpolation to the same picture as a fine one', () => {
    const spec = { ...DEFAULT_PREPROCESSING, size: 256 };
    const fromFine = preprocessSlice(fine, spec);
    const fromCoarse = preprocessSlice(coarse, spec);
    expect(fromFine.length).toBe(256 * 256);
    expect(meanAbsoluteDifference(fromFine, fromCoarse)).toBeLessThan(0.03);
  });

  test('does not depend on gain and offset', () => {
    const scaled = Float32Array.from(standard.pixels, value => 3 * value + 50);
    const output = preprocessSlice({ ...standard, pixels: scaled });
    expect(maxAbsoluteDifference(output, reference)).toBeLessThan(1e-5);
  });

  test('shows a slice stored with reversed rows (row direction −x) radiologically', () => {
    const flipped = reorient(standard, false, false, true);
    expect(flipped.imageOrientationPatient).toEqual([-1, 0, 0, 0, 1, 0]);
    const output = preprocessSlice(flipped);
    expect(maxAbsoluteDifference(output, reference)).toBeLessThan(1e-5);
    // Without its orientation the same pixels come out mirrored.
    const asStored = preprocessSlice({ ...flipped, imageOrientationPatient: undefined });
    expect(maxAbsoluteDifference(asStored, flipColumns(reference))).toBeLessThan(1e-5);
  });

  test('shows a transposed acquisition radiologically', () => {
    const anisotropic = rasterise(240, 180, [0.9, 1.1]);
    const expected = preprocessSlice(anisotropic);
    const transposed = reorient(anisotropic, true, false, false);
    expect(transposed.imageOrientationPatient).toEqual([0, 1, 0, 1, 0, 0]);
    expect([transposed.rows, transposed.columns]).toEqual([180, 240]);
    expect(maxAbsoluteDifference(preprocessSlice(transposed), expected)).toBeLessThan(1e-5);
    const asStored = preprocessSlice({ ...transposed, imageOrientationPatient: undefined });
    expect(maxAbsoluteDifference(asStored, transpose(expected))).toBeLessThan(1e-5);
  });

  test.each([
    [false, true, false],
    [false, true, true],
    [true, true, false],
    [true, false, true],
    [true, true, true],
  ])(
    'shows every axial in-plane orientation alike (transposed %s, rows reversed %s, columns reversed %s)',
    (transposed, reverseRows, reverseColumns) => {
      const stored = reorient(standard, transposed, reverseRows, reverseColumns);
      expect(axialGridOrientation(stored.imageOrientationPatient)).toEqual({
        transposed,
        reverseRows,
        reverseColumns,
      });
      expect(maxAbsoluteDifference(preprocessSlice(stored), reference)).toBeLessThan(1e-5);
    }
  );

  test('puts the patient’s left on the right and the front at the top', () => {
    // The tuber is at x = +30 mm (left), y = −40 mm (anterior); the mirror position is plain brain.
    expect(at(reference, 30, -40)).toBeGreaterThan(at(reference, -30, -40) + 0.2);
    expect(at(reference, 30, -40)).toBeGreaterThan(at(reference, 30, 40) + 0.2);
    expect(Math.floor(SIZE / 2 + 30 / OUTPUT_SPACING)).toBeGreaterThan(SIZE / 2);
  });

  test('leaves slightly oblique axial slices in plane and other planes as stored', () => {
    const tilt = (10 * Math.PI) / 180;
    expect(axialGridOrientation([-Math.cos(tilt), 0, Math.sin(tilt), 0, 1, 0])).toEqual({
      transposed: false,
      reverseRows: false,
      reverseColumns: true,
    });
    const unchanged = { transposed: false, reverseRows: false, reverseColumns: false };
    expect(axialGridOrientation([1, 0, 0, 0, 0, -1])).toEqual(unchanged);
    expect(axialGridOrientation([0, 1, 0, 0, 0, -1])).toEqual(unchanged);
    expect(axialGridOrientation([1, 0, 0])).toEqual(unchanged);
    expect(axialGridOrientation(undefined)).toEqual(unchanged);
    const coronal = preprocessSlice({ ...standard, imageOrientationPatient: [-1, 0, 0, 0, 0, -1] });
    expect(maxAbsoluteDifference(coronal, reference)).toBe(0);
  });

  test.each([
    ['blank', 0],
    ['constant', 1000],
  ])('gives zeros for a %s slice', (_name, value) => {
    const blank = { ...standard, pixels: new Uint16Array(256 * 256).fill(value) };
    const result = preprocessSliceWithInfo(blank);
    expect(result.tensor.length).toBe(128 * 128);
    expect(result.tensor.every(pixel => pixel === 0)).toBe(true);
    expect(result.headFraction).toBe(0);
    expect(result.intensityWindow).toBeNull();
  });

  test('gives finite values for a slice with a single bright pixel or NaNs', () => {
    const pixels = new Float32Array(256 * 256);
    pixels[128 * 256 + 128] = 4095;
    pixels[3] = NaN;
    const tensor = preprocessSlice({ ...standard, pixels });
    expect(tensor.every(value => Number.isFinite(value) && value >= 0 && value <= 1.5)).toBe(true);
  });

  test('finds a small head at the vertex that covers well under 1% of the slice', () => {
    const pixels = new Uint16Array(256 * 256).fill(20);
    for (let i = 0; i < 256; i++) {
      for (let j = 0; j < 256; j++) {
        if ((i - 128) ** 2 + (j - 128) ** 2 < 8 ** 2)
          pixels[i * 256 + j] = 900 + ((i * 7 + j) % 50);
      }
    }
    const { tensor, headFraction } = preprocessSliceWithInfo({ ...standard, pixels });
    expect(headFraction).toBeGreaterThan(0.002);
    expect(headFraction).toBeLessThan(0.005);
    expect(at(tensor, 0, 0)).toBeGreaterThan(0.2);
    expect(at(tensor, 40, 40)).toBe(0);
  });

  test('handles non-square and anisotropic images', () => {
    const narrow = rasterise(256, 200, [0.9, 0.9]);
    expect(meanAbsoluteDifference(preprocessSlice(narrow), reference)).toBeLessThan(0.01);
    const anisotropic = rasterise(256, 160, [0.9, 1.25]);
    expect(meanAbsoluteDifference(preprocessSlice(anisotropic), reference)).toBeLessThan(0.03);
    const wide = rasterise(180, 256, [1.2, 0.9]);
    expect(meanAbsoluteDifference(preprocessSlice(wide), reference)).toBeLessThan(0.03);
  });

  test('is deterministic', () => {
    const identical = (a: Float32Array, b: Float32Array) =>
      a.length === b.length && a.every((value, index) => Object.is(value, b[index]));
    expect(identical(preprocessSlice(fine), preprocessSlice(fine))).toBe(true);
    expect(identical(preprocessSlice(standard), reference)).toBe(true);
  });

  test('rejects malformed input and specs', () => {
    expect(() => preprocessSlice({ ...standard, rows: 255 })).toThrow(RangeError);
    expect(() => preprocessSlice({ ...standard, pixelSpacing: [0, 0.9] })).toThrow(RangeError);
    expect(() => preprocessSlice({ ...standard, rescaleSlope: NaN })).toThrow(RangeError);
    expect(() => preprocessSlice(standard, { ...DEFAULT_PREPROCESSING, size: 0 })).toThrow(
      RangeError
    );
    expect(() =>
      preprocessSlice(standard, { ...DEFAULT_PREPROCESSING, percentiles: [99, 1] })
    ).toThrow(RangeError);
  });
});

describe('preprocessingFingerprint', () => {
  test('names the spec and the algorithm version, stably', () => {
    expect(preprocessingFingerprint(DEFAULT_PREPROCESSING)).toBe('pre1-128px-240mm-p1-99.5-h0.1');
    expect(preprocessingFingerprint()).toBe(preprocessingFingerprint(DEFAULT_PREPROCESSING));
    const withoutThreshold = { size: 128, fieldOfViewMm: 240, percentiles: [1, 99.5] as const };
    expect(preprocessingFingerprint(withoutThreshold)).toBe(
      preprocessingFingerprint(DEFAULT_PREPROCESSING)
    );
    expect(preprocessingFingerprint({ ...DEFAULT_PREPROCESSING, fieldOfViewMm: 220 })).toBe(
      'pre1-128px-220mm-p1-99.5-h0.1'
    );
  });

  test('keeps the default spec from being changed', () => {
    expect(Object.isFrozen(DEFAULT_PREPROCESSING)).toBe(true);
    expect(Object.isFrozen(DEFAULT_PREPROCESSING.percentiles)).toBe(true);
  });
});

describe('resampleToModelGrid', () => {
  it('keeps the area of a tuber mask and its place on the model grid', () => {
    const rows = 256;
    const spacing = 0.9;
    const mask = new Uint8Array(rows * rows);
    // A 12 mm radius disc centred 30 mm right of the image centre (toward higher column index).
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < rows; c++)
        if (Math.hypot((r - 127.5) * spacing, (c - 127.5) * spacing - 30) <= 12)
          mask[r * rows + c] = 1;
    const grid = resampleToModelGrid({
      pixels: mask,
      rows,
      columns: rows,
      pixelSpacing: [spacing, spacing],
    });
    const pixelArea = (DEFAULT_PREPROCESSING.fieldOfViewMm / DEFAULT_PREPROCESSING.size) ** 2;
    const area = grid.reduce((sum, fraction) => sum + fraction, 0) * pixelArea;
    expect(area).toBeCloseTo(Math.PI * 12 ** 2, -1);
    const size = DEFAULT_PREPROCESSING.size;
    const centreColumn = Math.round(
      size / 2 - 0.5 + 30 / (DEFAULT_PREPROCESSING.fieldOfViewMm / size)
    );
    expect(grid[(size / 2) * size + centreColumn]).toBe(1);
    expect(Math.max(...grid)).toBeLessThanOrEqual(1);
  });
});

describe('modelGridToImage', () => {
  const IDENTITY = {
    rows: SIZE,
    columns: SIZE,
    pixelSpacing: [OUTPUT_SPACING, OUTPUT_SPACING] as [number, number],
  };

  /** A disc in LPS mm from the image centre, stored radiologically (row direction +x, column +y). */
  function disc(rows: number, columns: number, pixelSpacing: [number, number]): SliceInput {
    const pixels = new Float32Array(rows * columns);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < columns; j++) {
        const x = (j + 0.5 - columns / 2) * pixelSpacing[1];
        const y = (i + 0.5 - rows / 2) * pixelSpacing[0];
        pixels[i * columns + j] = Math.hypot(x - 30, y + 40) <= 15 ? 1 : 0;
      }
    }
    return { pixels, rows, columns, pixelSpacing, imageOrientationPatient: AXIAL };
  }

  /** LPS mm from the image centre of stored pixel (i, j), through its orientation. */
  function patientPosition(slice: SliceInput, i: number, j: number): [number, number] {
    const [rx, ry, , cx, cy] = Array.from(slice.imageOrientationPatient ?? AXIAL);
    const along = (j + 0.5 - slice.columns / 2) * slice.pixelSpacing[1];
    const down = (i + 0.5 - slice.rows / 2) * slice.pixelSpacing[0];
    return [along * rx + down * cx, along * ry + down * cy];
  }

  function argmax(values: Float32Array): number {
    let best = 0;
    for (let index = 1; index < values.length; index++)
      if (values[index] > values[best]) best = index;
    return best;
  }

  const AXIAL = [1, 0, 0, 0, 1, 0];
  const orientations = [
    [false, false, false],
    [false, true, false],
    [false, false, true],
    [false, true, true],
    [true, false, false],
    [true, true, false],
    [true, false, true],
    [true, true, true],
  ] as const;

  test('is exact where the slice already is the model grid: a map comes back unchanged', () => {
    const map = Float32Array.from({ length: SIZE * SIZE }, (_, index) => (index * 7919) % 101);
    expect(modelGridToImage(map, IDENTITY)).toEqual(map);
    expect(resampleToModelGrid({ ...IDENTITY, pixels: map })).toEqual(map);
  });

  test.each(orientations)(
    'puts a model pixel back on the same place in the patient (transposed %s, rows reversed %s, columns reversed %s)',
    (transposed, reverseRows, reverseColumns) => {
      const stored = reorient(
        rasterise(240, 200, [0.9, 1.1]),
        transposed,
        reverseRows,
        reverseColumns
      );
      const map = new Float32Array(SIZE * SIZE);
      const [row, column] = [40, 90];
      map[row * SIZE + column] = 1;
      const onImage = modelGridToImage(map, stored);
      expect(onImage).toHaveLength(stored.rows * stored.columns);
      const peak = argmax(onImage);
      const [x, y] = patientPosition(
        stored,
        Math.floor(peak / stored.columns),
        peak % stored.columns
      );
      // Model column k lies at x = (k − size/2 + ½) · spacing (patient left), row m at y likewise.
      expect(Math.abs(x - (column - SIZE / 2 + 0.5) * OUTPUT_SPACING)).toBeLessThanOrEqual(1.1);
      expect(Math.abs(y - (row - SIZE / 2 + 0.5) * OUTPUT_SPACING)).toBeLessThanOrEqual(1.1);
    }
  );

  test.each(orientations)(
    'a mask taken to the model grid and back lines up with itself (transposed %s, rows reversed %s, columns reversed %s)',
    (transposed, reverseRows, reverseColumns) => {
      const stored = reorient(disc(240, 200, [0.9, 1.1]), transposed, reverseRows, reverseColumns);
      const back = modelGridToImage(resampleToModelGrid(stored), stored);
      let both = 0;
      let either = 0;
      const shift = [0, 0];
      for (let index = 0; index < back.length; index++) {
        const inMask = stored.pixels[index] === 1;
        const inBack = back[index] >= 0.5;
        if (inMask && inBack) both++;
        if (inMask || inBack) either++;
        const sign = (inBack ? 1 : 0) - (inMask ? 1 : 0);
        shift[0] += sign * Math.floor(index / stored.columns);
        shift[1] += sign * (index % stored.columns);
      }
      expect(both / either).toBeGreaterThan(0.85);
      // The centroids agree within a fraction of a stored pixel.
      const area = Array.from(stored.pixels).filter(value => value === 1).length;
      expect(Math.abs(shift[0] / area)).toBeLessThan(0.5);
      expect(Math.abs(shift[1] / area)).toBeLessThan(0.5);
    }
  );

  test('gives 0 outside the field of view and rejects a map of the wrong size', () => {
    const wide = { rows: 400, columns: 400, pixelSpacing: [0.9, 0.9] as [number, number] };
    const onImage = modelGridToImage(new Float32Array(SIZE * SIZE).fill(1), wide);
    expect(onImage[0]).toBe(0);
    expect(onImage[200 * 400 + 200]).toBe(1);
    expect(() => modelGridToImage(new Float32Array(10), wide)).toThrow(RangeError);
  });
});
