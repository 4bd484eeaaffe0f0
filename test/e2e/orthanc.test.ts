import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DicomwebClient } from '../../extension/src/core/dicomweb/dicomwebClient';
import { daikonSeriesFolder } from '../../scripts/cli';
import { startOrthanc, type RunningOrthanc } from '../../scripts/pacs/orthanc';

/** startOrthanc with Debian's real Orthanc and DICOMweb plugin, which CI installs. */

const CREDENTIALS = { user: 'tester', password: 'orthanc-test-password' };

const storageDirs: string[] = [];
let storageDir: string;
let orthanc: RunningOrthanc;

async function newStorageDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tuberlens-orthanc-'));
  storageDirs.push(dir);
  return dir;
}

const client = (credentials = CREDENTIALS) =>
  new DicomwebClient({ url: orthanc.dicomwebUrl, ...credentials });

beforeAll(async () => {
  storageDir = await newStorageDir();
  orthanc = await startOrthanc({ storageDir, credentials: CREDENTIALS });
}, 60_000);

afterAll(async () => {
  await orthanc?.stop();
  await Promise.all(storageDirs.map(dir => rm(dir, { recursive: true, force: true })));
});

test('answers DICOMweb on loopback to its credentials: stores a series and finds its study', async () => {
  expect(orthanc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(orthanc.dicomwebUrl).toBe(`${orthanc.url}/dicom-web`);
  await expect(client().searchStudies()).resolves.toEqual([]);

  const folder = daikonSeriesFolder();
  const files = await Promise.all(
    (await readdir(folder)).map(name => readFile(join(folder, name)))
  );
  const outcome = await client().store(files);

  expect(outcome.stored).toHaveLength(files.length);
  await expect(client().searchStudies()).resolves.toHaveLength(1);
});

test('refuses wrong or missing credentials with 401, which the client reports as unauthorized', async () => {
  await expect(
    client({ user: CREDENTIALS.user, password: 'wrong' }).searchStudies()
  ).rejects.toMatchObject({ failure: 'unauthorized', status: 401 });
  expect((await fetch(`${orthanc.url}/system`)).status).toBe(401);
});

test('keeps the password in a configuration file only its owner can read', async () => {
  const instanceConfig = join(storageDir, 'config', 'instance.json');
  expect((await stat(instanceConfig)).mode & 0o777).toBe(0o600);
  expect(JSON.parse(await readFile(instanceConfig, 'utf8'))).toMatchObject({
    RegisteredUsers: { [CREDENTIALS.user]: CREDENTIALS.password },
  });
});

test('a second instance runs beside the first on another free port; on a taken port it says so', async () => {
  const port = Number(new URL(orthanc.url).port);
  await expect(
    startOrthanc({ storageDir: await newStorageDir(), port, credentials: CREDENTIALS })
  ).rejects.toThrow(
    `Port ${port} is already in use: stop the program using it, or give Orthanc another port.`
  );

  const second = await startOrthanc({
    storageDir: await newStorageDir(),
    credentials: CREDENTIALS,
  });
  try {
    expect(second.url).not.toBe(orthanc.url);
    await expect(
      new DicomwebClient({ url: second.dicomwebUrl, ...CREDENTIALS }).searchStudies()
    ).resolves.toEqual([]);
  } finally {
    await second.stop();
  }
}, 60_000);

test('stop() ends Orthanc: its port then refuses connections, which the client reports as unreachable', async () => {
  await orthanc.stop();
  await expect(client().searchStudies()).rejects.toMatchObject({ failure: 'unreachable' });
});
