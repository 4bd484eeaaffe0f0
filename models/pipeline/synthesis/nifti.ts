/** Reads and writes single-file NIfTI-1 (.nii, optionally gzipped) 3D volumes. */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Volume } from './types';

/** Why bytes could not be read as a 3D NIfTI-1 volume. */
export class NiftiError extends Error {
  override name = 'NiftiError';
}

export type WritableVoxelData = Float32Array | Uint8Array | Int16Array | Uint16Array;

const HEADER_BYTES = 348;
/** The header plus the 4-byte extension flag: where a single-file .nii puts its voxels. */
const VOXEL_OFFSET = 352;

type ReadVoxel = (view: DataView, offset: number, littleEndian: boolean) => number;
type WriteVoxel = (view: DataView, offset: number, value: number) => void;

const READABLE_TYPES: Record<number, { bytes: number; read: ReadVoxel }> = {
  2: { bytes: 1, read: (view, offset) => view.getUint8(offset) },
  4: { bytes: 2, read: (view, offset, le) => view.getInt16(offset, le) },
  8: { bytes: 4, read: (view, offset, le) => view.getInt32(offset, le) },
  16: { bytes: 4, read: (view, offset, le) => view.getFloat32(offset, le) },
  64: { bytes: 8, read: (view, offset, le) => view.getFloat64(offset, le) },
  256: { bytes: 1, read: (view, offset) => view.getInt8(offset) },
  512: { bytes: 2, read: (view, offset, le) => view.getUint16(offset, le) },
  768: { bytes: 4, read: (view, offset, le) => view.getUint32(offset, le) },
};

/** Keyed by toStringTag rather than constructor, so arrays from another realm (e.g. jest's) work. */
const WRITABLE_TYPES: Record<
  WritableVoxelData[typeof Symbol.toStringTag],
  { code: number; bytes: number; write: WriteVoxel }
> = {
  Float32Array: { code: 16, bytes: 4, write: (v, o, x) => v.setFloat32(o, x, true) },
  Uint8Array: { code: 2, bytes: 1, write: (v, o, x) => v.setUint8(o, x) },
  Int16Array: { code: 4, bytes: 2, write: (v, o, x) => v.setInt16(o, x, true) },
  Uint16Array: { code: 512, bytes: 2, write: (v, o, x) => v.setUint16(o, x, true) },
};

/** Reads a 3D volume as float32 with scl_slope/scl_inter applied; throws NiftiError on anything else. */
export function readNifti(bytes: Uint8Array): Volume<Float32Array> {
  const file = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzip(bytes) : bytes;
  if (file.length < HEADER_BYTES) {
    throw new NiftiError(`not a NIfTI-1 file: ${file.length} bytes is shorter than a header`);
  }
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const littleEndian = isLittleEndian(view);
  const int16 = (offset: number) => view.getInt16(offset, littleEndian);
  const float32 = (offset: number) => view.getFloat32(offset, littleEndian);
  checkMagic(file);
  const dims = readDims(int16);
  const datatype = int16(70);
  const type = READABLE_TYPES[datatype];
  if (!type) throw new NiftiError(`unsupported datatype ${datatype}`);
  const data = readVoxels(view, float32(108), dims, type, littleEndian);
  applyScaling(data, float32(112), float32(116));
  return { dims, affine: readAffine(int16, float32), data };
}

/** Writes little-endian NIfTI-1 with the affine as sform (code 1); gzipped unless gzip is false. */
export function writeNifti(
  volume: Volume<WritableVoxelData>,
  options: { gzip?: boolean } = {}
): Uint8Array {
  const { dims, data } = volume;
  const type = WRITABLE_TYPES[data[Symbol.toStringTag]];
  if (data.length !== dims[0] * dims[1] * dims[2]) {
    throw new RangeError(`writeNifti: ${data.length} voxels for dims ${dims.join('×')}`);
  }
  const file = new Uint8Array(VOXEL_OFFSET + data.length * type.bytes);
  const view = new DataView(file.buffer);
  writeHeader(view, volume, type.code, type.bytes * 8);
  for (let i = 0; i < data.length; i++) type.write(view, VOXEL_OFFSET + i * type.bytes, data[i]);
  if (options.gzip === false) return file;
  // Node's gzip header has mtime 0, so equal input gives equal bytes.
  const gzipped = gzipSync(file);
  return new Uint8Array(gzipped.buffer, gzipped.byteOffset, gzipped.byteLength);
}

function gunzip(bytes: Uint8Array): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (error) {
    throw new NiftiError(`not a NIfTI-1 file: corrupt gzip stream (${(error as Error).message})`);
  }
}

function isLittleEndian(view: DataView): boolean {
  if (view.getInt32(0, true) === HEADER_BYTES) return true;
  if (view.getInt32(0, false) === HEADER_BYTES) return false;
  throw new NiftiError('not a NIfTI-1 file: sizeof_hdr is not 348');
}

