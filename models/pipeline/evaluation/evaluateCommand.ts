// npm run evaluate -- --config models/configs/<a>.json [--config <b>.json …] [--version 0.1.0] [--replace]
// Selects, among the configs' trained candidates, the one with the lowest validation binary
// cross-entropy on the evaluation's validation brains (as the 2020 study selected InceptionV3),
// evaluates its best checkpoint on the untouched test split and writes the model package into
// models/<name>/ (batch normalisations and ReLUs folded into the convolutions): model.json,
// weights.bin, model-card.json (with the threshold, metrics and SHA-256 of every file), report.md,
// report.json, roc.svg and calibration.svg. The shipped package competes too, scored on the same
// validation slices: a selection that does not beat its loss leaves it in place. One that does
// replaces it, and carries its report's candidates when that report was made on the same validation
// set. A package that cannot be scored on these slices (other preprocessing, more neighbours, trained
// on these brains' label maps) is replaced only with --replace.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initialiseNodeBackend } from '../tfBackend';
import {
  DEFAULT_PREPROCESSING,
  preprocessingFingerprint,
} from '../../../extension/src/core/preprocessing';
import { GRAD_CAM_LAYER } from '../training/architectures';
import {
  ConfigError,
  evaluationSetSpec,
  readTrainingConfig,
  trainingSetFolder,
  trainingSetSpec,
  type TrainingConfig,
} from '../training/config';
import { foldIntoConvolutions } from '../training/foldIntoConvolutions';
import { loadModel, saveModel, sha256File, WEIGHTS_FILE } from '../training/modelFiles';
import type { TrainingState } from '../training/train';
import { ensureTrainingSet, loadTrainingSplit } from '../training/trainingSet';
import { evaluateModel, MINIMUM_SERIES_AUC, type Evaluation } from './evaluate';
import { formatTuberArea, renderReport, type CandidateSummary } from './report';
import {
  assertComparable,
  againstShipped,
  candidateTable,
  carriedCandidates,
  readShippedPackage,
  scoreCandidates,
  scoreShipped,
  selectCandidate,
  type Candidate,
  type ScoredCandidate,
  validationSetDigest,
} from './selection';

const ROOT = resolve(__dirname, '..', '..', '..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', multiple: true },
      version: { type: 'string', default: '0.1.0' },
      replace: { type: 'boolean', default: false },
    },
  });
  if (!values.config?.length) throw new ConfigError('--config <file> is required');
  const candidates = await Promise.all(values.config.map(readCandidate));
  assertComparable(candidates);
  await initialiseNodeBackend('wasm');
  const setFolder = trainingSetFolder(trainingSetSpec(candidates[0].config));
  const evaluationSpec = evaluationSetSpec(candidates[0].config);
  const validationFolder = trainingSetFolder(evaluationSpec);
  await ensureTrainingSet(evaluationSpec, validationFolder, console.log, ['validation']);
  const [validation, test] = await Promise.all([
    loadTrainingSplit(validationFolder, 'validation'),
    loadTrainingSplit(setFolder, 'test'),
  ]);
  const scored = await scoreCandidates(candidates, validation, console.log);
  const selected = selectCandidate(scored);
  const { config, runFolder, state } = selected;
  const brains = evaluationSpec.subjects.validation;
  console.log(
    `Selected ${candidateLabel(config)} (validation BCE ${selected.selectionLoss.toFixed(4)} on ${brains} brains; epoch ${state.bestEpoch}).`
  );
  const packageFolder = join(ROOT, 'models', config.name);
  const validationSet = validationSetDigest(validation);
  const shipped = await readShippedPackage(packageFolder);
  const shippedScore =
    shipped && (await scoreShipped(shipped, validation, config.data.labelMaps.validation));
  const standing = againstShipped(shippedScore, selected.selectionLoss);
  if (standing.outcome === 'not comparable' && !values.replace)
    throw new ConfigError(
      `The shipped ${[config.name, standing.version].filter(Boolean).join(' ')} in ${packageFolder} cannot be scored on these ${brains} validation brains (${standing.reason}), so the two cannot be compared; pass --replace to overwrite it with this selection.`
    );
  if (standing.outcome === 'not beaten' || standing.outcome === 'beaten')
    console.log(
      `The shipped ${config.name} ${standing.version} scores validation BCE ${standing.selectionLoss.toFixed(4)} on the same ${brains} brains.`
    );
  if (standing.outcome === 'not beaten') {
    console.log(`The selection does not beat it: ${packageFolder} is left as it is.`);
    return;
  }
  const model = await foldIntoConvolutions(await loadModel(join(runFolder, 'best')), [
    GRAD_CAM_LAYER,
  ]);
  const evaluation = await evaluateModel(
    model,
    validation,
    test,
    DEFAULT_PREPROCESSING.fieldOfViewMm
  );

  await saveModel(model, packageFolder);
  const context = {
    name: config.name,
    version: values.version,
    architecture: candidateLabel(config),
    parameters: model.countParams(),
    trainingSet: basename(setFolder),
    validationSet,
    trainingHistory: state.history,
    bestEpoch: state.bestEpoch,
    trainingValidationBrains: config.data.subjects.validation,
    selectionLoss: selected.selectionLoss,
    ...(standing.outcome === 'beaten'
      ? { replaced: { version: standing.version, selectionLoss: standing.selectionLoss } }
      : {}),
    candidates: candidateTable(
      scored.map(summarise),
      carriedCandidates(shipped && 'report' in shipped ? shipped.report : undefined, validationSet)
    ),
  };
  const { plots, ...results } = evaluation;
  await writeFile(join(packageFolder, 'roc.svg'), plots.roc);
  await writeFile(join(packageFolder, 'calibration.svg'), plots.calibration);
  await writeFile(
    join(packageFolder, 'report.json'),
    `${JSON.stringify({ ...context, ...results }, null, 2)}\n`
  );
  await writeFile(join(packageFolder, 'report.md'), renderReport(evaluation, context));
  const card = await modelCard(config, context, evaluation, packageFolder, selected.configPath);
  await writeFile(join(packageFolder, 'model-card.json'), `${JSON.stringify(card, null, 2)}\n`);
  console.log(`Wrote ${packageFolder}: ${JSON.stringify(card.metrics.slices)}`);
}

