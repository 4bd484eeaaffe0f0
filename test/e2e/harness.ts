import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';

const ROOT = join(__dirname, '..', '..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface RunningServer {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Starts `tuberlens serve` (or `tuberlens pacs`) as a user would (the real CLI, on a free port) and
 * waits until it listens.
 */
export function startTuberLens(
  extraArgs: string[] = [],
  command: 'serve' | 'pacs' = 'serve'
): Promise<RunningServer> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'tuberlens.mjs'), command, '--port', '0', ...extraArgs],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    }
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`tuberlens ${command} did not start in time:\n${output}`)),
      // A first start downloads the viewer (about 50 MB) and renders the demo studies.
      300_000
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /running at (http:\/\/localhost:\d+)\//.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1], output: () => output, stop: () => stopProcess(child) });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', code =>
      fail(new Error(`tuberlens ${command} exited with ${code}:\n${output}`))
    );
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise(resolve => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill();
  });
}

/**
 * Debian's Chromium, headless with SwiftShader WebGL, in a fresh temporary profile (Playwright makes one
 * per launch). A missing browser fails the run: it is never skipped.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: run \`apt-get install chromium\` (or set CHROMIUM_PATH).`
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--enable-unsafe-swiftshader',
    ],
  });
}

/** Records uncaught errors and console errors of a page, so a test can assert there were none. */
export function watchPage(page: Page) {
  const problems: string[] = [];
  page.on('pageerror', error => problems.push(`uncaught: ${error.stack ?? error.message}`));
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error')
      problems.push(`console.error: ${message.text()} (${message.location().url})`);
  });
  return problems;
}

/**
 * Share of the viewport canvas's pixels that are bright: a rendered brain slice has many, while a blank
 * canvas or a slice of pure noise has almost none.
 */
export async function renderedFraction(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>(
      '.cornerstone-canvas, [data-viewport-uid] canvas'
    );
    const context = canvas?.getContext('2d');
    if (!canvas || !context || canvas.width === 0) return 0;
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let lit = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] + data[i + 1] + data[i + 2] > 300) lit++;
    return lit / (data.length / 4);
  });
}

/** Retries an async assertion until it passes or the time is up (then its last failure is thrown). */
export async function eventually(
  assertion: () => Promise<void>,
  timeoutMs = 60_000
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise(resolve => setTimeout(resolve, 250));
    }
  }
}
