import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNifti } from '../../../models/pipeline/synthesis/nifti';
import { POSITIVE_AREA_MM2 } from '../../../models/pipeline/synthesis/subject';
import {
  ConfigError,
  readTrainingConfig,
  type TrainingConfig,
} from '../../../models/pipeline/training/config';
import {
  centreChannels,
  ensureTrainingSet,
  labelledSlices,
  loadTrainingSplit,
  SPLITS,
  type TrainingSetSpec,
  type TrainingSplit,
} from '../../../models/pipeline/training/trainingSet';
import { phantomLabelMap } from '../../fixtures/phantomAnatomy';
import { TOY_SIZE, toyConfig, toySplit } from '../../fixtures/toyTrainingSet';

const directory = mkdtempSync(join(tmpdir(), 'tuberlens-training-set-'));
const setFolder = join(directory, 'set');
const SIZE = 32;

/** Three phantom brains of slightly different size: one per split. */
function spec(): TrainingSetSpec {
  const files = [3, 3.2, 2.8].map((voxelMm, n) => {
    const path = join(directory, `map-${n}.nii.gz`);
    writeFileSync(path, writeNifti(phantomLabelMap(48, voxelMm)));
    return path;
  });
  return {
    seed: 'split-test',
    labelMaps: { train: [files[0]], validation: [files[1]], test: [files[2]] },
    subjects: { train: 4, validation: 2, test: 2 },
    contrasts: ['T2'],
    preprocessing: { size: SIZE, fieldOfViewMm: 192, percentiles: [1, 99.5], headThreshold: 0.1 },
    acquisition: { matrix: 64, pixelMm: 3, sliceThicknessMm: 5, gapMm: 0, tiltDegrees: 0 },
  };
}

let splits: Record<(typeof SPLITS)[number], TrainingSplit>;
beforeAll(async () => {
  await ensureTrainingSet(spec(), setFolder, () => {});
  const loaded = await Promise.all(SPLITS.map(split => loadTrainingSplit(setFolder, split)));
  splits = { train: loaded[0], validation: loaded[1], test: loaded[2] };
}, 300_000);
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function maskSum(split: TrainingSplit, index: number): number {
  const pixels = SIZE * SIZE;
  return split.masks.subarray(index * pixels, (index + 1) * pixels).reduce((sum, v) => sum + v, 0);
}

test('no subject serves two splits, and each split holds the subjects asked for', () => {
  const subjects = SPLITS.map(split => new Set(splits[split].records.map(r => r.subjectId)));
  expect(subjects.map(set => set.size)).toEqual([4, 2, 2]);
  const all = subjects.flatMap(set => [...set]);
  expect(new Set(all).size).toBe(all.length);
  for (const split of SPLITS) {
    const tsc = new Set(splits[split].records.filter(r => r.tsc).map(r => r.subjectId));
    expect(tsc.size).toBe(subjects[SPLITS.indexOf(split)].size / 2);
  }
});

test('labels follow the tuber area, masks follow the labels, and ambiguous slices are flagged', () => {
  for (const split of SPLITS) {
    splits[split].records.forEach((record, n) => {
      if (record.positive) {
        expect(record.tuberAreaMm2).toBeGreaterThanOrEqual(POSITIVE_AREA_MM2);
        expect(maskSum(splits[split], n)).toBeGreaterThan(0);
      } else if (record.ambiguous) {
        expect(record.tuberAreaMm2).toBeGreaterThan(0);
        expect(record.tuberAreaMm2).toBeLessThan(POSITIVE_AREA_MM2);
      } else {
        expect(record.tuberAreaMm2).toBe(0);
        expect(maskSum(splits[split], n)).toBe(0);
      }
      if (!record.tsc) expect(record.positive || record.ambiguous).toBeFalsy();
    });
  }
  expect(splits.train.records.some(record => record.positive)).toBe(true);
  expect(splits.train.images).toHaveLength(splits.train.records.length * SIZE * SIZE);
});

test('the labelled slices are the split without its ambiguous ones, images and masks alike', () => {
  const split = toySplit(6, 'labelled');
  split.records[2] = { ...split.records[2], positive: false, ambiguous: true };
  const labelled = labelledSlices(split);
  const pixels = TOY_SIZE * TOY_SIZE;
  expect(labelled.records.map(record => record.slice)).toEqual([0, 1, 1, 0, 1]);
  expect(labelled.records).toEqual(split.records.filter(record => !record.ambiguous));
  expect(labelled.images.subarray(2 * pixels, 3 * pixels)).toEqual(
    split.images.subarray(3 * pixels, 4 * pixels)
  );
  expect(labelled.masks.subarray(0, pixels)).toEqual(split.masks.subarray(0, pixels));
  expect(labelledSlices(labelled)).toBe(labelled);
});

