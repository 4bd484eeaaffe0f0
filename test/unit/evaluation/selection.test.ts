import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initialiseNodeBackend } from '../../../models/pipeline/tfBackend';
import { binaryCrossEntropy } from '../../../models/pipeline/evaluation/metrics';
import type { CandidateSummary } from '../../../models/pipeline/evaluation/report';
import {
  againstShipped,
  assertComparable,
  candidateTable,
  carriedCandidates,
  readShippedPackage,
  scoreCandidates,
  scoreShipped,
  selectCandidate,
  validationSetDigest,
  whyUnscorable,
  type Candidate,
  type ShippedPackage,
} from '../../../models/pipeline/evaluation/selection';
import { parseEngineModelCard } from '../../../extension/src/core/engine/modelPackage';
import {
  DEFAULT_PREPROCESSING,
  preprocessingFingerprint,
} from '../../../extension/src/core/preprocessing';
import { ConfigError } from '../../../models/pipeline/training/config';
import { loadModel } from '../../../models/pipeline/training/modelFiles';
import { predictSplit, trainCandidate } from '../../../models/pipeline/training/train';
import { labelledSlices } from '../../../models/pipeline/training/trainingSet';
import { TOY_SIZE, toyConfig, toySplit } from '../../fixtures/toyTrainingSet';

function candidate(architecture: Candidate['config']['architecture'], loss = 0.3): Candidate {
  return {
    configPath: `${architecture}.json`,
    config: { ...toyConfig(4), architecture },
    runFolder: architecture,
    state: { completedEpochs: 4, bestEpoch: 2, bestValidationLoss: loss, history: [] },
  };
}

test('the candidate with the lowest selection loss is selected', () => {
  const selected = selectCandidate([
    { ...candidate('plain'), selectionLoss: 0.31 },
    { ...candidate('residual'), selectionLoss: 0.27 },
    { ...candidate('inception'), selectionLoss: 0.4 },
  ]);
  expect(selected.config.architecture).toBe('residual');
});

test('candidates trained on other data, evaluated otherwise or for another package are not compared', () => {
  expect(() => assertComparable([candidate('plain'), candidate('residual')])).not.toThrow();
  const other = candidate('residual');
  other.config = { ...other.config, data: { ...other.config.data, seed: 'other' } };
  expect(() => assertComparable([candidate('plain'), other])).toThrow(ConfigError);
  const renamed = candidate('inception');
  renamed.config = { ...renamed.config, name: 'another-net' };
  expect(() => assertComparable([candidate('plain'), renamed])).toThrow(/another model/);
  const moreBrains = candidate('lean');
  moreBrains.config = { ...moreBrains.config, evaluation: { validationSubjects: 64 } };
  expect(() => assertComparable([candidate('plain'), moreBrains])).toThrow(/evaluated otherwise/);
});

function summary(architecture: string, selectionLoss: number): CandidateSummary {
  return {
    architecture,
    epochs: 12,
    bestEpoch: 12,
    selectionLoss,
    trainingValidationLoss: selectionLoss + 0.03,
    validationAuc: 0.87,
    examplesPerSecond: 14,
  };
}

