import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringValue, type DicomJson } from '../../../extension/src/core/dicomweb/dicomJson';
import type {
  DicomwebClient,
  QueryParameters,
} from '../../../extension/src/core/dicomweb/dicomwebClient';
import { formatResultsCsv, type ResultRow } from '../../../extension/src/core/results/resultsCsv';
import { readStoredResult } from '../../../extension/src/core/results/storedResult';
import { initialiseNodeBackend } from '../../../models/pipeline/tfBackend';
import { summary } from '../../../scripts/batch/batchCommand';
import { analyseStudy, type BatchContext } from '../../../scripts/batch/studyAnalysis';
import { loadDetector, type Detector } from '../../../scripts/predict';
import { readResultsCsv } from '../../../scripts/report/resultsCsv';
import { parseDicom } from '../../../scripts/server/dicomFile';
import { MULTI_SERIES, writeStudy } from '../../fixtures/dicomFixtures';
import { writeModelCard, writeModelPackage } from '../../fixtures/tuberModel';
import { makeTempDir, removeDir } from '../server/helpers';

const T2_STUDY_UID = '2.25.1001';
const FLAIR_STUDY_UID = '2.25.1002';
const SLICE_THRESHOLD = 0.5;
// 0: every FLAIR slice is flagged whatever the untrained model says, so the test sees which threshold was used.
const FLAIR_THRESHOLD = 0;
const WITHHELD_REASON =
  'No verdict: tuber-net-fixture 0.0.0-test is validated for FLAIR series only, not for T2 series.';

let folder: string;
let detector: Detector;

/** A PACS holding the files of `studyFolder` and no TuberLens result; what is stored is kept in `stored`. */
function fakePacs(studyFolder: string) {
  const instances = readdirSync(studyFolder).map(name => {
    const bytes = readFileSync(join(studyFolder, name));
    return { bytes, metadata: parseDicom(bytes).instance.metadata };
  });
  const seriesOf = (uid?: string) =>
    instances.filter(instance => stringValue(instance.metadata, '0020000E') === uid);
  const stored: Uint8Array[] = [];
  const client = {
    searchSeries: async (_study: string, query: QueryParameters) =>
      query.Modality === 'MR'
        ? [...new Set(instances.map(instance => stringValue(instance.metadata, '0020000E')))].map(
            uid => seriesOf(uid)[0].metadata
          )
        : [],
    searchInstances: async (_study: string, series: string, query: QueryParameters) =>
      query.SOPInstanceUID ? [{}] : seriesOf(series).map(instance => instance.metadata),
    retrieveSeries: async (_study: string, series: string) =>
      seriesOf(series).map(instance => instance.bytes),
    store: async (files: Uint8Array[]) => void stored.push(...files),
  };
  return { client: client as unknown as DicomwebClient, stored };
}

async function analysed(studyInstanceUID: string, studyFolder: string) {
  const pacs = fakePacs(studyFolder);
  const context: BatchContext = { client: pacs.client, detector, store: true };
  const row = await analyseStudy(context, { studyInstanceUID, record: {} });
  const [seg, sr] = pacs.stored.map(bytes => parseDicom(bytes).instance.metadata);
  return { row, seg, sr };
}

const text = (json: DicomJson, tag: string) => stringValue(json, tag);

beforeAll(async () => {
  folder = makeTempDir('study-analysis');
  const modelFolder = join(folder, 'model');
  await initialiseNodeBackend('wasm');
  await writeModelPackage(modelFolder);
  await writeModelCard(modelFolder, { seriesThresholds: { FLAIR: FLAIR_THRESHOLD } });
  detector = await loadDetector(modelFolder);
  writeStudy(join(folder, 't2'), T2_STUDY_UID, MULTI_SERIES);
  writeStudy(join(folder, 'flair'), FLAIR_STUDY_UID, [
    ...MULTI_SERIES,
    { description: 'AX FLAIR', seriesNumber: 4, orientation: [1, 0, 0, 0, 1, 0] },
  ]);
}, 60_000);

afterAll(() => {
  detector?.model.dispose();
  removeDir(folder);
});

describe('a study read at its contrast’s operating point, with a card validated for FLAIR only', () => {
  let t2: Awaited<ReturnType<typeof analysed>>;
  let flair: Awaited<ReturnType<typeof analysed>>;
  beforeAll(async () => {
    t2 = await analysed(T2_STUDY_UID, join(folder, 't2'));
    flair = await analysed(FLAIR_STUDY_UID, join(folder, 'flair'));
  }, 60_000);

  test('a T2-only study: probabilities, no verdict, the reason; slices flagged at the slice threshold', () => {
    expect(t2.row).toMatchObject({
      status: 'stored',
      seriesDescription: 'AX T2 FSE',
      contrast: 'T2',
      positive: null,
      threshold: SLICE_THRESHOLD,
      slices: 5,
      message: WITHHELD_REASON,
    });
    const result = readStoredResult(t2.sr);
    expect(result).toMatchObject({
      positive: null,
      withheldReason: WITHHELD_REASON,
      threshold: SLICE_THRESHOLD,
    });
    expect(t2.row.flaggedSlices).toBe(
      result.slices.filter(slice => slice.probability >= SLICE_THRESHOLD).length
    );
    expect(text(t2.seg, '00700081')).toMatch(/Grad-CAM half max, p >= 0\.50/);
  });

  test('a study with FLAIR: its FLAIR series decided at the FLAIR threshold', () => {
    expect(flair.row).toMatchObject({
      status: 'stored',
      seriesDescription: 'AX FLAIR',
      contrast: 'FLAIR',
      positive: true,
      threshold: FLAIR_THRESHOLD,
      flaggedSlices: 5,
      message: '',
    });
    expect(readStoredResult(flair.sr)).toMatchObject({
      positive: true,
      threshold: FLAIR_THRESHOLD,
    });
    expect(text(flair.seg, '00700081')).toMatch(/Grad-CAM half max, p >= 0\.00/);
  });

  test('the CSV says no verdict with an empty positive and the reason, and reads back so', () => {
    const csv = formatResultsCsv([t2.row, flair.row]);
    expect(csv.split('\n')[1]).toContain(`,stored,${t2.row.probability!.toFixed(6)},,0.5,`);
    const [t2Row, flairRow] = readResultsCsv(csv);
    expect(t2Row).toMatchObject({ positive: null, message: WITHHELD_REASON });
    expect(flairRow.positive).toBe(true);
  });

  test('the summary counts the results without verdict, which are no failures', () => {
    const rows: ResultRow[] = [t2.row, flair.row];
    expect(summary(rows, { store: true, out: 'results.csv' }, Date.now())).toMatch(
      /: 2 stored, 0 already stored, 1 without verdict \(T2 series\), 0 without T2\/FLAIR, 0 failed; results in results\.csv$/
    );
    expect(summary([flair.row], { store: true, out: 'results.csv' }, Date.now())).not.toMatch(
      /without verdict/
    );
  });
});
