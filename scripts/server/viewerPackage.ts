import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The prebuilt viewer, pinned with the integrity hash the npm registry publishes for it. */
export const VIEWER_PACKAGE = {
  name: '@ohif/app',
  version: '3.13.2',
  integrity:
    'sha512-WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA==',
};

export class ViewerUnavailableError extends Error {}

/**
 * Returns the folder of the viewer's built files, downloading the package from the npm registry on
 * first use, checking it against the pinned integrity hash and caching it so later runs need no network.
 */
export async function ensureViewer(
  cacheDir: string,
  log: (message: string) => void = () => {}
): Promise<string> {
  const { name, version, integrity } = VIEWER_PACKAGE;
  const folder = join(cacheDir, `ohif-app-${version}`);
  const marker = join(folder, '.integrity');
  if (existsSync(marker) && (await readFile(marker, 'utf8')) === integrity)
    return join(folder, 'dist');

  await mkdir(cacheDir, { recursive: true });
  const tarball = join(cacheDir, `ohif-app-${version}.tgz`);
  if (!existsSync(tarball)) {
    log(`Downloading ${name}@${version} from the npm registry (about 50 MB, once)…`);
    try {
      await run('npm', ['pack', `${name}@${version}`, '--pack-destination', cacheDir, '--silent']);
    } catch (error) {
      throw new ViewerUnavailableError(
        `${name}@${version} is not cached and could not be fetched from the npm registry (${firstLine(error)}). ` +
          `Connect to the registry once, or put the package tarball at ${tarball}.`
      );
    }
  }
  const actual = await sha512Integrity(tarball);
  if (actual !== integrity) {
    await rm(tarball, { force: true });
    throw new ViewerUnavailableError(
      `${tarball} does not match the registry's integrity hash for ${name}@${version} (got ${actual}); it was deleted, run again to download it anew.`
    );
  }
  const staging = await mkdtemp(join(cacheDir, '.extract-'));
  try {
    await run('tar', ['-xzf', tarball, '-C', staging, '--strip-components=1']);
    await writeFile(join(staging, '.integrity'), integrity);
    await rm(folder, { recursive: true, force: true });
    await rename(staging, folder);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return join(folder, 'dist');
}

export async function sha512Integrity(path: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha512-${hash.digest('base64')}`;
}

function firstLine(error: unknown): string {
  const text =
    (error as { stderr?: string }).stderr ||
    (error instanceof Error ? error.message : String(error));
  return text.trim().split('\n')[0];
}