describe('the shipped package', () => {
  const digest = validationSetDigest(toySplit(8, 'validation'));
  const report = {
    version: '0.5.0',
    validationSet: digest,
    selectionLoss: 0.3072,
    candidates: [summary('plain', 0.3961), summary('lean', 0.3072)],
  };

  test('a new selection replaces it only by beating its loss on the same slices; one it cannot be scored on is not compared', () => {
    expect(againstShipped(undefined, 0.5)).toEqual({ outcome: 'no package' });
    expect(againstShipped({ version: '0.5.0', unscorable: 'why' }, 0.1)).toEqual({
      outcome: 'not comparable',
      version: '0.5.0',
      reason: 'why',
    });
    const shipped = { version: '0.5.0', selectionLoss: 0.3072 };
    expect(againstShipped(shipped, 0.3072)).toEqual({ outcome: 'not beaten', ...shipped });
    expect(againstShipped(shipped, 0.3071)).toEqual({ outcome: 'beaten', ...shipped });
  });

  test('its report’s candidates are carried, marked with the version that scored them, only from the same validation set', () => {
    expect(carriedCandidates(report, digest)).toEqual([
      { ...summary('plain', 0.3961), scoredFor: '0.5.0' },
      { ...summary('lean', 0.3072), scoredFor: '0.5.0' },
    ]);
    const other = validationSetDigest(toySplit(8, 'other brains'));
    expect(carriedCandidates(report, other)).toEqual([]);
    expect(carriedCandidates({ ...report, validationSet: undefined }, digest)).toEqual([]);
    expect(carriedCandidates({ ...report, version: undefined }, digest)).toEqual([]);
    expect(carriedCandidates(undefined, digest)).toEqual([]);
  });

  test('the validation set digest follows what the set holds, not where it is cached', () => {
    const split = toySplit(8, 'validation');
    expect(validationSetDigest({ ...split, images: split.images.slice() })).toBe(digest);
    const brighter = split.images.slice();
    brighter[3] += 1;
    expect(validationSetDigest({ ...split, images: brighter })).not.toBe(digest);
    expect(validationSetDigest(toySplit(8, 'validation', 3))).not.toBe(digest);
    const relabelled = split.records.map((record, n) =>
      n === 0 ? { ...record, positive: !record.positive } : record
    );
    expect(validationSetDigest({ ...split, records: relabelled })).not.toBe(digest);
  });

  test('carried candidates follow the new ones in the report, unless scored again, and keep the version that scored them', () => {
    const older = { ...report, candidates: [{ ...summary('plain', 0.3961), scoredFor: '0.4.1' }] };
    const carried = carriedCandidates(
      { ...older, candidates: [...older.candidates, summary('lean', 0.3072)] },
      digest
    );
    const table = candidateTable([summary('lean', 0.301), summary('compact', 0.33)], carried);
    expect(table.map(c => [c.architecture, c.selectionLoss, c.scoredFor])).toEqual([
      ['lean', 0.301, undefined],
      ['compact', 0.33, undefined],
      ['plain', 0.3961, '0.4.1'],
    ]);
    expect(candidateTable([summary('lean', 0.301)], [])).toEqual([summary('lean', 0.301)]);
  });

  test('it is scored only where it can read the slices and has not trained on their brains', () => {
    const shipped = shippedPackage('/nowhere', 1);
    const split = toySplit(8, 'validation', 3);
    expect(whyUnscorable(shipped, split, [15, 16])).toBeUndefined();
    expect(whyUnscorable(shippedPackage('/nowhere', 5), split, [15, 16])).toBe(
      'it reads 5 slices per input, these hold 3'
    );
    expect(whyUnscorable({ ...shipped, trainingMaps: [1, 15, 16] }, split, [15, 16])).toBe(
      'it was trained on label maps 15, 16, which these brains come from'
    );
    const otherSize = { ...shipped.card.input, shape: [32, 32, 1] as [number, number, number] };
    expect(
      whyUnscorable({ ...shipped, card: { ...shipped.card, input: otherSize } }, split, [])
    ).toBe(`it reads 32² slices, these are ${TOY_SIZE}²`);
    const otherPreprocessing = { ...shipped.card.input, preprocessing: 'pre0' };
    expect(
      whyUnscorable({ ...shipped, card: { ...shipped.card, input: otherPreprocessing } }, split, [])
    ).toMatch(/^it preprocesses as "pre0", these slices as "pre1-/);
  });
});

/** A package card as evaluate writes it, for a model reading `channels` slices, trained on maps 1–14. */
function cardJson(channels: number) {
  return {
    name: 'toy',
    version: '0.5.0',
    threshold: 0.5,
    gradCamLayer: 'features',
    input: {
      shape: [TOY_SIZE, TOY_SIZE, channels],
      preprocessing: preprocessingFingerprint(DEFAULT_PREPROCESSING),
      neighbours: (channels - 1) / 2,
    },
    files: {},
    trainingData: { labelMaps: { train: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14] } },
  };
}

function shippedPackage(folder: string, channels: number): ShippedPackage {
  const json = cardJson(channels);
  return {
    folder,
    card: parseEngineModelCard(json),
    trainingMaps: json.trainingData.labelMaps.train,
    report: undefined,
  };
}

