/** The HTML of `tuberlens report`: one self-contained file, inline CSS and SVG, nothing fetched. */
import { METRIC_NAMES } from '../../models/pipeline/evaluation/metrics';
import {
  barChartSvg,
  escapeXml,
  probabilityHistogramSvg,
  rocSvg,
} from '../../models/pipeline/evaluation/plots';
import {
  formatInterval,
  METRIC_LABELS,
  PAPER_RESULTS,
} from '../../models/pipeline/evaluation/report';
import {
  BOOTSTRAP_RESAMPLES,
  hasVerdict,
  type CohortSummary,
  type GroupEvaluation,
  type LabelCoverage,
  type ModelGroup,
  type RowWithResult,
} from './cohortSummary';
import {
  RESULT_STATUSES,
  type ResultRow,
  type ResultStatus,
} from '../../extension/src/core/results/resultsCsv';

/** Below this many labelled studies the report warns that the intervals are wide. */
const FEW_STUDIES = 20;
const BAR_LABEL_LENGTH = 22;

export interface ReportSources {
  resultsFile: string;
  truthFile?: string;
  generatedAt: Date;
}

const STATUS_MEANINGS: Record<ResultStatus, string> = {
  stored: 'analysed now and stored in the PACS',
  analysed: 'analysed now, not stored (no --store)',
  'already-stored': "the PACS already held this model version's result",
  'no-series': 'no axial T2/FLAIR MR series',
  'not-analysed': 'the PACS holds no TuberLens result for the study',
  failed: 'the analysis failed (listed below)',
};

