import { inflateSync } from 'node:zlib';
import { crc32, encodePng } from '../../../models/pipeline/synthesis/png';

interface Chunk {
  type: string;
  data: Uint8Array;
  crc: number;
  /** Type and data bytes: what the CRC covers. */
  covered: Uint8Array;
}

function parseChunks(png: Uint8Array): Chunk[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: Chunk[] = [];
  for (let offset = 8; offset < png.length;) {
    const length = view.getUint32(offset);
    chunks.push({
      type: String.fromCharCode(...png.subarray(offset + 4, offset + 8)),
      data: png.subarray(offset + 8, offset + 8 + length),
      crc: view.getUint32(offset + 8 + length),
      covered: png.subarray(offset + 4, offset + 8 + length),
    });
    offset += 12 + length;
  }
  return chunks;
}

/** Inflates the IDAT stream and strips the per-row filter bytes, checking each is 0. */
function decodePixels(png: Uint8Array, rowBytes: number): Uint8Array {
  const idat = parseChunks(png).filter(chunk => chunk.type === 'IDAT');
  const lines = inflateSync(Buffer.concat(idat.map(chunk => chunk.data)));
  const height = lines.length / (rowBytes + 1);
  const pixels = new Uint8Array(height * rowBytes);
  for (let row = 0; row < height; row++) {
    expect(lines[row * (rowBytes + 1)]).toBe(0);
    const start = row * (rowBytes + 1) + 1;
    pixels.set(lines.subarray(start, start + rowBytes), row * rowBytes);
  }
  return pixels;
}

function gradient(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 37 + 11) % 256);
}

describe('crc32', () => {
  test('matches known CRC-32 values', () => {
    expect(crc32(new TextEncoder().encode('IEND'))).toBe(0xae426082);
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe('encodePng', () => {
  test('starts with the PNG signature and an IHDR describing the image', () => {
    const png = encodePng(5, 3, gradient(5 * 3 * 3), 3);
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const [ihdr] = parseChunks(png);
    expect(ihdr.type).toBe('IHDR');
    expect(ihdr.data.length).toBe(13);
    const view = new DataView(ihdr.data.buffer, ihdr.data.byteOffset, 13);
    expect([view.getUint32(0), view.getUint32(4)]).toEqual([5, 3]);
    expect(Array.from(ihdr.data.subarray(8))).toEqual([8, 2, 0, 0, 0]);
  });

  test('writes IHDR, IDAT, IEND in order with a valid CRC on every chunk', () => {
    const chunks = parseChunks(encodePng(4, 4, gradient(16), 1));
    expect(chunks.map(chunk => chunk.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    for (const chunk of chunks) expect(chunk.crc).toBe(crc32(chunk.covered));
    expect(chunks[2].crc).toBe(0xae426082);
  });

  test.each([
    [1, 0],
    [3, 2],
    [4, 6],
  ] as const)('round-trips %i-channel pixels (colour type %i)', (channels, colorType) => {
    const [width, height] = [7, 5];
    const pixels = gradient(width * height * channels);
    const png = encodePng(width, height, pixels, channels);
    expect(parseChunks(png)[0].data[9]).toBe(colorType);
    expect(decodePixels(png, width * channels)).toEqual(pixels);
  });

  test('is deterministic', () => {
    const pixels = gradient(64 * 48);
    expect(encodePng(64, 48, pixels, 1)).toEqual(encodePng(64, 48, pixels, 1));
  });

  test('rejects a pixel buffer of the wrong size or a non-positive size', () => {
    expect(() => encodePng(4, 4, new Uint8Array(15), 1)).toThrow(RangeError);
    expect(() => encodePng(0, 4, new Uint8Array(0), 1)).toThrow(RangeError);
  });
});
