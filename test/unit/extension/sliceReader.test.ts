import { preprocessSlice } from '../../../extension/src/core/preprocessing';
import { readSlice, sliceLevel } from '../../../extension/src/sliceReader';
import { grayscaleImage, mockCornerstone } from './ohifMocks';

const INSTANCE = {
  SOPInstanceUID: '1.2.3.4',
  InstanceNumber: 7,
  PixelSpacing: [0.9, 1.1],
  ImageOrientationPatient: [-1, 0, 0, 0, 1, 0],
};

function head(rows: number, columns: number, transform = (value: number) => value) {
  const pixels = new Int16Array(rows * columns);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < columns; j++)
      pixels[i * columns + j] = transform(
        Math.hypot(i - rows / 2, j - columns / 3) < 20 ? 900 + ((i * 7 + j) % 40) : 10
      );
  return pixels;
}

test('reads the cached frame with its DICOM geometry and modality LUT', async () => {
  const image = grayscaleImage(head(64, 48), 64, 48, { slope: 2, intercept: -100 });
  const cornerstone = mockCornerstone(new Map([['img:1', image]]), { 'img:1': INSTANCE });

  const slice = await readSlice(cornerstone.libraries, 'img:1');

  expect(slice.identity).toEqual({ sopInstanceUID: '1.2.3.4', instanceNumber: 7 });
  expect(slice.input).toEqual({
    pixels: image.voxelManager.getScalarData(),
    rows: 64,
    columns: 48,
    pixelSpacing: [0.9, 1.1],
    rescaleSlope: 2,
    rescaleIntercept: -100,
    imageOrientationPatient: [-1, 0, 0, 0, 1, 0],
  });
  expect(cornerstone.loadAndCacheImage).not.toHaveBeenCalled();
});

test('pixels the loader already rescaled give the same model input as stored pixels', async () => {
  const stored = grayscaleImage(head(64, 48), 64, 48, { slope: 2, intercept: -100 });
  const rescaled = grayscaleImage(
    Float32Array.from(head(64, 48), value => 2 * value - 100),
    64,
    48,
    { slope: 2, intercept: -100, preScale: { scaled: true } }
  );
  const cache = new Map([
    ['stored', stored],
    ['rescaled', rescaled],
  ]);
  const cornerstone = mockCornerstone(cache, { stored: INSTANCE, rescaled: INSTANCE });

  const fromStored = await readSlice(cornerstone.libraries, 'stored');
  const fromRescaled = await readSlice(cornerstone.libraries, 'rescaled');

  expect(fromRescaled.input).toMatchObject({ rescaleSlope: 1, rescaleIntercept: 0 });
  expect(preprocessSlice(fromRescaled.input)).toEqual(preprocessSlice(fromStored.input));
});

test('loads a frame into the cache when no viewport has yet', async () => {
  const image = grayscaleImage(head(8, 8), 8, 8);
  const cache = new Map([['img:2', image]]);
  const cornerstone = mockCornerstone(cache, { 'img:2': INSTANCE });
  cornerstone.libraries.cornerstone.cache.getImage = () => undefined;

  await expect(readSlice(cornerstone.libraries, 'img:2')).resolves.toMatchObject({
    input: { rows: 8, columns: 8 },
  });
  expect(cornerstone.loadAndCacheImage).toHaveBeenCalledWith('img:2');
});

test('refuses colour images and images without a pixel spacing, saying why', async () => {
  const cache = new Map([
    ['colour', grayscaleImage(new Uint8Array(12), 2, 2, { color: true })],
    ['unspaced', grayscaleImage(new Uint8Array(4), 2, 2)],
  ]);
  const cornerstone = mockCornerstone(cache, {
    colour: INSTANCE,
    unspaced: { SOPInstanceUID: '9' },
  });

  await expect(readSlice(cornerstone.libraries, 'colour')).rejects.toThrow('colour image');
  await expect(readSlice(cornerstone.libraries, 'unspaced')).rejects.toThrow('no Pixel Spacing');
});

test("an image's height towards the top of the head comes from its metadata alone", () => {
  // Column direction −y: the slice normal points to the feet, and the height still grows upwards.
  const orientation = [1, 0, 0, 0, -1, 0];
  const cornerstone = mockCornerstone(new Map(), {
    low: { ...INSTANCE, ImageOrientationPatient: orientation, ImagePositionPatient: [0, 0, 10] },
    high: { ...INSTANCE, ImageOrientationPatient: orientation, ImagePositionPatient: [0, 0, 15] },
    unplaced: INSTANCE,
  });
  const low = sliceLevel(cornerstone.libraries, 'low')!;
  expect(sliceLevel(cornerstone.libraries, 'high')! - low).toBeCloseTo(5);
  expect(sliceLevel(cornerstone.libraries, 'unplaced')).toBeUndefined();
  expect(cornerstone.loadAndCacheImage).not.toHaveBeenCalled();
});