function checkMagic(file: Uint8Array): void {
  const magic = String.fromCharCode(...file.subarray(344, 347));
  if (magic === 'ni1') {
    throw new NiftiError('a NIfTI-1 .hdr/.img pair header; only single-file .nii is supported');
  }
  if (magic !== 'n+1') throw new NiftiError('not a NIfTI-1 file: magic is not "n+1"');
}

function readDims(int16: (offset: number) => number): [number, number, number] {
  const dim = (n: number) => int16(40 + 2 * n);
  if (dim(0) === 4 && dim(4) !== 1) {
    throw new NiftiError(`a 4D image with ${dim(4)} volumes; a single 3D volume is required`);
  }
  if (dim(0) !== 3 && dim(0) !== 4) {
    throw new NiftiError(`a ${dim(0)}D image; a 3D volume is required`);
  }
  const dims: [number, number, number] = [dim(1), dim(2), dim(3)];
  if (dims.some(size => size < 1)) throw new NiftiError(`invalid dimensions ${dims.join('×')}`);
  return dims;
}

function readVoxels(
  view: DataView,
  voxOffset: number,
  dims: [number, number, number],
  type: { bytes: number; read: ReadVoxel },
  littleEndian: boolean
): Float32Array {
  if (!Number.isInteger(voxOffset) || voxOffset < HEADER_BYTES) {
    throw new NiftiError(`invalid vox_offset ${voxOffset}`);
  }
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  const needed = voxOffset + data.length * type.bytes;
  if (needed > view.byteLength) {
    throw new NiftiError(`truncated: ${needed} bytes needed, ${view.byteLength} present`);
  }
  for (let i = 0; i < data.length; i++) {
    data[i] = type.read(view, voxOffset + i * type.bytes, littleEndian);
  }
  return data;
}

function applyScaling(data: Float32Array, slope: number, inter: number): void {
  if (!Number.isFinite(slope) || slope === 0 || (slope === 1 && inter === 0)) return;
  for (let i = 0; i < data.length; i++) data[i] = data[i] * slope + inter;
}

function readAffine(
  int16: (offset: number) => number,
  float32: (offset: number) => number
): number[] {
  const floats = (offset: number, count: number) =>
    Array.from({ length: count }, (_, n) => float32(offset + 4 * n));
  if (int16(254) > 0) return [...floats(280, 12), 0, 0, 0, 1];
  const [qfac, dx, dy, dz] = floats(76, 4);
  if (int16(252) > 0) {
    const [b, c, d, ...offset] = floats(256, 6);
    return quaternionAffine([b, c, d], [dx, dy, qfac < 0 ? -dz : dz], offset);
  }
  return [dx, 0, 0, 0, 0, dy, 0, 0, 0, 0, dz, 0, 0, 0, 0, 1];
}

/** The qform affine as nifti1_io computes it: rotation from (b, c, d), columns scaled by spacing. */
function quaternionAffine(bcd: number[], spacing: number[], offset: number[]): number[] {
  let [b, c, d] = bcd;
  const squares = b * b + c * c + d * d;
  let a = 0;
  if (1 - squares > 1e-7) {
    a = Math.sqrt(1 - squares);
  } else {
    // a ≈ 0 is a 180° rotation; renormalise (b, c, d) against float32 rounding.
    const norm = Math.sqrt(squares);
    [b, c, d] = [b / norm, c / norm, d / norm];
  }
  const rotation = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - b * b - c * c],
  ];
  const rows = rotation.map((row, r) => [
    ...row.map((value, col) => value * spacing[col]),
    offset[r],
  ]);
  return [...rows.flat(), 0, 0, 0, 1];
}

function writeHeader(
  view: DataView,
  volume: Volume<WritableVoxelData>,
  datatype: number,
  bitpix: number
): void {
  const int16 = (offset: number, value: number) => view.setInt16(offset, value, true);
  const float32 = (offset: number, value: number) => view.setFloat32(offset, value, true);
  const { dims, affine } = volume;
  const spacing = [0, 1, 2].map(col => Math.hypot(affine[col], affine[4 + col], affine[8 + col]));
  view.setInt32(0, HEADER_BYTES, true);
  [3, ...dims, 1, 1, 1, 1].forEach((size, n) => int16(40 + 2 * n, size));
  int16(70, datatype);
  int16(72, bitpix);
  [1, ...spacing].forEach((value, n) => float32(76 + 4 * n, value)); // pixdim[0] is qfac
  float32(108, VOXEL_OFFSET);
  float32(112, 1); // scl_slope
  view.setUint8(123, 2); // xyzt_units: millimetres
  int16(254, 1); // sform_code: scanner anatomical
  affine.slice(0, 12).forEach((value, n) => float32(280 + 4 * n, value));
  [0x6e, 0x2b, 0x31].forEach((char, n) => view.setUint8(344 + n, char)); // "n+1\0"
}
