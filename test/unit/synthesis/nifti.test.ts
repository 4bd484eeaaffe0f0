import { gunzipSync } from 'node:zlib';
import { NiftiError, readNifti, writeNifti } from '../../../models/pipeline/synthesis/nifti';
import { Random } from '../../../models/pipeline/synthesis/random';
import type { Volume } from '../../../models/pipeline/synthesis/types';

type SetVoxel = (view: DataView, offset: number, value: number, littleEndian: boolean) => void;

/** Bytes per voxel and setter of each NIfTI datatype code. */
const VOXEL_SETTERS: Record<number, [number, SetVoxel]> = {
  2: [1, (view, offset, value) => view.setUint8(offset, value)],
  4: [2, (view, offset, value, le) => view.setInt16(offset, value, le)],
  8: [4, (view, offset, value, le) => view.setInt32(offset, value, le)],
  16: [4, (view, offset, value, le) => view.setFloat32(offset, value, le)],
  64: [8, (view, offset, value, le) => view.setFloat64(offset, value, le)],
  256: [1, (view, offset, value) => view.setInt8(offset, value)],
  512: [2, (view, offset, value, le) => view.setUint16(offset, value, le)],
  768: [4, (view, offset, value, le) => view.setUint32(offset, value, le)],
};

interface HandMadeOptions {
  littleEndian?: boolean;
  /** dim[0], dim[1], …; defaults to a 3D row of all voxels. */
  dim?: number[];
  datatype?: number;
  voxels?: number[];
  /** pixdim[0] (qfac) to pixdim[3]. */
  pixdim?: number[];
  scale?: { slope: number; inter: number };
  qform?: { quaternion: number[]; offset: number[] };
  /** srow_x, srow_y, srow_z. */
  sform?: number[];
  magic?: string;
}

/** A .nii written field by field, independently of writeNifti. */
function handMadeNifti(options: HandMadeOptions): Uint8Array {
  const { littleEndian = true, datatype = 16, voxels = [0], pixdim = [1, 1, 1, 1] } = options;
  const [voxelBytes, setVoxel] = VOXEL_SETTERS[datatype];
  const file = new Uint8Array(352 + voxels.length * voxelBytes);
  const view = new DataView(file.buffer);
  const int16 = (offset: number, value: number) => view.setInt16(offset, value, littleEndian);
  const float32s = (offset: number, values: number[]) =>
    values.forEach((value, n) => view.setFloat32(offset + 4 * n, value, littleEndian));
  view.setInt32(0, 348, littleEndian);
  (options.dim ?? [3, voxels.length, 1, 1]).forEach((size, n) => int16(40 + 2 * n, size));
  int16(70, datatype);
  int16(72, voxelBytes * 8);
  float32s(76, pixdim);
  float32s(108, [352]);
  if (options.scale) float32s(112, [options.scale.slope, options.scale.inter]);
  if (options.qform) {
    int16(252, 1);
    float32s(256, [...options.qform.quaternion, ...options.qform.offset]);
  }
  if (options.sform) {
    int16(254, 2);
    float32s(280, options.sform);
  }
  file.set(
    Array.from(options.magic ?? 'n+1', char => char.charCodeAt(0)),
    344
  );
  voxels.forEach((value, i) => setVoxel(view, 352 + i * voxelBytes, value, littleEndian));
  return file;
}

function expectAffineClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(16);
  actual.forEach((value, n) => expect(value).toBeCloseTo(expected[n], 5));
}

/** 30° about z, spacing 0.5 × 0.75 × 2 mm, with a translation. */
// prettier-ignore
const OBLIQUE_AFFINE = [
  0.5 * Math.cos(Math.PI / 6), -0.75 * Math.sin(Math.PI / 6), 0, -90,
  0.5 * Math.sin(Math.PI / 6), 0.75 * Math.cos(Math.PI / 6), 0, 110.5,
  0, 0, 2, -72,
  0, 0, 0, 1,
];

function sampleVolume<T extends Float32Array | Uint8Array | Int16Array | Uint16Array>(
  data: T
): Volume<T> {
  return { dims: [2, 3, 4], affine: OBLIQUE_AFFINE, data };
}

