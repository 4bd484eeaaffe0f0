/**
 * Orthanc, the open-source PACS, run the one way TuberLens runs it: the committed base configuration
 * (orthanc.json: requests from this machine only, basic auth, the DICOMweb plugin at /dicom-web/, no
 * DICOM port so that instances run side by side) plus a generated file with the port, the user and
 * the database folder. Orthanc reads every JSON file of the folder it is given.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';

/** Where Debian's orthanc package installs the server. */
const ORTHANC_BINARY = '/usr/sbin/Orthanc';
const BASE_CONFIG = join(__dirname, 'orthanc.json');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
/** Starts at a free port that another program may take before Orthanc binds it. */
const PORT_ATTEMPTS = 3;
const LOG_TAIL_LINES = 15;

export interface OrthancCredentials {
  user: string;
  password: string;
}

export interface OrthancOptions {
  /** Holds Orthanc's database (db/), its effective configuration (config/) and its log; made if missing. */
  storageDir: string;
  /** Orthanc's HTTP port; left out, a free one that the system picks. */
  port?: number;
  credentials: OrthancCredentials;
  /**
   * More configuration (e.g. LuaScripts in tests), written to a file of its own; Orthanc refuses a
   * setting that the base configuration or the generated one (port, users, database) already has.
   */
  extraConfig?: Record<string, unknown>;
}

export interface RunningOrthanc {
  /** http://127.0.0.1:PORT */
  url: string;
  /** The DICOMweb root: url + /dicom-web */
  dicomwebUrl: string;
  credentials: OrthancCredentials;
  logFile: string;
  /** Terminates Orthanc and resolves once it has exited. */
  stop(): Promise<void>;
}

/** Orthanc is missing or would not start. */
export class OrthancError extends Error {}
class PortInUseError extends OrthancError {}

export async function startOrthanc({
  storageDir,
  port,
  credentials,
  extraConfig,
}: OrthancOptions): Promise<RunningOrthanc> {
  if (credentials.user === '' || credentials.user.includes(':'))
    throw new OrthancError(`An Orthanc user name must be non-empty and without ":".`);
  await checkInstalled();
  for (let attempt = 1; ; attempt++) {
    try {
      const reserved = await reservePort(port ?? 0);
      return await launch(resolve(storageDir), reserved, credentials, extraConfig);
    } catch (error) {
      const retry = error instanceof PortInUseError && port === undefined;
      if (!retry || attempt === PORT_ATTEMPTS) throw error;
    }
  }
}

async function checkInstalled(): Promise<void> {
  const { Plugins: plugins = [] } = JSON.parse(await readFile(BASE_CONFIG, 'utf8')) as {
    Plugins?: string[];
  };
  for (const path of [ORTHANC_BINARY, ...plugins]) {
    if (!existsSync(path)) {
      throw new OrthancError(
        `Orthanc or its DICOMweb plugin is not installed (there is no ${path}): run \`apt-get install orthanc orthanc-dicomweb\`.`
      );
    }
  }
}

async function launch(
  storageDir: string,
  port: number,
  credentials: OrthancCredentials,
  extraConfig?: Record<string, unknown>
): Promise<RunningOrthanc> {
  const configDir = await writeConfig(storageDir, port, credentials, extraConfig);
  const logFile = join(storageDir, 'orthanc.log');
  const log = openSync(logFile, 'w');
  const child = spawn(ORTHANC_BINARY, [configDir], { stdio: ['ignore', log, log] });
  closeSync(log);
  const exited = exitOf(child);
  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopProcess(child, exited);
  try {
    await untilAnswering(url, credentials, exited);
  } catch (error) {
    await stop();
    throw await withLogTail(error as Error, logFile, port);
  }
  return { url, dicomwebUrl: `${url}/dicom-web`, credentials, logFile, stop };
}

/** A fresh config/ folder: a copy of the base configuration and this start's own settings. */
async function writeConfig(
  storageDir: string,
  port: number,
  { user, password }: OrthancCredentials,
  extraConfig?: Record<string, unknown>
): Promise<string> {
  const configDir = join(storageDir, 'config');
  const database = join(storageDir, 'db');
  await rm(configDir, { recursive: true, force: true });
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  await copyFile(BASE_CONFIG, join(configDir, 'orthanc.json'));
  const settings = {
    HttpPort: port,
    StorageDirectory: database,
    IndexDirectory: database,
    RegisteredUsers: { [user]: password },
  };
  await writeFile(join(configDir, 'instance.json'), JSON.stringify(settings, null, 2), {
    mode: 0o600,
  });
  if (extraConfig) await writeFile(join(configDir, 'extra.json'), JSON.stringify(extraConfig));
  return configDir;
}

/** Resolves, saying how, when the process has ended or could not start. */
function exitOf(child: ChildProcess): Promise<string> {
  return new Promise(resolveExit => {
    child.once('exit', (code, signal) => resolveExit(`exited (${signal ?? `code ${code}`})`));
    child.once('error', error => resolveExit(`could not be started (${error.message})`));
  });
}

async function untilAnswering(
  url: string,
  credentials: OrthancCredentials,
  exited: Promise<string>
): Promise<void> {
  let ended: string | undefined;
  void exited.then(how => (ended = how));
  const headers = { authorization: basicAuthorization(credentials) };
  const deadline = Date.now() + START_TIMEOUT_MS;
  // Until Orthanc listens, another server may have the port: only a 200 to these credentials is ours.
  let lastStatus: number | undefined;
  while (ended === undefined) {
    if (Date.now() > deadline) {
      const last = lastStatus === undefined ? '' : ` (the last answer was HTTP ${lastStatus})`;
      throw new OrthancError(
        `Orthanc did not answer at ${url} within ${START_TIMEOUT_MS / 1000} s${last}.`
      );
    }
    const response = await fetch(`${url}/system`, { headers }).catch(() => undefined);
    await response?.body?.cancel();
    if (response?.ok) return;
    lastStatus = response?.status;
    await new Promise(resolveWait => setTimeout(resolveWait, 100));
  }
  throw new OrthancError(`Orthanc ${ended} before it answered at ${url}.`);
}

async function stopProcess(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(kill);
}

async function withLogTail(error: Error, logFile: string, port: number): Promise<OrthancError> {
  const log = await readFile(logFile, 'utf8').catch(() => '');
  if (log.includes('already in use')) return portInUse(port);
  const tail = log.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  return new OrthancError(`${error.message} The end of its log (${logFile}):\n${tail}`);
}

/** Checks that `port` is free (0: finds a free one) by binding it for a moment. */
function reservePort(port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? portInUse(port) : error)
    );
    probe.listen(port, () => {
      const { port: bound } = probe.address() as AddressInfo;
      probe.close(() => resolvePort(bound));
    });
  });
}

function portInUse(port: number): PortInUseError {
  return new PortInUseError(
    `Port ${port} is already in use: stop the program using it, or give Orthanc another port.`
  );
}

function basicAuthorization({ user, password }: OrthancCredentials): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