async function readCandidate(configPath: string): Promise<Candidate> {
  const config = readTrainingConfig(configPath);
  const runFolder = join(ROOT, '.cache', 'runs', basename(configPath, '.json'));
  const statePath = join(runFolder, 'state.json');
  if (!existsSync(statePath))
    throw new ConfigError(`${configPath} has no trained run in ${runFolder}: train it first.`);
  const state = JSON.parse(await readFile(statePath, 'utf8')) as TrainingState;
  return { configPath, config, runFolder, state };
}

/** The architecture and what sets its training apart, so that no two candidates in a report read alike. */
function candidateLabel({ architecture, mapStride, data, training }: TrainingConfig): string {
  const traits = [
    mapStride === 4 && '1/4 map',
    training.brightNegatives && 'bright negative crops',
    training.cropContrasts && `crops ${contrastMix(training.cropContrasts)}`,
    training.tuberCellWeight && `tuber cells ×${training.tuberCellWeight}`,
    training.cropAnnealing && `annealed crops (up to ${training.cropAnnealing.epochs} epochs)`,
    training.hardNegatives && 'hard negatives',
    (training.shares ?? 1) > 1 && `${training.shares} shares`,
    data.neighbours && `2.5D, ${data.neighbours} neighbour${data.neighbours > 1 ? 's' : ''} a side`,
  ].filter(Boolean);
  return traits.length > 0 ? `${architecture} (${traits.join(', ')})` : architecture;
}

/** Crop shares per contrast as percentages, e.g. "75 % T2, 25 % FLAIR". */
function contrastMix(shares: Partial<Record<string, number>>): string {
  const entries = Object.entries(shares) as Array<[string, number]>;
  const total = entries.reduce((sum, [, share]) => sum + share, 0);
  return entries
    .map(([contrast, share]) => `${Math.round((100 * share) / total)} % ${contrast}`)
    .join(', ');
}

function summarise({ config, state, selectionLoss }: ScoredCandidate): CandidateSummary {
  const best = state.history[state.bestEpoch - 1];
  const rates = state.history.map(record => record.examplesPerSecond);
  return {
    architecture: candidateLabel(config),
    epochs: state.completedEpochs,
    bestEpoch: state.bestEpoch,
    selectionLoss,
    trainingValidationLoss: state.bestValidationLoss,
    validationAuc: best?.validationAuc ?? NaN,
    examplesPerSecond: rates.reduce((sum, rate) => sum + rate, 0) / Math.max(1, rates.length),
  };
}

