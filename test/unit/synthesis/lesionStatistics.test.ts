import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { LesionStatistics } from '../../../models/pipeline/synthesis/statistics';

const ROOT = join(__dirname, '..', '..', '..');

test('tubers of 100 generated TSC brains follow the radiological spec (measured and printed)', () => {
  // A child process: synthesis runs several times slower inside jest's sandbox.
  const output = execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      join(ROOT, 'scripts', 'lesionStatistics.ts'),
      '--json',
    ],
    { cwd: ROOT, encoding: 'utf8' }
  );
  const statistics = JSON.parse(output) as LesionStatistics & { seconds: number };
  console.log(
    `Lesion statistics over 100 brains (papaya anatomy):\n${JSON.stringify(statistics, null, 2)}`
  );

  expect(statistics.brains).toBe(100);
  const { tubersPerBrain, diameterMm, regionShares } = statistics;
  expect(tubersPerBrain.mean).toBeGreaterThan(8.5);
  expect(tubersPerBrain.mean).toBeLessThan(11.5);
  expect(tubersPerBrain.variance).toBeGreaterThan(6);
  expect(tubersPerBrain.variance).toBeLessThan(15);
  expect(tubersPerBrain.min).toBeGreaterThanOrEqual(0);
  expect(tubersPerBrain.max).toBeLessThanOrEqual(40);
  expect(diameterMm.min).toBeGreaterThanOrEqual(2);
  expect(diameterMm.max).toBeLessThanOrEqual(30);
  expect(diameterMm.median).toBeGreaterThan(8);
  expect(diameterMm.median).toBeLessThan(16);
  expect(statistics.subtleShare).toBeGreaterThan(0.08);
  expect(statistics.subtleShare).toBeLessThan(0.22);
  expect(statistics.cysticShare).toBeGreaterThan(0);
  expect(statistics.cysticShare).toBeLessThan(0.15);
  expect(statistics.withWedgeShare).toBeGreaterThan(0.6);
  expect(regionShares.frontal).toBeGreaterThan(regionShares.parietal);
  expect(regionShares.parietal).toBeGreaterThan(regionShares.temporal);
  expect(regionShares.temporal).toBeGreaterThan(regionShares.occipital);
}, 120_000);