describe('reading the shipped package', () => {
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'tuberlens-package-'));
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  const write = (file: string, text: string) => writeFileSync(join(folder, file), text);

  test('its card, training maps and report are read; a folder without a card holds no package', async () => {
    expect(await readShippedPackage(folder)).toBeUndefined();
    write('model-card.json', JSON.stringify(cardJson(3)));
    expect(await readShippedPackage(folder)).toEqual(shippedPackage(folder, 3));
    write('report.json', JSON.stringify({ version: '0.5.0' }));
    expect(await readShippedPackage(folder)).toMatchObject({ report: { version: '0.5.0' } });
  });

  test('a card or report that cannot be read makes the package unscorable, with the reason', async () => {
    const unscorable = async () =>
      againstShipped(
        await scoreShipped((await readShippedPackage(folder))!, toySplit(8, 'v'), []),
        0.1
      );
    write('model-card.json', '{"name": "toy",');
    expect(await unscorable()).toEqual({
      outcome: 'not comparable',
      reason: expect.stringMatching(/^model-card\.json is not valid JSON \(.+\)$/),
    });
    write('model-card.json', JSON.stringify({ ...cardJson(1), threshold: 'high' }));
    expect(await unscorable()).toEqual({
      outcome: 'not comparable',
      reason: 'The model card is unusable: its "threshold" is not a number from 0 to 1',
    });
    write('model-card.json', JSON.stringify(cardJson(1)));
    write('report.json', '');
    expect(await unscorable()).toMatchObject({ reason: /^report\.json is not valid JSON/ });
    rmSync(join(folder, 'report.json'));
    expect(await unscorable()).toEqual({
      outcome: 'not comparable',
      version: '0.5.0',
      reason: expect.stringMatching(/^its model cannot be loaded: /),
    });
  });
});

describe('scoring on the evaluation’s validation brains', () => {
  let folder: string;
  beforeAll(async () => {
    await initialiseNodeBackend('wasm');
    folder = mkdtempSync(join(tmpdir(), 'tuberlens-selection-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  test('selects by the loss on the given validation split, not by the loss training logged', async () => {
    const data = { train: toySplit(512, 'train'), validation: toySplit(32, 'validation') };
    const trained = { ...candidate('plain'), runFolder: join(folder, 'trained') };
    trained.state = await trainCandidate(toyConfig(6), data, trained.runFolder, () => {});
    const barelyTrained = { ...candidate('plain'), runFolder: join(folder, 'barely') };
    barelyTrained.state = await trainCandidate(
      toyConfig(1),
      data,
      barelyTrained.runFolder,
      () => {}
    );
    barelyTrained.state.bestValidationLoss = 0; // what a lucky log would claim
    const validation = toySplit(48, 'more validation brains');
    const tensors = tf.memory().numTensors;

    const scored = await scoreCandidates([trained, barelyTrained], validation);

    expect(tf.memory().numTensors).toBe(tensors);
    const labelled = labelledSlices(validation);
    const model = await loadModel(join(trained.runFolder, 'best'));
    const probabilities = await predictSplit(model, labelled);
    model.dispose();
    const expected = binaryCrossEntropy(
      labelled.records.map(({ positive }, n) => ({ probability: probabilities[n], positive }))
    );
    expect(scored[0].selectionLoss).toBeCloseTo(expected, 10);
    expect(scored[0].selectionLoss).toBeLessThan(scored[1].selectionLoss);
    expect(selectCandidate(scored).runFolder).toBe(trained.runFolder);
  }, 120_000);

  test('the shipped package is scored as a candidate is, on the centre slice of 2.5D slices', async () => {
    const data = { train: toySplit(256, 'train'), validation: toySplit(32, 'validation') };
    const runFolder = join(folder, 'shipped');
    await trainCandidate(toyConfig(2), data, runFolder, () => {});
    const shipped = shippedPackage(join(runFolder, 'best'), 1);
    const flat = toySplit(48, 'more validation brains');
    const stacked = toySplit(48, 'more validation brains', 3);
    const tensors = tf.memory().numTensors;

    const onFlat = await scoreShipped(shipped, flat, [15, 16]);
    const onStacked = await scoreShipped(shipped, stacked, [15, 16]);

    expect(tf.memory().numTensors).toBe(tensors);
    const [asCandidate] = await scoreCandidates([{ ...candidate('plain'), runFolder }], flat);
    expect(onFlat).toEqual({ version: '0.5.0', selectionLoss: asCandidate.selectionLoss });
    expect(onStacked).toEqual(onFlat);
    expect(await scoreShipped(shipped, flat, [3])).toEqual({
      version: '0.5.0',
      unscorable: 'it was trained on label map 3, which these brains come from',
    });
  }, 120_000);
});