async function modelCard(
  config: TrainingConfig,
  context: { version: string; parameters: number; trainingSet: string },
  evaluation: Evaluation,
  folder: string,
  configPath: string
) {
  const files = Object.fromEntries(
    await Promise.all(
      ['model.json', WEIGHTS_FILE].map(async file => [file, await sha256File(join(folder, file))])
    )
  );
  return {
    name: config.name,
    version: context.version,
    architecture: config.architecture,
    mapStride: config.mapStride ?? 8,
    parameters: context.parameters,
    input: inputSpec(config.data.neighbours ?? 0),
    output: 'Probability that the slice holds at least 20 mm² of tuber.',
    threshold: evaluation.threshold,
    seriesThresholds: seriesThresholds(evaluation),
    gradCamLayer: GRAD_CAM_LAYER,
    metrics: {
      slices: evaluation.slices.metrics,
      patients: evaluation.patients.metrics,
      series: seriesMetrics(evaluation),
      pointingGame: evaluation.pointingGame.share,
      byTuberArea: evaluation.byTuberArea,
      intervals: '95 % percentile bootstrap over test patients',
    },
    trainingData: {
      source:
        'Synthetic T2 and FLAIR brains with and without tubers rendered by the TuberLens synthesis engine from the SynthSeg label maps (Apache-2.0).',
      labelMaps: config.data.labelMaps,
      subjects: config.data.subjects,
      validationBrainsForThresholds: evaluation.validationBrains,
      trainingSet: context.trainingSet,
      config: configPath,
    },
    intendedUse:
      'Research use only: flagging axial T2/FLAIR slices that may hold cortical or subcortical tubers of tuberous sclerosis complex, for review by a radiologist. Not a medical device.',
    limitations: [
      'Trained and tested on synthetic images only; performance on real scans has not been measured.',
      'Axial T2-weighted and FLAIR MR only; other contrasts, planes and modalities are out of scope.',
      'A series is positive when its highest slice probability reaches the series threshold of its contrast (seriesThresholds, chosen on validation series); tubers under 20 mm² on a slice are not targeted.',
      contrastLimitation(evaluation),
      ...tuberAreaLimitations(evaluation),
      ...withheldContrastsLimitation(evaluation),
    ],
    files,
  };
}

/** The contrasts that get a series verdict, each with its threshold (see core/operatingPoint.ts). */
function seriesThresholds(evaluation: Evaluation): Record<string, number> {
  return Object.fromEntries(
    Object.entries(evaluation.series).flatMap(([contrast, { threshold }]) =>
      threshold === undefined ? [] : [[contrast, threshold]]
    )
  );
}

function seriesMetrics(evaluation: Evaluation) {
  return Object.fromEntries(
    Object.entries(evaluation.series).flatMap(([contrast, { test }]) =>
      test.metrics ? [[contrast, test.metrics]] : []
    )
  );
}

/** Which contrasts get no verdict, and why. */
function withheldContrastsLimitation(evaluation: Evaluation): string[] {
  return Object.entries(evaluation.series).flatMap(([contrast, point]) =>
    point.threshold === undefined
      ? [
          `No verdict on ${contrast} series: on the validation ${contrast} series the model ranked TSC brains above controls with an AUC of ${point.validation.auc.toFixed(2)}, under the ${MINIMUM_SERIES_AUC} a verdict requires; the viewer and the CLI show ${contrast} probabilities and say so.`,
        ]
      : []
  );
}

/** How often the product flags a slice, by tuber area, on each contrast it gives a verdict on. */
function tuberAreaLimitations(evaluation: Evaluation): string[] {
  return Object.entries(evaluation.byTuberArea).flatMap(([contrast, strata]) => {
    if (strata.some(stratum => stratum.flagged === undefined)) return [];
    const shares = strata.map(
      stratum =>
        `${formatTuberArea(stratum)} of tuber, ${Math.round((stratum.flagged ?? 0) * stratum.slices)} of ${stratum.slices}`
    );
    return [
      `Small tubers are missed most. Test ${contrast} slices flagged at the ${contrast} series threshold: ${shares.join('; ')}.`,
    ];
  });
}

const PREPROCESSING_DESCRIPTION =
  'modality LUT applied, radiological orientation, a 240 mm field of view resampled to 128², intensities scaled to the head’s 1st–99.5th percentiles (0–1, clipped at 1.5)';

function inputSpec(neighbours: number) {
  const { size } = DEFAULT_PREPROCESSING;
  const common = { preprocessing: preprocessingFingerprint(DEFAULT_PREPROCESSING) };
  if (neighbours === 0)
    return {
      shape: [size, size, 1],
      ...common,
      description: `One axial T2 or FLAIR slice: ${PREPROCESSING_DESCRIPTION}.`,
    };
  return {
    shape: [size, size, 2 * neighbours + 1],
    neighbours,
    ...common,
    description: `An axial T2 or FLAIR slice with ${neighbours === 1 ? 'the adjacent slice' : `the ${neighbours} nearest slices`} of its series below and above it as channels (lowest first; at the ends of the series the last slice repeats), each slice preprocessed on its own: ${PREPROCESSING_DESCRIPTION}.`,
  };
}

/** How much the result depends on the contrast, from the test set's per-contrast AUC. */
function contrastLimitation(evaluation: Evaluation): string {
  const ranked = Object.entries(evaluation.slices.byContrast).sort(([, a], [, b]) => b.auc - a.auc);
  const listed = ranked.map(([contrast, { auc }]) => `${contrast} ${auc.toFixed(2)}`).join(', ');
  const [best] = ranked;
  const worst = ranked[ranked.length - 1];
  const advice =
    best[1].auc - worst[1].auc > 0.05
      ? `; read its ${best[0]} results first, and its ${worst[0]} results with care`
      : '';
  return `Slice AUC by contrast on the synthetic test set: ${listed}${advice}.`;
}

main().catch(error => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
