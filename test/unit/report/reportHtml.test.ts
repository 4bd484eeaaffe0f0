import { summariseCohort } from '../../../scripts/report/cohortSummary';
import { renderReportHtml } from '../../../scripts/report/reportHtml';
import type { ResultRow } from '../../../extension/src/core/results/resultsCsv';
import { KNOWN_COHORT, resultRow, rowWithoutResult, withheldRow } from './fixtures';

const SOURCES = {
  resultsFile: 'results.csv',
  truthFile: 'labels.csv',
  generatedAt: new Date('2026-02-03T04:05:06Z'),
};

function render(rows: ResultRow[], labelled = true): string {
  const labels = new Map(KNOWN_COHORT.map(({ row, tsc }) => [row.studyInstanceUID, tsc]));
  return renderReportHtml(
    summariseCohort(rows, labelled ? labels : undefined),
    labelled ? SOURCES : { ...SOURCES, truthFile: undefined }
  );
}

const cohortRows = KNOWN_COHORT.map(({ row }) => row);
const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;

describe('the HTML report', () => {
  it('is self-contained: no script, stylesheet link, image or remote address to fetch', () => {
    const html = render(cohortRows);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/<(script|link|img|iframe|object)\b/i);
    expect(html).not.toMatch(/url\(|@import/i);
    expect(html).toContain('<style>');
  });

  it('names its sources, the time, the model and the counts by status', () => {
    const html = render([...cohortRows, rowWithoutResult('failed', { studyInstanceUID: '7.1' })]);
    expect(html).toContain('results.csv: 11 studies');
    expect(html).toContain('labels.csv: 10 labels; 0 of studies without a result');
    expect(html).toContain('2026-02-03T04:05:06.000Z');
    expect(html).toContain('tuber-net 1.0.0, FLAIR series, threshold 0.500: 10 results');
    expect(html).toContain('<td>failed</td><td class="number">1</td>');
    expect(html).toContain('study 7.1: the PACS answered 500');
  });

  it('draws the histogram, the flagged slices chart and the ROC curve as inline SVG', () => {
    const html = render(cohortRows);
    expect(count(html, /<svg[\s\S]*?<\/svg>/g)).toBe(3);
    expect(html).toContain('Series probability per study');
    expect(html).toContain('threshold 0.500');
    expect(html).toContain('Flagged slices per study');
    expect(html).toContain('ROC, studies (AUC 0.917)');
    expect(render(cohortRows, false)).not.toContain('ROC');
  });

  it('gives the metrics with intervals beside the paper, and the confusion matrix', () => {
    const html = render(cohortRows);
    expect(html).toMatch(
      /<td>Sensitivity<\/td><td class="number">0\.750 \(.*?\)<\/td><td class="number">0\.95<\/td>/
    );
    expect(html).toMatch(
      /<td>AUC<\/td><td class="number">0\.917 \(.*?\)<\/td><td class="number">0\.99<\/td>/
    );
    expect(html).toContain(
      '<tr><th>TSC</th><td class="number">3</td><td class="number">1</td></tr>'
    );
    expect(html).toContain('rest on 10 labelled studies (4 TSC, 6 control)');
    expect(html).toContain('Only 10 labelled studies: the 95 % intervals are wide.');
  });

  it('does not call 20 labelled studies few', () => {
    const twice = [
      ...cohortRows,
      ...cohortRows.map(row => ({ ...row, studyInstanceUID: `${row.studyInstanceUID}.2` })),
    ];
    const labels = new Map(
      KNOWN_COHORT.flatMap(({ row, tsc }) => [
        [row.studyInstanceUID, tsc],
        [`${row.studyInstanceUID}.2`, tsc],
      ])
    );
    const html = renderReportHtml(summariseCohort(twice, labels), SOURCES);
    expect(html).toContain('rest on 20 labelled studies');
    expect(html).not.toContain('intervals are wide');
  });

  it('escapes HTML in patient IDs, descriptions and messages', () => {
    const html = render([
      resultRow({
        patientId: '<img src=x onerror=alert(1)>',
        seriesDescription: 'AX FLAIR & "T2" <b>',
      }),
      rowWithoutResult('failed', {
        studyInstanceUID: '7.1',
        patientId: "O'Brien",
        message: '<script>alert(1)</script>',
      }),
    ]);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('AX FLAIR &amp; &quot;T2&quot; &lt;b&gt;');
    expect(html).toContain('O&#39;Brien');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('warns about several model versions and reports each apart', () => {
    const html = render([
      ...cohortRows,
      resultRow({ studyInstanceUID: '7.1', modelVersion: '2.0.0', threshold: 0.7 }),
    ]);
    expect(html).toContain('These results come from 2 model versions or thresholds');
    expect(html).toContain('<h2>Results of tuber-net 1.0.0, FLAIR series, threshold 0.500</h2>');
    expect(html).toContain('<h2>Results of tuber-net 2.0.0, FLAIR series, threshold 0.700</h2>');
    expect(html).toContain('<th>Model</th>');
    expect(render(cohortRows)).not.toContain('model versions or thresholds');
  });

  it('lists results without a verdict as such, says how many and why, and leaves them out of the metrics', () => {
    const html = render([
      ...cohortRows,
      withheldRow({ studyInstanceUID: '7.1', patientId: 'P-T2-A' }),
      withheldRow({ studyInstanceUID: '7.2', patientId: 'P-T2-B', probability: 0.1 }),
    ]);
    expect(html).toContain('<h2>Results of tuber-net 1.0.0, T2 series, threshold 0.300</h2>');
    expect(html).toMatch(
      /<p class="warning">2 studies have a probability but no verdict: [\s\S]*? left out of the\nmetrics, confusion matrix and ROC curve\. No verdict: tuber-net 1\.0\.0 is validated for FLAIR series only, not for T2 series\.<\/p>/
    );
    expect(html).toContain('No result of this model has a verdict: no metrics.');
    expect(count(html, /<td title="No verdict: [^"]*">no verdict<\/td>/g)).toBe(2);
    expect(html).not.toMatch(/P-T2-A.*no tuber found/);
    // The FLAIR group's metrics are those of the ten FLAIR studies alone.
    expect(html).toContain(
      '<tr><th>TSC</th><td class="number">3</td><td class="number">1</td></tr>'
    );
  });

  it('says so when no result has a label', () => {
    const html = renderReportHtml(summariseCohort(cohortRows, new Map([['9.9', true]])), SOURCES);
    expect(html).toContain(
      'labels.csv: 1 label; 0 of studies without a result (no series, not analysed or failed), 1 of studies not in the results'
    );
    expect(html).toContain('No result of this model has a truth label: no metrics.');
    expect(html).not.toContain('<td>Sensitivity</td>');
  });

  it('still renders a results file without any result', () => {
    const html = render([rowWithoutResult('no-series')], false);
    expect(html).toContain('none: no study has a result');
    expect(html).not.toContain('<svg');
  });
});
