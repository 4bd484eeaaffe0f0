import { pointingHit } from '../../../models/pipeline/evaluation/pointingGame';

const SIZE = 16;
const at = (row: number, column: number) => row * SIZE + column;

function mapWithPeak(row: number, column: number): Float32Array {
  const map = new Float32Array(SIZE * SIZE).fill(0.1);
  map[at(row, column)] = 1;
  return map;
}

const mask = new Float32Array(SIZE * SIZE);
for (let r = 4; r <= 6; r++) for (let c = 4; c <= 6; c++) mask[at(r, c)] = 1;

test('a peak inside the mask hits', () => {
  expect(pointingHit(mapWithPeak(5, 5), mask, SIZE, 0)).toBe(true);
});

test('a peak within the margin of the mask hits, one beyond it misses', () => {
  expect(pointingHit(mapWithPeak(5, 8), mask, SIZE, 2)).toBe(true);
  expect(pointingHit(mapWithPeak(5, 9), mask, SIZE, 2)).toBe(false);
  expect(pointingHit(mapWithPeak(8, 8), mask, SIZE, 2)).toBe(false);
  expect(pointingHit(mapWithPeak(8, 8), mask, SIZE, 2.9)).toBe(true);
});

test('partial mask pixels count from half coverage', () => {
  const partial = new Float32Array(SIZE * SIZE);
  partial[at(10, 10)] = 0.4;
  expect(pointingHit(mapWithPeak(10, 10), partial, SIZE, 0)).toBe(false);
  partial[at(10, 10)] = 0.5;
  expect(pointingHit(mapWithPeak(10, 10), partial, SIZE, 0)).toBe(true);
});
