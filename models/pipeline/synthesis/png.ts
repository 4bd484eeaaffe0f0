/** A minimal 8-bit PNG encoder (grayscale, RGB, RGBA). */
import { deflateSync } from 'node:zlib';
import { concatenate } from '../typedArrays';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const COLOR_TYPES = { 1: 0, 3: 2, 4: 6 } as const;

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** CRC-32 (ISO 3309, as PNG chunks use). */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Encodes row-major pixels (channels bytes each, top row first); same input gives same bytes. */
export function encodePng(
  width: number,
  height: number,
  pixels: Uint8Array,
  channels: 1 | 3 | 4
): Uint8Array {
  if (!isPositiveInteger(width) || !isPositiveInteger(height)) {
    throw new RangeError(`encodePng: invalid size ${width}×${height}`);
  }
  if (pixels.length !== width * height * channels) {
    throw new RangeError(`encodePng: ${pixels.length} bytes for ${width}×${height}×${channels}`);
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, COLOR_TYPES[channels], 0, 0, 0], 8); // bit depth, colour type, deflate, filter, no interlace
  return concatenate([
    Uint8Array.from(SIGNATURE),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(scanlines(width * channels, height, pixels))),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

function isPositiveInteger(value: number): boolean {
  return Number.isInteger(value) && value > 0;
}

/** Each row prefixed with filter type 0 (none). */
function scanlines(rowBytes: number, height: number, pixels: Uint8Array): Uint8Array {
  const lines = new Uint8Array(height * (rowBytes + 1));
  for (let row = 0; row < height; row++) {
    lines.set(pixels.subarray(row * rowBytes, (row + 1) * rowBytes), row * (rowBytes + 1) + 1);
  }
  return lines;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(12 + data.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, data.length);
  bytes.set(
    Array.from(type, char => char.charCodeAt(0)),
    4
  );
  bytes.set(data, 8);
  view.setUint32(8 + data.length, crc32(bytes.subarray(4, 8 + data.length)));
  return bytes;
}
