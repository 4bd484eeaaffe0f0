import {
  HEAT_FLOOR,
  HEAT_LEVELS,
  heatLevelLabel,
  toHeatLevels,
} from '../../../extension/src/core/heatLevels';

describe('heat levels', () => {
  test('five levels in equal steps from the floor up to 1, none below the floor or for NaN', () => {
    expect(HEAT_LEVELS.map(level => level.level)).toEqual([1, 2, 3, 4, 5]);
    expect(HEAT_LEVELS[0].from).toBe(HEAT_FLOOR);
    expect(Array.from(toHeatLevels([0, 0.19, 0.2, 0.35, 0.37, 0.6, 0.99, 1, 1.2, NaN]))).toEqual([
      0, 0, 1, 1, 2, 3, 5, 5, 5, 0,
    ]);
  });

  test('each level is more opaque than the one below it and named by its range', () => {
    const alphas = HEAT_LEVELS.map(level => level.color[3]);
    expect(alphas).toEqual([...alphas].sort((a, b) => a - b));
    expect(new Set(alphas).size).toBe(alphas.length);
    expect(heatLevelLabel('Grad-CAM', HEAT_LEVELS[0])).toBe('Grad-CAM 0.20–0.36');
    expect(heatLevelLabel('Grad-CAM', HEAT_LEVELS[4])).toBe('Grad-CAM 0.84–1.00');
  });
});