test('a rendered set is reused, and a damaged one is refused', async () => {
  const before = statSync(join(setFolder, 'train.images.u8')).mtimeMs;
  await ensureTrainingSet(spec(), setFolder, () => {});
  expect(statSync(join(setFolder, 'train.images.u8')).mtimeMs).toBe(before);
  writeFileSync(join(setFolder, 'test.masks.u8'), new Uint8Array(7));
  await expect(loadTrainingSplit(setFolder, 'test')).rejects.toThrow(/damaged/);
});

test('a grown validation split renders alone, and its first subjects are the original ones', async () => {
  const grown = { ...spec(), subjects: { ...spec().subjects, validation: 4 } };
  const grownFolder = join(directory, 'grown');
  await ensureTrainingSet(grown, grownFolder, () => {}, ['validation']);
  expect(readdirSync(grownFolder).sort()).toEqual([
    'spec.json',
    'validation.images.u8',
    'validation.json',
    'validation.masks.u8',
  ]);
  const validation = await loadTrainingSplit(grownFolder, 'validation');
  const original = splits.validation;
  expect(new Set(validation.records.map(record => record.subjectId)).size).toBe(4);
  expect(validation.records.slice(0, original.records.length)).toEqual(original.records);
  expect(validation.images.subarray(0, original.images.length)).toEqual(original.images);
}, 300_000);

test('a config that gives one label map to two splits is refused', () => {
  const config = toyConfig(1);
  config.data.labelMaps = { train: [1, 2], validation: [2], test: [3] };
  const path = join(directory, 'leaky.json');
  writeFileSync(path, JSON.stringify(config));
  expect(() => readTrainingConfig(path)).toThrow(ConfigError);
  expect(() => readTrainingConfig(path)).toThrow(/two splits/);
});

test('a config that chooses thresholds on fewer validation brains than training used is refused', () => {
  const config = toyConfig(1);
  const path = join(directory, 'thresholds.json');
  for (const validationSubjects of [config.data.subjects.validation - 1, 20.5]) {
    writeFileSync(path, JSON.stringify({ ...config, evaluation: { validationSubjects } }));
    expect(() => readTrainingConfig(path)).toThrow(/evaluation.validationSubjects/);
  }
  writeFileSync(path, JSON.stringify({ ...config, evaluation: { validationSubjects: 64 } }));
  expect(readTrainingConfig(path).evaluation).toEqual({ validationSubjects: 64 });
});

test('a config whose hard-negative share lies outside (0, 1] is refused', () => {
  const config = toyConfig(1);
  const path = join(directory, 'hard.json');
  for (const share of [0, 1.5]) {
    config.training.hardNegatives = { epochs: 1, learningRate: 0.001, share };
    writeFileSync(path, JSON.stringify(config));
    expect(() => readTrainingConfig(path)).toThrow(/hardNegatives.share must lie in \(0, 1\]/);
  }
  config.training.hardNegatives = { epochs: 1, learningRate: 0.001, share: 1 };
  writeFileSync(path, JSON.stringify(config));
  expect(readTrainingConfig(path).training.hardNegatives?.share).toBe(1);
});

test('a config that cuts batches into no shares, part shares or more shares than examples is refused', () => {
  const config = toyConfig(1);
  const path = join(directory, 'shares.json');
  for (const shares of [0, 1.5, config.training.batchSize + 1]) {
    config.training.shares = shares;
    writeFileSync(path, JSON.stringify(config));
    expect(() => readTrainingConfig(path)).toThrow(
      /training.shares must be a whole number from 1 to training.batchSize \(8\)/
    );
  }
  config.training.shares = 2;
  writeFileSync(path, JSON.stringify(config));
  expect(readTrainingConfig(path).training.shares).toBe(2);
});

test('a config that asks for part of a neighbouring slice or fewer than none is refused', () => {
  const config = toyConfig(1);
  const path = join(directory, 'neighbours.json');
  for (const neighbours of [-1, 0.5]) {
    writeFileSync(path, JSON.stringify({ ...config, data: { ...config.data, neighbours } }));
    expect(() => readTrainingConfig(path)).toThrow(/data.neighbours must be a whole number/);
  }
  writeFileSync(path, JSON.stringify({ ...config, data: { ...config.data, neighbours: 1 } }));
  expect(readTrainingConfig(path).data.neighbours).toBe(1);
});

