import {
  MINIMUM_SERIES_AUC,
  type Evaluation,
  type SeriesOperatingPoint,
  type TuberAreaStratum,
} from './evaluate';
import { METRIC_NAMES, type Interval, type MetricName } from './metrics';

/** Test-set results of Sánchez Fernández et al. 2020 (InceptionV3, real T2/FLAIR slices). */
export const PAPER_RESULTS: Record<MetricName, number> = {
  sensitivity: 0.95,
  specificity: 0.95,
  ppv: 0.94,
  npv: 0.95,
  f1: 0.95,
  accuracy: 0.95,
  auc: 0.99,
};

export const METRIC_LABELS: Record<MetricName, string> = {
  sensitivity: 'Sensitivity',
  specificity: 'Specificity',
  ppv: 'PPV',
  npv: 'NPV',
  f1: 'F1',
  accuracy: 'Accuracy',
  auc: 'AUC',
};

export function formatInterval({ estimate, low, high }: Interval): string {
  if (Number.isNaN(estimate)) return 'n/a';
  return `${estimate.toFixed(3)} (${low.toFixed(3)}–${high.toFixed(3)})`;
}

export interface ReportContext {
  name: string;
  version: string;
  architecture: string;
  parameters: number;
  trainingSet: string;
  trainingHistory: Array<{
    epoch: number;
    trainLoss: number;
    trainMapLoss: number;
    validationLoss: number;
    validationAuc: number;
  }>;
  bestEpoch: number;
  /** Validation brains training monitored (the evaluation selects and chooses thresholds on more). */
  trainingValidationBrains: number;
  /** The selected candidate's binary cross-entropy on the evaluation's validation slices. */
  selectionLoss: number;
  /** The package this one replaced, scored on the same validation slices. */
  replaced?: { version: string; selectionLoss: number };
  candidates: CandidateSummary[];
}

/** One trained candidate, as the selection saw it. */
export interface CandidateSummary {
  architecture: string;
  epochs: number;
  bestEpoch: number;
  /** On the evaluation's validation brains: what the selection compares. */
  selectionLoss: number;
  /** The lowest loss on the brains training monitored, at the best epoch. */
  trainingValidationLoss: number;
  validationAuc: number;
  examplesPerSecond: number;
  /** The version whose evaluation scored it, when carried over from an earlier report. */
  scoredFor?: string;
}

/** Sensitivity, specificity and AUC per contrast, one row each. */
function contrastTable<T extends Record<MetricName, number>>(
  countHeader: string,
  byContrast: Record<string, T>,
  countCell: (metrics: T) => string
): string {
  return [
    `| Contrast | ${countHeader} | Sensitivity | Specificity | AUC |`,
    '| --- | --- | --- | --- | --- |',
    ...Object.entries(byContrast).map(
      ([contrast, m]) =>
        `| ${contrast} | ${countCell(m)} | ${m.sensitivity.toFixed(3)} | ${m.specificity.toFixed(3)} | ${m.auc.toFixed(3)} |`
    ),
  ].join('\n');
}

/** The series verdicts per contrast: the operating points the product decides with. */
function seriesTable(series: Record<string, SeriesOperatingPoint>): string {
  const row = ([contrast, point]: [string, SeriesOperatingPoint]) => {
    const chosenOn = `${point.validation.count} (${point.validation.tsc}), AUC ${point.validation.auc.toFixed(3)}`;
    const tested = `${point.test.count} (${point.test.tsc})`;
    if (point.threshold === undefined || !point.test.metrics) {
      return `| ${contrast} | ${chosenOn} | no verdict (validation AUC under ${MINIMUM_SERIES_AUC.toFixed(2)}) | ${tested} | | | ${point.test.auc.toFixed(3)} |`;
    }
    const { sensitivity, specificity } = point.test.metrics;
    return `| ${contrast} | ${chosenOn} | ${point.threshold.toFixed(4)} | ${tested} | ${formatInterval(sensitivity)} | ${formatInterval(specificity)} | ${point.test.auc.toFixed(3)} |`;
  };
  return [
    '| Contrast | Validation series (TSC) | Series threshold | Test series (TSC) | Sensitivity | Specificity | AUC |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...Object.entries(series).map(row),
  ].join('\n');
}

