// tuberlens batch: tuber detection over the studies of a PACS, results in a CSV and (--store) the PACS.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringValue } from '../../extension/src/core/dicomweb/dicomJson';
import { DicomwebClient, DicomwebError } from '../../extension/src/core/dicomweb/dicomwebClient';
import { searchAll } from '../../extension/src/core/dicomweb/pagedSearch';
import {
  formatResultRow,
  hasResult,
  RESULTS_CSV_HEADER,
  type ResultRow,
  type ResultStatus,
} from '../../extension/src/core/results/resultsCsv';
import { progressBar } from '../../models/pipeline/progressBar';
import { parseDicomwebUrl } from '../dicomwebUrl';
import { loadDetector } from '../predict';
import {
  analyseStudy,
  STUDY_QUERY_FIELDS,
  type BatchContext,
  type StudyEntry,
} from './studyAnalysis';

export const BATCH_USAGE = `Usage: tuberlens batch --dicomweb <url> (--study <uid>... | --all) [--store] [--out results.csv]
                      [--concurrency 2] [--model <folder>] [--user <name> --password <password>]

  Runs the tuber detector and Grad-CAM on one series per study of a PACS (DICOMweb): the axial
  FLAIR series, else the axial T2 one, at the model card's operating point for its contrast: where
  the model is not validated for the contrast, the result has its probabilities and no verdict, with
  the reason. --study (repeatable) names the studies, --all takes every MR study. One CSV row per
  study is written to --out as the study finishes (docs/results-format.md).
  --store stores each result in the PACS: a DICOM SEG of the tuber regions and a Comprehensive SR of
  the probabilities and the model. A study whose result the PACS holds for this model version is
  read back, not analysed again, so a batch can be run again or resumed after a crash.
  --concurrency is the number of studies in flight (downloads overlap inference).
  The user and password come from TUBERLENS_DICOMWEB_USER and TUBERLENS_DICOMWEB_PASSWORD, or from
  --user and --password, which other users of this machine can see in its process list.
  Exit 0 when every study went through, 1 when any failed, 2 for bad input or an unusable PACS.`;

/** Bad input, or a PACS that cannot be used at all: a one-line message and exit code 2. */
export class BatchInputError extends Error {}

const ROOT = resolve(__dirname, '..', '..');
const MAX_CONCURRENCY = 16;

type Progress = (line: string, done: boolean) => void;

interface BatchOptions {
  client: DicomwebClient;
  studies: string[] | 'all';
  store: boolean;
  out: string;
  concurrency: number;
  modelFolder: string;
}

/** Runs the batch and answers the exit code: 1 when a study failed, else 0. */
export async function batchCommand(
  args: string[],
  progress: Progress,
  print: (text: string) => void
): Promise<number> {
  const started = Date.now();
  const options = parseOptions(args);
  await checkPacs(options.client);
  startCsv(options.out);
  const detector = await loadDetector(options.modelFolder);
  const context: BatchContext = { client: options.client, detector, store: options.store };
  const studies = await studyEntries(options);
  const rows: ResultRow[] = [];
  const report = () =>
    progress(progressLine(rows, studies.length, started), rows.length === studies.length);
  report();
  await forEachConcurrently(studies, options.concurrency, async study => {
    const row = await analyseStudy(context, study);
    appendFileSync(options.out, formatResultRow(row));
    rows.push(row);
    report();
  });
  detector.model.dispose();
  print(summary(rows, options, started));
  return rows.some(row => row.status === 'failed') ? 1 : 0;
}

function parseOptions(args: string[]): BatchOptions {
  const { values } = parseArgs({
    args,
    options: {
      dicomweb: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      study: { type: 'string', multiple: true, default: [] },
      all: { type: 'boolean', default: false },
      store: { type: 'boolean', default: false },
      out: { type: 'string', default: 'results.csv' },
      concurrency: { type: 'string', default: '2' },
      model: { type: 'string', default: join(ROOT, 'models', 'tuber-net') },
    },
  });
  if (values.dicomweb === undefined)
    throw new BatchInputError(
      'Give the PACS with --dicomweb <url>, e.g. http://localhost:8042/dicom-web.'
    );
  const byStudy = values.study.length > 0;
  if (byStudy === values.all)
    throw new BatchInputError('Give either --study <uid> (once per study) or --all.');
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY)
    throw new BatchInputError(
      `--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, not "${values.concurrency}".`
    );
  return {
    client: dicomwebClient(values.dicomweb, values.user, values.password),
    studies: values.all ? 'all' : [...new Set(values.study)],
    store: values.store,
    out: values.out,
    concurrency,
    modelFolder: resolve(values.model),
  };
}