test('a 2.5D set holds each slice between its series neighbours, each preprocessed as in the 2D set', async () => {
  const folder = join(directory, 'neighbours');
  await ensureTrainingSet({ ...spec(), neighbours: 1 }, folder, () => {}, ['validation']);
  const stacked = await loadTrainingSplit(folder, 'validation');
  const flat = splits.validation;
  expect(stacked.channels).toBe(3);
  expect(stacked.records).toEqual(flat.records);
  expect(stacked.images).toHaveLength(flat.images.length * 3);
  const pixels = SIZE * SIZE;
  const flatPixel = (n: number, pixel: number) => flat.images[n * pixels + pixel];
  const lastOfSeries = (n: number) =>
    n + 1 === flat.records.length || flat.records[n + 1].slice === 0;
  flat.records.forEach((record, n) => {
    const below = record.slice === 0 ? n : n - 1;
    const above = lastOfSeries(n) ? n : n + 1;
    for (let pixel = 0; pixel < pixels; pixel += 37) {
      const stack = stacked.images.subarray((n * pixels + pixel) * 3, (n * pixels + pixel + 1) * 3);
      expect([...stack]).toEqual([
        flatPixel(below, pixel),
        flatPixel(n, pixel),
        flatPixel(above, pixel),
      ]);
    }
  });
  expect(labelledSlices(stacked).channels).toBe(3);
}, 300_000);

test('a dense crop recipe is refused without crops, with contrasts the data lacks, shares of 0, a tuber-cell weight under 1 or a batch-norm calibration without crops, of no whole number of examples or from elsewhere', () => {
  const path = join(directory, 'dense.json');
  const read = (training: Partial<TrainingConfig['training']>) => {
    const config = toyConfig(1);
    writeFileSync(
      path,
      JSON.stringify({ ...config, training: { ...config.training, ...training } })
    );
    return () => readTrainingConfig(path);
  };
  const annealing = { epochs: 1, learningRate: 0.001 };
  const accepted = read({ cropSize: 8, cropContrasts: { T2: 1 }, cropAnnealing: annealing })();
  expect(accepted.training).toMatchObject({ cropContrasts: { T2: 1 }, cropAnnealing: annealing });
  expect(read({ cropContrasts: { T2: 1 } })).toThrow(/need training.cropSize/);
  expect(read({ cropAnnealing: annealing })).toThrow(/need training.cropSize/);
  expect(read({ cropSize: 8, cropContrasts: { FLAIR: 1 } })).toThrow(
    /names FLAIR, which data.contrasts \(T2\) does not render/
  );
  expect(read({ cropSize: 8, cropContrasts: { T2: 0 } })).toThrow(/a share above 0/);
  expect(read({ cropSize: 8, cropContrasts: {} })).toThrow(/a share above 0/);
  expect(read({ tuberCellWeight: 0.5 })).toThrow(/tuberCellWeight must be 1 or more/);
  const calibration = { examples: 64, from: 'crops' as const };
  expect(read({ batchNormCalibration: calibration })).toThrow(
    /batchNormCalibration needs training.cropSize/
  );
  expect(read({ cropSize: 8, batchNormCalibration: { ...calibration, examples: 0.5 } })).toThrow(
    /batchNormCalibration.examples must be a whole number, 1 or more/
  );
  expect(
    read({
      cropSize: 8,
      batchNormCalibration: { ...calibration, from: 'somewhere' as 'crops' },
    })
  ).toThrow(/batchNormCalibration.from must be "crops" or "wholeSlices"/);
  expect(read({ cropSize: 8, batchNormCalibration: calibration })().training).toMatchObject({
    batchNormCalibration: calibration,
  });
});

test('a split gives a model reading fewer neighbours its centre channels', () => {
  const split = toySplit(4, 'centre', 5);
  const narrower = centreChannels(split, 3);
  expect(narrower.channels).toBe(3);
  const pixels = 4 * TOY_SIZE * TOY_SIZE;
  for (const pixel of [0, 17, pixels - 1])
    expect([...narrower.images.subarray(pixel * 3, pixel * 3 + 3)]).toEqual([
      ...split.images.subarray(pixel * 5 + 1, pixel * 5 + 4),
    ]);
  expect(centreChannels(split, 1).images).toEqual(toySplit(4, 'centre').images);
  expect(centreChannels(split, 5)).toBe(split);
  expect(() => centreChannels(split, 2)).toThrow(/2 centre channels cannot be taken from 5/);
  expect(() => centreChannels(toySplit(4, 'centre'), 3)).toThrow(RangeError);
});
