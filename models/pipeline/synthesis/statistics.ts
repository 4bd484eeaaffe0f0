import { REGION_WEIGHTS, type Region, type Tuber } from './tubers';

export interface LesionStatistics {
  brains: number;
  tubersPerBrain: { mean: number; variance: number; min: number; max: number };
  diameterMm: { median: number; p5: number; p95: number; min: number; max: number };
  subtleShare: number;
  cysticShare: number;
  withWedgeShare: number;
  regionShares: Record<Region, number>;
}

/** Summarises the tubers of many generated brains, to compare with the radiological spec. */
export function lesionStatistics(brains: Tuber[][]): LesionStatistics {
  const counts = brains.map(tubers => tubers.length);
  const tubers = brains.flat();
  const diameters = tubers.map(tuber => tuber.diameterMm).sort((a, b) => a - b);
  const mean = counts.reduce((sum, count) => sum + count, 0) / counts.length;
  const share = (test: (tuber: Tuber) => boolean) =>
    tubers.filter(test).length / Math.max(1, tubers.length);
  const regions = Object.keys(REGION_WEIGHTS) as Region[];
  return {
    brains: brains.length,
    tubersPerBrain: {
      mean,
      variance:
        counts.reduce((sum, count) => sum + (count - mean) ** 2, 0) /
        Math.max(1, counts.length - 1),
      min: Math.min(...counts),
      max: Math.max(...counts),
    },
    diameterMm: {
      median: quantile(diameters, 0.5),
      p5: quantile(diameters, 0.05),
      p95: quantile(diameters, 0.95),
      min: diameters[0] ?? 0,
      max: diameters[diameters.length - 1] ?? 0,
    },
    subtleShare: share(tuber => tuber.diameterMm < 5),
    cysticShare: share(tuber => tuber.cystic),
    withWedgeShare: share(tuber => tuber.wedgeMm > 0),
    regionShares: Object.fromEntries(
      regions.map(region => [region, share(tuber => tuber.region === region)])
    ) as Record<Region, number>,
  };
}

function quantile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}