describe('writeNifti → readNifti', () => {
  test.each([
    ['Float32Array', Float32Array.from({ length: 24 }, (_, i) => (i - 7) * 1.125e3 + 0.1)],
    ['Uint8Array', Uint8Array.from({ length: 24 }, (_, i) => i * 11)],
    ['Int16Array', Int16Array.from({ length: 24 }, (_, i) => (i - 12) * 2730)],
    ['Uint16Array', Uint16Array.from({ length: 24 }, (_, i) => i * 2849)],
  ])('round-trips a %s volume', (_name, data) => {
    const read = readNifti(writeNifti(sampleVolume(data)));
    expect(read.dims).toEqual([2, 3, 4]);
    expectAffineClose(read.affine, OBLIQUE_AFFINE);
    expect(read.data).toEqual(Float32Array.from(data));
  });

  test('keeps the extremes of each integer type', () => {
    const data = Int16Array.from([-32768, 32767, 0, -1, 1, 2, 3, 4]);
    const volume: Volume<Int16Array> = { dims: [2, 2, 2], affine: OBLIQUE_AFFINE, data };
    expect(Array.from(readNifti(writeNifti(volume)).data)).toEqual(Array.from(data));
  });

  test('gzips by default and writes plain .nii on request, both readable', () => {
    const volume = sampleVolume(Uint16Array.from({ length: 24 }, (_, i) => i));
    const gzipped = writeNifti(volume);
    const plain = writeNifti(volume, { gzip: false });
    expect([gzipped[0], gzipped[1]]).toEqual([0x1f, 0x8b]);
    expect(plain).toHaveLength(352 + 24 * 2);
    expect(new Uint8Array(gunzipSync(gzipped))).toEqual(plain);
    expect(readNifti(plain)).toEqual(readNifti(gzipped));
  });

  test('writes a little-endian n+1 header with sform, pixdim from the affine and datatype', () => {
    const plain = writeNifti(sampleVolume(new Int16Array(24)), { gzip: false });
    const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
    const int16 = (offset: number) => view.getInt16(offset, true);
    const float32 = (offset: number) => view.getFloat32(offset, true);
    expect(view.getInt32(0, true)).toBe(348);
    expect([0, 1, 2, 3, 4].map(n => int16(40 + 2 * n))).toEqual([3, 2, 3, 4, 1]);
    expect([int16(70), int16(72)]).toEqual([4, 16]);
    [1, 0.5, 0.75, 2].forEach((value, n) => expect(float32(76 + 4 * n)).toBeCloseTo(value, 6));
    expect(float32(108)).toBe(352);
    expect([int16(252), int16(254)]).toEqual([0, 1]);
    expect(String.fromCharCode(...plain.subarray(344, 348))).toBe('n+1\0');
  });

  test('gives identical bytes for identical input', () => {
    const volume = sampleVolume(Float32Array.from({ length: 24 }, (_, i) => Math.sqrt(i)));
    expect(writeNifti(volume)).toEqual(writeNifti(structuredClone(volume)));
  });

  test('rejects data that does not fill the dimensions', () => {
    const volume = { dims: [2, 3, 4] as [number, number, number], affine: OBLIQUE_AFFINE };
    expect(() => writeNifti({ ...volume, data: new Uint8Array(23) })).toThrow(RangeError);
  });
});