function dicomwebClient(text: string, userOption?: string, passwordOption?: string) {
  const url = parseDicomwebUrl(text, BatchInputError);
  if (url.username || url.password)
    throw new BatchInputError(
      'Give the user and password in TUBERLENS_DICOMWEB_USER and TUBERLENS_DICOMWEB_PASSWORD (or --user and --password), not in the URL.'
    );
  const user = userOption ?? process.env.TUBERLENS_DICOMWEB_USER;
  const password = passwordOption ?? process.env.TUBERLENS_DICOMWEB_PASSWORD;
  if (password !== undefined && user === undefined)
    throw new BatchInputError('A password without a user: give --user or TUBERLENS_DICOMWEB_USER.');
  return new DicomwebClient({ url: text, user, password });
}

/** One QIDO-RS request before any work: a PACS that is down or refuses the credentials stops here. */
async function checkPacs(client: DicomwebClient): Promise<void> {
  try {
    await client.searchStudies({ limit: 1 });
  } catch (error) {
    if (error instanceof DicomwebError) throw new BatchInputError(error.message);
    throw error;
  }
}

async function studyEntries({ client, studies }: BatchOptions): Promise<StudyEntry[]> {
  if (studies !== 'all') return studies.map(studyInstanceUID => ({ studyInstanceUID }));
  const records = await searchAll(page =>
    client.searchStudies({ ModalitiesInStudy: 'MR', ...STUDY_QUERY_FIELDS, ...page })
  );
  return records.map(record => ({
    studyInstanceUID: stringValue(record, '0020000D') ?? '',
    record,
  }));
}

/** A fresh CSV with its header: rows are appended as studies finish, so a killed batch leaves whole rows. */
function startCsv(out: string): void {
  try {
    writeFileSync(out, RESULTS_CSV_HEADER);
  } catch (error) {
    throw new BatchInputError(`Cannot write ${out}: ${(error as Error).message}`);
  }
}

async function forEachConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

function progressLine(rows: readonly ResultRow[], total: number, started: number): string {
  const last = rows.at(-1);
  const seconds = Math.round((Date.now() - started) / 1000);
  const bar = progressBar(total === 0 ? 1 : rows.length / total);
  return `${bar} ${rows.length}/${total} studies, ${seconds} s${last ? `; ${last.studyInstanceUID} ${last.status}` : ''}`;
}

/** The line printed when the batch is done. */
export function summary(
  rows: readonly ResultRow[],
  options: Pick<BatchOptions, 'store' | 'out'>,
  started: number
): string {
  const count = (status: ResultStatus) => rows.filter(row => row.status === status).length;
  const seconds = Math.round((Date.now() - started) / 1000);
  const done = options.store ? `${count('stored')} stored` : `${count('analysed')} analysed`;
  return (
    `${rows.length} ${rows.length === 1 ? 'study' : 'studies'} in ${seconds} s: ${done}, ` +
    `${count('already-stored')} already stored${withoutVerdict(rows)}, ` +
    `${count('no-series')} without T2/FLAIR, ${count('failed')} failed; results in ${options.out}`
  );
}

/** Results without a verdict and their contrasts: not failures, but no answer either; '' when none. */
function withoutVerdict(rows: readonly ResultRow[]): string {
  const withheld = rows.filter(row => hasResult(row) && row.positive === null);
  if (withheld.length === 0) return '';
  const contrasts = [...new Set(withheld.map(row => row.contrast ?? 'other'))].join(', ');
  return `, ${withheld.length} without verdict (${contrasts} series)`;
}
