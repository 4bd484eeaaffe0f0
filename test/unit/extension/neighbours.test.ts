import {
  interleaveChannels,
  neighbourStacks,
  superiorLevel,
} from '../../../extension/src/core/neighbours';

describe('superiorLevel', () => {
  it('grows towards the top of the head, whichever way the slice normal points', () => {
    const upwards = [1, 0, 0, 0, 1, 0];
    const downwards = [1, 0, 0, 0, -1, 0];
    expect(superiorLevel([-120, -120, 30], upwards)).toBeCloseTo(30);
    expect(superiorLevel([-120, 120, 30], downwards)).toBeCloseTo(30);
    expect(superiorLevel([-120, 120, 35], downwards)).toBeGreaterThan(
      superiorLevel([-120, 120, 30], downwards)
    );
  });

  it('measures along a tilted normal', () => {
    const tilt = (20 * Math.PI) / 180;
    const orientation = [1, 0, 0, 0, Math.cos(tilt), Math.sin(tilt)];
    const normal = [0, -Math.sin(tilt), Math.cos(tilt)];
    const step = (mm: number) => [0, 1, 2].map(a => 10 + normal[a] * mm);
    expect(superiorLevel(step(5), orientation) - superiorLevel(step(0), orientation)).toBeCloseTo(
      5
    );
  });
});

describe('neighbourStacks', () => {
  it('gives each slice its neighbours from inferior to superior, repeating the ends', () => {
    // Stored top-down: slice 0 is the highest.
    const levels = [40, 30, 20, 10];
    expect(neighbourStacks(levels, 1)).toEqual([
      [1, 0, 0],
      [2, 1, 0],
      [3, 2, 1],
      [3, 3, 2],
    ]);
    expect(neighbourStacks(levels, 0)).toEqual([[0], [1], [2], [3]]);
    expect(neighbourStacks([5], 2)).toEqual([[0, 0, 0, 0, 0]]);
  });
});

describe('interleaveChannels', () => {
  it('puts the slices side by side, pixel by pixel, lowest first', () => {
    const below = Float32Array.of(1, 2, 3);
    const slice = Float32Array.of(10, 20, 30);
    const above = Float32Array.of(100, 200, 300);
    expect([...interleaveChannels([below, slice, above])]).toEqual([
      1, 10, 100, 2, 20, 200, 3, 30, 300,
    ]);
    expect(interleaveChannels([Uint8Array.of(1, 2), Uint8Array.of(3, 4)])).toEqual(
      Uint8Array.of(1, 3, 2, 4)
    );
  });

  it('leaves a slice alone as it is', () => {
    const slice = Float32Array.of(0.5, 0.25);
    expect(interleaveChannels([slice])).toBe(slice);
  });
});