/** A stratum's tuber areas, e.g. "20–50 mm²" or "≥ 400 mm²". */
export function formatTuberArea({ fromMm2, toMm2 }: TuberAreaStratum): string {
  return toMm2 === undefined ? `≥ ${fromMm2} mm²` : `${fromMm2}–${toMm2} mm²`;
}

/** Detection and localisation by tuber area on the slice, a row per contrast and stratum. */
function tuberAreaTable(byTuberArea: Record<string, TuberAreaStratum[]>): string {
  const percent = (share: number) => `${(100 * share).toFixed(0)} %`;
  const rows = Object.entries(byTuberArea).flatMap(([contrast, strata]) =>
    strata.map(
      stratum =>
        `| ${contrast} | ${formatTuberArea(stratum)} | ${stratum.slices} | ${stratum.auc.toFixed(3)} | ${percent(stratum.sensitivity)} | ${stratum.flagged === undefined ? 'no verdict' : percent(stratum.flagged)} | ${stratum.pointingHits} (${percent(stratum.pointingHits / stratum.slices)}) |`
    )
  );
  return [
    '| Contrast | Tuber on the slice | Slices | AUC | Sensitivity at the slice threshold | Flagged at the series threshold | Pointing-game hits |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

export function renderReport(evaluation: Evaluation, context: ReportContext): string {
  const { slices, patients, pointingGame } = evaluation;
  const rows = METRIC_NAMES.map(
    name =>
      `| ${METRIC_LABELS[name]} | ${formatInterval(slices.metrics[name])} | ${formatInterval(patients.metrics[name])} | ${PAPER_RESULTS[name].toFixed(2)} |`
  );
  const confusion = (c: Evaluation['slices']['confusion']) =>
    `| | called tuber | called no tuber |\n| --- | --- | --- |\n| tuber | ${c.truePositives} | ${c.falseNegatives} |\n| no tuber | ${c.falsePositives} | ${c.trueNegatives} |`;
  const history = context.trainingHistory
    .map(
      record =>
        `| ${record.epoch} | ${record.trainLoss.toFixed(4)} | ${record.trainMapLoss.toFixed(4)} | ${record.validationLoss.toFixed(4)} | ${record.validationAuc.toFixed(4)} |`
    )
    .join('\n');
  const candidates = context.candidates
    .map(
      c =>
        `| ${c.architecture}${c.architecture === context.architecture ? ' (selected)' : ''}${c.scoredFor ? ` (scored for ${c.scoredFor})` : ''} | ${c.epochs} | ${c.bestEpoch} | ${c.selectionLoss.toFixed(4)} | ${c.trainingValidationLoss.toFixed(4)} | ${c.validationAuc.toFixed(4)} | ${c.examplesPerSecond.toFixed(1)} |`
    )
    .join('\n');
  return `# ${context.name} ${context.version}: evaluation report

Architecture: ${context.architecture} (${context.parameters.toLocaleString('en')} parameters), its weights of
epoch ${context.bestEpoch} (the lowest validation loss on the ${context.trainingValidationBrains} validation brains training monitored), selected by the
lowest validation binary cross-entropy (${context.selectionLoss.toFixed(4)}) on ${evaluation.validationBrains} validation brains. Slice threshold ${evaluation.threshold.toFixed(4)}, chosen on
the slices of ${evaluation.validationBrains} validation brains (Youden's J), and a series threshold per contrast chosen on
their series (see "Series verdicts"), all stored in the model card. Data: synthetic training set ${context.trainingSet}; the test brains come from
label maps that neither training nor validation used.

## Candidates

Each trained on the same synthetic training set; the lowest validation binary cross-entropy on the
${evaluation.validationBrains} validation brains wins. Training chose each candidate's best epoch on ${context.trainingValidationBrains} of them, so its loss
there is the lowest of several looks and the larger set compares candidates more fairly.${
    context.candidates.some(c => c.scoredFor)
      ? ' Candidates "scored for" an earlier version were scored on the same brains by that evaluation and are carried over from its report.'
      : ''
  }${
    context.replaced
      ? ` The package this one replaces, ${context.name} ${context.replaced.version}, scored ${context.replaced.selectionLoss.toFixed(4)} on the same slices.`
      : ''
  }

| Architecture | Epochs run | Best epoch | Validation BCE, ${evaluation.validationBrains} brains (selection) | Validation BCE, ${context.trainingValidationBrains} brains (training) | Validation AUC, ${context.trainingValidationBrains} brains | Training examples/s |
| --- | --- | --- | --- | --- | --- | --- |
${candidates}

## Test set, at the stored threshold (95 % bootstrap intervals over patients)

${slices.count} slices (${slices.positives} with tuber) from ${patients.count} brains (${patients.tsc} TSC).
A brain is called positive when any of its slices is. Ambiguous slices (some tuber, under 20 mm²) are
left out of the slice metrics; series and brains are judged on all their slices, as the product reads
them. The paper's figures are on real scans of 114 + 114 patients and are not directly comparable.

| Metric | Slices | Patients | Paper (InceptionV3) |
| --- | --- | --- | --- |
${rows.join('\n')}

By contrast (slices, same threshold):

${contrastTable('Slices (with tuber)', slices.byContrast, m => `${m.count} (${m.positives})`)}

By contrast (brains, each contrast's series on its own, positive when any of its slices is, same
slice threshold):

${contrastTable('Brains (TSC)', patients.byContrast, m => `${m.count} (${m.tsc})`)}

## Series verdicts: what the viewer, \`predict\` and \`batch\` decide

The product reads one series at a time and calls it positive when its highest slice probability reaches
the series threshold of its contrast. Each contrast's threshold is chosen on the validation series of
that contrast (one per brain; Youden's J, placed halfway to the next lower series), and only where
those series rank TSC brains above controls with an AUC of at least ${MINIMUM_SERIES_AUC.toFixed(2)}; a contrast
below that gets no verdict: the viewer and the CLI show its probabilities and say that the model is not
validated for it, rather than calling it positive or negative. Test series at the stored thresholds,
95 % bootstrap intervals over brains:

${seriesTable(evaluation.series)}

Binary cross-entropy on the test slices: ${evaluation.testLoss.toFixed(4)}.

### Confusion matrix, slices

${confusion(slices.confusion)}

### Confusion matrix, patients

${confusion(patients.confusion)}

## Grad-CAM localisation: the pointing game

On ${pointingGame.slices} test slices with tuber, the Grad-CAM peak lies within the tuber mask dilated by
${pointingGame.marginMm} mm on ${pointingGame.hits}: **${(100 * pointingGame.share).toFixed(1)} %** (the paper showed
its maps by eye only). By contrast: ${Object.entries(pointingGame.byContrast)
    .map(
      ([contrast, score]) =>
        `${contrast} ${score.hits} of ${score.slices} (${(100 * score.share).toFixed(1)} %)`
    )
    .join(', ')}.

## By tuber area on the slice

Test slices with tuber grouped by how much tuber the slice holds. AUC ranks each group against every
tuber-free test slice of the same contrast; "flagged" is what the viewer, \`predict\` and \`batch\` mark
on a series with a verdict.

${tuberAreaTable(evaluation.byTuberArea)}

## Plots

![ROC](roc.svg) ![Calibration](calibration.svg)

## Training history

| Epoch | Train BCE (balanced batches) | Train tuber-map BCE | Validation BCE | Validation AUC |
| --- | --- | --- | --- | --- |
${history}
`;
}
