// tuberlens report <results.csv> [--truth labels.csv] --out <report.html>
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CsvError } from '../../extension/src/core/csv';
import { RESULT_STATUSES } from '../../extension/src/core/results/resultsCsv';
import { hasVerdict, summariseCohort, type CohortSummary } from './cohortSummary';
import { groupName, renderReportHtml } from './reportHtml';
import { readResultsCsv } from './resultsCsv';
import { readTruthLabels } from './truthLabels';

export const REPORT_USAGE = `Usage: tuberlens report <results.csv> [--truth labels.csv] --out <report.html>

  Writes one self-contained HTML file (it opens offline) about the results CSV of \`tuberlens batch\`:
  studies by status, failures, the probability histogram, flagged slices per study and a table of the
  studies. --truth (columns study_instance_uid,label) adds the study-level sensitivity, specificity,
  PPV, NPV, F1, accuracy and AUC with 95 % bootstrap intervals, the confusion matrix and the ROC curve,
  beside the 2020 paper's figures. Results of different model versions (and contrasts read at their
  own thresholds) are reported apart, never pooled; results without a verdict are listed and left
  out of the metrics. Exit 2 with a one-line reason for input it cannot use.`;

/** Input the command cannot use: one line on stderr, exit code 2. */
export class ReportInputError extends Error {}

export async function reportCommand(
  args: string[],
  print: (text: string) => void,
  now = new Date()
): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { truth: { type: 'string' }, out: { type: 'string' } },
  });
  if (positionals.length !== 1)
    throw new ReportInputError('Give exactly one results CSV, as `tuberlens batch` writes it.');
  if (!values.out) throw new ReportInputError('Give the report to write with --out report.html.');
  const [resultsFile] = positionals;
  const rows = await readCsvFile(resultsFile, readResultsCsv);
  const labels = values.truth ? await readCsvFile(values.truth, readTruthLabels) : undefined;
  const summary = summariseCohort(rows, labels);
  const html = renderReportHtml(summary, {
    resultsFile: basename(resultsFile),
    ...(values.truth ? { truthFile: basename(values.truth) } : {}),
    generatedAt: now,
  });
  const out = resolve(values.out);
  await writeAtomically(out, html);
  print(`Wrote ${out}`);
  print(oneLineSummary(summary));
}

async function readCsvFile<T>(path: string, parse: (text: string) => T): Promise<T> {
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ReportInputError(`${path} does not exist.`);
    if (code === 'EISDIR') throw new ReportInputError(`${path} is a folder, not a CSV file.`);
    throw new ReportInputError(`Cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return parse(text);
  } catch (error) {
    if (error instanceof CsvError) throw new ReportInputError(`${path}: ${error.message}.`);
    throw error;
  }
}

/** Writes a temporary file beside `path` and renames it, so that no half-written report is left. */
async function writeAtomically(path: string, text: string): Promise<void> {
  if ((await stat(path).catch(() => undefined))?.isDirectory())
    throw new ReportInputError(`--out ${path} is a folder: name the HTML file to write.`);
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new ReportInputError(`Cannot write ${path}: ${(error as Error).message}`);
  }
}

function oneLineSummary({ rows, statusCounts, groups }: CohortSummary): string {
  const statuses = RESULT_STATUSES.filter(status => statusCounts[status] > 0)
    .map(status => `${statusCounts[status]} ${status}`)
    .join(', ');
  const results = groups.flatMap(group => group.results);
  const positives = results.filter(row => row.positive).length;
  const withheld = results.filter(row => !hasVerdict(row)).length;
  const studies = `${rows.length} ${rows.length === 1 ? 'study' : 'studies'}`;
  const parts = [
    `${studies} (${statuses || 'none'}), ${positives} called positive` +
      (withheld ? `, ${withheld} without verdict` : ''),
  ];
  if (groups.length > 1)
    parts.push(`${groups.length} model versions or thresholds, reported apart`);
  for (const group of groups) {
    const { evaluation } = group;
    if (!evaluation || !group.results.some(hasVerdict)) continue;
    const { sensitivity, specificity, auc } = evaluation.metrics;
    const figure = (value: number) => (Number.isNaN(value) ? 'n/a' : value.toFixed(3));
    parts.push(
      `${groupName(group)}: sensitivity ${figure(sensitivity.estimate)}, specificity ${figure(specificity.estimate)}, AUC ${figure(auc.estimate)} on ${evaluation.labelled} labelled studies`
    );
  }
  return `${parts.join('; ')}.`;
}