describe('readNifti', () => {
  test('reads a big-endian int16 file with a qform and scl_slope/scl_inter', () => {
    const file = handMadeNifti({
      littleEndian: false,
      datatype: 4,
      dim: [3, 2, 2, 1],
      voxels: [-32768, -5, 0, 300],
      pixdim: [1, 2, 3, 4],
      scale: { slope: 2, inter: 10 },
      // 90° about z: (b, c, d) = (0, 0, sin 45°).
      qform: { quaternion: [0, 0, Math.SQRT1_2], offset: [10, -20, 30] },
    });
    const volume = readNifti(file);
    expect(volume.dims).toEqual([2, 2, 1]);
    expectAffineClose(volume.affine, [0, -3, 0, 10, 2, 0, 0, -20, 0, 0, 4, 30, 0, 0, 0, 1]);
    expect(Array.from(volume.data)).toEqual([-65526, 0, 10, 610]);
  });

  test.each([
    [-1, -4],
    [0, 4],
    [1, 4],
  ])('takes qfac %p from pixdim[0] (0 as 1)', (qfac, zColumn) => {
    const file = handMadeNifti({
      pixdim: [qfac, 2, 3, 4],
      qform: { quaternion: [0, 0, 0], offset: [1, 2, 3] },
    });
    expectAffineClose(readNifti(file).affine, [
      2,
      0,
      0,
      1,
      0,
      3,
      0,
      2,
      0,
      0,
      zColumn,
      3,
      0,
      0,
      0,
      1,
    ]);
  });

  test('handles a 180° quaternion, where a is 0', () => {
    const file = handMadeNifti({ qform: { quaternion: [1, 0, 0], offset: [0, 0, 0] } });
    expectAffineClose(readNifti(file).affine, [1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1]);
  });

  test('prefers the sform to the qform', () => {
    const sform = [-1, 0, 0, 90, 0, 0, 1.5, -126, 0, -2, 0, 72];
    const file = handMadeNifti({
      sform,
      qform: { quaternion: [0, 0, Math.SQRT1_2], offset: [10, -20, 30] },
    });
    expectAffineClose(readNifti(file).affine, [...sform, 0, 0, 0, 1]);
  });

  test('falls back to diag(pixdim) without sform or qform', () => {
    const file = handMadeNifti({ pixdim: [1, 0.5, 0.75, 3] });
    expect(readNifti(file).affine).toEqual([0.5, 0, 0, 0, 0, 0.75, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1]);
  });

  test.each([
    [2, [0, 7, 255]],
    [4, [-32768, -1, 32767]],
    [8, [-2147483648, -1, 16777216]],
    [16, [-1.5, 0, 3.25e7]],
    [64, [-0.125, 1e-3, 1e30]],
    [256, [-128, -1, 127]],
    [512, [0, 1, 65535]],
    [768, [0, 1, 4000000000]],
  ])('reads datatype %i', (datatype, voxels) => {
    for (const littleEndian of [true, false]) {
      const volume = readNifti(handMadeNifti({ datatype, voxels, littleEndian }));
      expect(volume.data).toEqual(Float32Array.from(voxels));
    }
  });

  test('accepts a 4D image holding one volume', () => {
    const volume = readNifti(handMadeNifti({ dim: [4, 1, 2, 1, 1], voxels: [5, 6] }));
    expect(volume.dims).toEqual([1, 2, 1]);
  });

  test('reads a file that sits at an offset inside a larger buffer', () => {
    const file = handMadeNifti({ voxels: [1, 2, 3] });
    const larger = new Uint8Array(file.length + 7);
    larger.set(file, 3);
    expect(Array.from(readNifti(larger.subarray(3, 3 + file.length)).data)).toEqual([1, 2, 3]);
  });

  const random = new Random('nifti');
  const withDatatype = (file: Uint8Array, datatype: number) => {
    new DataView(file.buffer).setInt16(70, datatype, true);
    return file;
  };
  test.each([
    [
      'random bytes',
      Uint8Array.from({ length: 600 }, () => random.integer(0, 255)),
      /^not a NIfTI-1 file/,
    ],
    ['a short file', new Uint8Array(100), /^not a NIfTI-1 file/],
    ['a corrupt gzip stream', Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), /corrupt gzip/],
    ['a 2D image', handMadeNifti({ dim: [2, 2, 2], voxels: [1, 2, 3, 4] }), /^a 2D image/],
    [
      'a 4D image with 3 volumes',
      handMadeNifti({ dim: [4, 1, 1, 1, 3], voxels: [1, 2, 3] }),
      /^a 4D image with 3 volumes/,
    ],
    [
      'an RGB image',
      withDatatype(handMadeNifti({ datatype: 2, voxels: [1] }), 128),
      /^unsupported datatype 128$/,
    ],
    ['a truncated file', handMadeNifti({ voxels: [1, 2, 3] }).subarray(0, 360), /^truncated/],
    ['a .hdr of a pair', handMadeNifti({ magic: 'ni1' }), /single-file/],
    ['an Analyze header', handMadeNifti({ magic: '\0\0\0' }), /magic/],
  ])('rejects %s with a NiftiError', (_name, bytes, message) => {
    expect(() => readNifti(bytes)).toThrow(NiftiError);
    expect(() => readNifti(bytes)).toThrow(message);
  });
});
