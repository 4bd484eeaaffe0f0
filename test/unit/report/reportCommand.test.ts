import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatResultsCsv } from '../../../extension/src/core/results/resultsCsv';
import { ReportInputError, reportCommand } from '../../../scripts/report/reportCommand';
import { makeTempDir, removeDir } from '../server/helpers';
import { KNOWN_COHORT, labelsCsv, rowWithoutResult, withheldRow } from './fixtures';

const ROOT = join(__dirname, '..', '..', '..');
const GOOD_RESULTS = formatResultsCsv([
  ...KNOWN_COHORT.map(({ row }) => row),
  rowWithoutResult('failed', { studyInstanceUID: '7.1' }),
]);
const GOOD_LABELS = labelsCsv(
  KNOWN_COHORT.map(({ row, tsc }) => [row.studyInstanceUID, tsc ? 'tsc' : 'control'])
);

let folder: string;
const inFolder = (name: string) => join(folder, name);

function writeInputs(results = GOOD_RESULTS, labels = GOOD_LABELS): void {
  writeFileSync(inFolder('results.csv'), results);
  writeFileSync(inFolder('labels.csv'), labels);
}

/** The message of the ReportInputError that `report ARGS` throws. */
async function inputError(...args: string[]): Promise<string> {
  const error = await reportCommand(args, () => {}).catch((thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(ReportInputError);
  return (error as Error).message;
}

beforeEach(() => {
  folder = makeTempDir('report');
});

afterEach(() => removeDir(folder));

describe('tuberlens report', () => {
  it('writes the report, creating its folder, and prints where and a summary', async () => {
    writeInputs();
    const printed: string[] = [];
    const out = inFolder('reports/cohort.html');
    await reportCommand(
      [inFolder('results.csv'), '--truth', inFolder('labels.csv'), '--out', out],
      text => printed.push(text)
    );
    expect(printed).toEqual([
      `Wrote ${out}`,
      '11 studies (10 stored, 1 failed), 4 called positive; tuber-net 1.0.0, FLAIR series, threshold 0.500: sensitivity 0.750, specificity 0.833, AUC 0.917 on 10 labelled studies.',
    ]);
    expect(readFileSync(out, 'utf8')).toMatch(/^<!DOCTYPE html>[\s\S]*<\/html>\n$/);
    expect(readdirSync(inFolder('reports'))).toEqual(['cohort.html']);
  });

  it('counts the results without a verdict in its summary, with no metrics of their own', async () => {
    writeInputs(
      formatResultsCsv([
        ...KNOWN_COHORT.map(({ row }) => row),
        withheldRow({ studyInstanceUID: '7.1' }),
      ])
    );
    const printed: string[] = [];
    await reportCommand(
      [inFolder('results.csv'), '--truth', inFolder('labels.csv'), '--out', inFolder('r.html')],
      text => printed.push(text)
    );
    expect(printed[1]).toBe(
      '11 studies (11 stored), 4 called positive, 1 without verdict; 2 model versions or thresholds, reported apart; tuber-net 1.0.0, FLAIR series, threshold 0.500: sensitivity 0.750, specificity 0.833, AUC 0.917 on 10 labelled studies.'
    );
  });

  it.each([
    [
      'a missing column',
      'study_instance_uid,status\n1.2,stored\n',
      /: the columns patient_id, .* are missing: not a results CSV of `tuberlens batch`\.$/,
    ],
    [
      'a non-numeric probability',
      GOOD_RESULTS.replace(',0.900000,', ',n/a,'),
      /results\.csv: row 2: probability "n\/a" is not a number from 0 to 1\.$/,
    ],
    [
      'a study listed twice',
      GOOD_RESULTS + GOOD_RESULTS.split('\n')[1] + '\n',
      /results\.csv: study 1\.2\.826\.0\.1\.1 is listed twice \(rows 2 and 13\)\.$/,
    ],
    [
      'an unclosed quote',
      `${GOOD_RESULTS}"1.2.3,`,
      /results\.csv: row 13: a quoted field is never closed\.$/,
    ],
  ])('rejects results with %s', async (_, results, message) => {
    writeInputs(results);
    expect(await inputError(inFolder('results.csv'), '--out', inFolder('r.html'))).toMatch(message);
  });

  it('rejects an unknown label value', async () => {
    writeInputs(GOOD_RESULTS, labelsCsv([['1.2.826.0.1.1', 'yes']]));
    expect(
      await inputError(
        inFolder('results.csv'),
        '--truth',
        inFolder('labels.csv'),
        '--out',
        inFolder('r.html')
      )
    ).toBe(
      `${inFolder('labels.csv')}: row 2: label "yes" is none of 1/0, tsc/control, positive/negative, true/false.`
    );
  });

  it('rejects missing files, folders and missing arguments', async () => {
    writeInputs();
    const results = inFolder('results.csv');
    expect(await inputError(inFolder('nope.csv'), '--out', inFolder('r.html'))).toBe(
      `${inFolder('nope.csv')} does not exist.`
    );
    expect(
      await inputError(results, '--truth', inFolder('nope.csv'), '--out', inFolder('r.html'))
    ).toBe(`${inFolder('nope.csv')} does not exist.`);
    expect(await inputError(folder, '--out', inFolder('r.html'))).toBe(
      `${folder} is a folder, not a CSV file.`
    );
    expect(await inputError(results, '--out', folder)).toBe(
      `--out ${folder} is a folder: name the HTML file to write.`
    );
    expect(await inputError(results)).toBe('Give the report to write with --out report.html.');
    expect(await inputError('--out', 'r.html')).toBe(
      'Give exactly one results CSV, as `tuberlens batch` writes it.'
    );
  });

  it('leaves an earlier report untouched when the input is bad, and no temporary file', async () => {
    writeInputs('not,a,results,file\n');
    mkdirSync(inFolder('out'));
    writeFileSync(inFolder('out/report.html'), 'earlier report');
    await inputError(inFolder('results.csv'), '--out', inFolder('out/report.html'));
    expect(readdirSync(inFolder('out'))).toEqual(['report.html']);
    expect(readFileSync(inFolder('out/report.html'), 'utf8')).toBe('earlier report');
  });
});

describe('tuberlens report, the real command line', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, 'bin', 'tuberlens.mjs'), ...args], {
      cwd: folder,
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('writes the report and exits 0', () => {
    writeInputs();
    const run = cli('report', 'results.csv', '--truth', 'labels.csv', '--out', 'report.html');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(`Wrote ${inFolder('report.html')}`);
    const html = readFileSync(inFolder('report.html'), 'utf8');
    expect(html.match(/<svg/g)).toHaveLength(3);
    expect(html).toContain('results.csv: 11 studies');
  });

  it('exits 2 with one line for bad input', () => {
    writeInputs(GOOD_RESULTS.replace(',stored,', ',done,'));
    const run = cli('report', 'results.csv', '--out', 'report.html');
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      'results.csv: row 2: status "done" is none of stored, analysed, already-stored, no-series, not-analysed, failed.\n'
    );
    expect(readdirSync(folder).sort()).toEqual(['labels.csv', 'results.csv']);
  });

  it('lists the command in the help', () => {
    const run = cli('--help');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(
      'Usage: tuberlens report <results.csv> [--truth labels.csv] --out <report.html>'
    );
  });
});