const VERDICTS_WITHOUT_RESULT: Partial<Record<ResultStatus, string>> = {
  'no-series': 'no series',
  'not-analysed': 'not analysed',
  failed: 'failed',
};

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #eee; }
tbody tr:nth-child(even) { background: #f7f7f7; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.positive { color: #b00; font-weight: 600; }
.warning { background: #fff4e0; border-left: 4px solid #e69500; padding: 0.5rem 1rem; }
.figures { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
.note, dl { color: #555; }
dt { font-weight: 600; float: left; clear: left; width: 9rem; }
dd { margin: 0 0 0.25rem 9rem; }
`;

export function renderReportHtml(summary: CohortSummary, sources: ReportSources): string {
  const several = summary.groups.length > 1;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>TuberLens report: ${escapeXml(sources.resultsFile)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>TuberLens report</h1>
${overview(summary, sources)}
${several ? multiVersionWarning(summary.groups) : ''}
${statusSection(summary)}
${summary.groups.map(groupSection).join('\n')}
${studiesTable(summary, several)}
</body>
</html>
`;
}

function overview(summary: CohortSummary, sources: ReportSources): string {
  const models = summary.groups.length
    ? summary.groups
        .map(group => `${escapeXml(groupName(group))}: ${count(group.results.length, 'result')}`)
        .join('<br>')
    : 'none: no study has a result';
  const truth = summary.labelCoverage
    ? `<dt>Truth labels</dt><dd>${escapeXml(sources.truthFile ?? '')}: ${labelCoverageText(summary.labelCoverage)}</dd>`
    : '';
  return `<dl>
<dt>Results</dt><dd>${escapeXml(sources.resultsFile)}: ${count(summary.rows.length, 'study', 'studies')}</dd>
${truth}
<dt>Generated</dt><dd>${sources.generatedAt.toISOString()}</dd>
<dt>Model${summary.groups.length > 1 ? 's' : ''}</dt><dd>${models}</dd>
</dl>`;
}

function labelCoverageText(coverage: LabelCoverage): string {
  return `${count(coverage.labels, 'label')}; ${coverage.ofStudiesWithoutResult} of studies without a result (no series, not analysed or failed), ${coverage.ofStudiesNotListed} of studies not in the results`;
}

function multiVersionWarning(groups: ModelGroup[]): string {
  return `<p class="warning"><strong>These results come from ${groups.length} model versions or thresholds</strong>
(${groups.map(group => escapeXml(groupName(group))).join('; ')}). They are not pooled: each has its own
section below with its own histogram, chart and metrics, and the table of studies names the model of each.</p>`;
}

function statusSection({ statusCounts, rows }: CohortSummary): string {
  const counts = RESULT_STATUSES.map(
    status =>
      `<tr><td>${status}</td><td class="number">${statusCounts[status]}</td><td>${STATUS_MEANINGS[status]}</td></tr>`
  ).join('\n');
  const failed = rows.filter(row => row.status === 'failed');
  const failures = failed.length
    ? `<h3>Failed studies</h3>\n<ul>\n${failed
        .map(
          row =>
            `<li><strong>${escapeXml(row.patientId || '(no patient ID)')}</strong>, study ${escapeXml(row.studyInstanceUID)}: ${escapeXml(row.message || '(no message)')}</li>`
        )
        .join('\n')}\n</ul>`
    : '';
  return `<h2>Studies by status</h2>
<table>
<thead><tr><th>Status</th><th>Studies</th><th>Meaning</th></tr></thead>
<tbody>
${counts}
</tbody>
</table>
${failures}`;
}

function groupSection(group: ModelGroup): string {
  const positives = group.results.filter(row => row.positive).length;
  const withheld = group.results.filter(row => !hasVerdict(row));
  const histogram = probabilityHistogramSvg(
    group.results.map(row => row.probability),
    group.threshold,
    { title: 'Series probability per study', xLabel: 'series probability', yLabel: 'studies' }
  );
  return `<section>
<h2>Results of ${escapeXml(groupName(group))}</h2>
<p>${count(group.results.length, 'study', 'studies')} with a result, ${positives} called positive (tubers
suspected: series probability ≥ ${thresholdText(group.threshold)}).</p>
${withheld.length ? withoutVerdictNote(withheld) : ''}
<div class="figures">
${histogram}
${flaggedSlicesChart(group)}
</div>
<p class="note">Flagged slices: slices with probability ≥ the threshold. Red bars: studies called
positive; blue: negative${withheld.length ? ' or without verdict' : ''}.</p>
${group.evaluation ? evaluationSection(group, group.evaluation) : ''}
</section>`;
}

/** How many results have no verdict and why: never negatives, so outside the metrics. */
function withoutVerdictNote(withheld: readonly RowWithResult[]): string {
  const reasons = [...new Set(withheld.map(row => row.message).filter(Boolean))];
  const why = reasons.length ? ` ${reasons.map(escapeXml).join(' ')}` : '';
  return `<p class="warning">${count(withheld.length, 'study has', 'studies have')} a probability but no verdict: the
model is not validated for their series, so they are listed as "no verdict" and left out of the
metrics, confusion matrix and ROC curve.${why}</p>`;
}

function flaggedSlicesChart(group: ModelGroup): string {
  const rows = group.results
    .filter(row => row.flaggedSlices !== undefined)
    .sort((a, b) => b.flaggedSlices! - a.flaggedSlices! || b.probability - a.probability);
  const labels = studyLabels(rows);
  return barChartSvg(
    rows.map((row, n) => ({
      label: labels[n],
      value: row.flaggedSlices!,
      highlighted: row.positive === true,
    })),
    { title: 'Flagged slices per study', valueLabel: 'flagged slices' }
  );
}

/** Patient ID (the end of the Study UID without one), with the study date where a label repeats. */
function studyLabels(rows: ResultRow[]): string[] {
  const base = rows.map(row => row.patientId || `…${row.studyInstanceUID.slice(-12)}`);
  const repeated = (label: string) => base.indexOf(label) !== base.lastIndexOf(label);
  return base.map((label, n) =>
    shorten(repeated(label) ? `${label} ${formatDate(rows[n].studyDate)}` : label)
  );
}

function shorten(label: string): string {
  return label.length > BAR_LABEL_LENGTH ? `${label.slice(0, BAR_LABEL_LENGTH - 1)}…` : label;
}

function evaluationSection(group: ModelGroup, evaluation: GroupEvaluation): string {
  const { labelled, labelledPositive, unlabelled, metrics, confusion, roc } = evaluation;
  const withheld = group.results.filter(row => !hasVerdict(row)).length;
  if (labelled === 0) {
    const why = withheld === group.results.length ? 'a verdict' : 'a truth label';
    return `<h3>Against the truth labels</h3>\n<p class="warning">No result of this model has ${why}: no metrics.</p>`;
  }
  const bothClasses = labelledPositive > 0 && labelledPositive < labelled;
  const rows = METRIC_NAMES.map(
    name =>
      `<tr><td>${METRIC_LABELS[name]}</td><td class="number">${formatInterval(metrics[name])}</td><td class="number">${PAPER_RESULTS[name].toFixed(2)}</td></tr>`
  ).join('\n');
  const operatingPoint = {
    falsePositiveRate: 1 - metrics.specificity.estimate,
    truePositiveRate: metrics.sensitivity.estimate,
  };
  const warnings = [
    labelled < FEW_STUDIES &&
      `Only ${count(labelled, 'labelled study', 'labelled studies')}: the 95 % intervals are wide.`,
    !bothClasses &&
      'The labelled studies are not both TSC and control: the metrics that need both (n/a) are undefined and there is no ROC curve.',
  ].filter(Boolean);
  return `<h3>Against the truth labels</h3>
<p>The metrics rest on ${count(labelled, 'labelled study', 'labelled studies')} (${labelledPositive} TSC, ${labelled - labelledPositive} control).
${count(unlabelled, 'result')} without a label ${unlabelled === 1 ? 'is' : 'are'} left out${withheld ? `, and ${count(withheld, 'result')} without a verdict` : ''}. A study is called
positive when its series probability reaches the threshold.</p>
${warnings.map(warning => `<p class="warning">${warning}</p>`).join('\n')}
<div class="figures">
<div>
<table>
<thead><tr><th>Metric</th><th>This cohort, studies (95 % CI)</th><th>Paper (InceptionV3)</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<table>
<thead><tr><th></th><th>called positive</th><th>called negative</th></tr></thead>
<tbody>
<tr><th>TSC</th><td class="number">${confusion.truePositives}</td><td class="number">${confusion.falseNegatives}</td></tr>
<tr><th>control</th><td class="number">${confusion.falsePositives}</td><td class="number">${confusion.trueNegatives}</td></tr>
</tbody>
</table>
</div>
${bothClasses ? rocSvg(roc, metrics.auc.estimate, operatingPoint, 'ROC, studies') : ''}
</div>
<p class="note">Intervals: percentile bootstrap over studies, ${BOOTSTRAP_RESAMPLES} resamples. Paper: Sánchez Fernández
et al. 2020, PLoS ONE, InceptionV3 on the test set of its own cohort; another cohort, not directly
comparable. The red dot on the ROC curve is the operating point at threshold ${thresholdText(group.threshold)}.</p>`;
}

/** Optional columns of the studies table: the model where there are several, the truth label. */
interface StudyColumns {
  model: boolean;
  truth?: Map<string, boolean>;
}

function studiesTable({ rows, labels }: CohortSummary, several: boolean): string {
  const columns: StudyColumns = { model: several, truth: labels };
  const sorted = [...rows].sort(
    (a, b) =>
      a.patientId.localeCompare(b.patientId) ||
      a.studyDate.localeCompare(b.studyDate) ||
      a.studyInstanceUID.localeCompare(b.studyInstanceUID)
  );
  const header = [
    'Patient',
    'Study date',
    'Series',
    'Probability',
    'Verdict',
    'Flagged / slices',
    ...(columns.model ? ['Model'] : []),
    ...(columns.truth ? ['Truth'] : []),
  ];
  return `<h2>Studies</h2>
<table>
<thead><tr>${header.map(name => `<th>${name}</th>`).join('')}</tr></thead>
<tbody>
${sorted.map(row => studyRow(row, columns)).join('\n')}
</tbody>
</table>`;
}

function studyRow(row: ResultRow, columns: StudyColumns): string {
  const series = row.seriesDescription || row.seriesInstanceUID;
  const truth = columns.truth?.get(row.studyInstanceUID);
  const cells = [
    `<td title="Study ${escapeXml(row.studyInstanceUID)}">${escapeXml(row.patientId || '(no patient ID)')}</td>`,
    `<td>${escapeXml(formatDate(row.studyDate))}</td>`,
    `<td>${escapeXml(series)}${row.contrast ? ` (${row.contrast})` : ''}</td>`,
    `<td class="number">${row.probability?.toFixed(3) ?? ''}</td>`,
    verdictCell(row),
    `<td class="number">${row.slices === undefined ? '' : `${row.flaggedSlices ?? '?'} / ${row.slices}`}</td>`,
    ...(columns.model ? [`<td>${escapeXml(`${row.modelName} ${row.modelVersion}`)}</td>`] : []),
    ...(columns.truth ? [`<td>${truth === undefined ? '' : truth ? 'TSC' : 'control'}</td>`] : []),
  ];
  return `<tr>${cells.join('')}</tr>`;
}

/** The verdict; where there is none, the reason shows on hover. */
function verdictCell(row: ResultRow): string {
  const attribute = row.positive
    ? ' class="positive"'
    : row.positive === null && row.message
      ? ` title="${escapeXml(row.message)}"`
      : '';
  return `<td${attribute}>${verdict(row)}</td>`;
}

function verdict(row: ResultRow): string {
  if (row.positive === null) return 'no verdict';
  if (row.positive !== undefined) return row.positive ? 'tubers suspected' : 'no tuber found';
  return VERDICTS_WITHOUT_RESULT[row.status] ?? '';
}

/** The contrasts are named because a model's series thresholds differ by contrast: one version, two groups. */
export function groupName({ name, version, threshold, contrasts }: ModelGroup): string {
  const series = contrasts.length ? `, ${contrasts.join(' and ')} series` : '';
  return `${name || '(unnamed model)'} ${version}${series}, threshold ${thresholdText(threshold)}`;
}

/** Thresholds are stored at full float precision; three decimals say the same to a reader. */
function thresholdText(threshold: number): string {
  return threshold.toFixed(3);
}

function formatDate(date: string): string {
  return /^\d{8}$/.test(date) ? `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}` : date;
}

function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
