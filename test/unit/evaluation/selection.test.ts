import { mkdtempSync, rmSync } from 'node:fs';
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
  comparableShippedSelection,
  scoreCandidates,
  validationSetDigest,
  selectCandidate,
  type Candidate,
} from '../../../models/pipeline/evaluation/selection';
import { ConfigError } from '../../../models/pipeline/training/config';
import { loadModel } from '../../../models/pipeline/training/modelFiles';
import { predictSplit, trainCandidate } from '../../../models/pipeline/training/train';
import { labelledSlices } from '../../../models/pipeline/training/trainingSet';
import { toyConfig, toySplit } from '../../fixtures/toyTrainingSet';

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

describe('the shipped package’s selection', () => {
  const digest = validationSetDigest(toySplit(8, 'validation'));
  const report = {
    version: '0.5.0',
    validationSet: digest,
    selectionLoss: 0.3072,
    candidates: [summary('plain', 0.3961), summary('lean', 0.3072)],
  };

  test('competes when it was made on the same validation set', () => {
    const shipped = comparableShippedSelection(report, digest);
    expect(shipped).toEqual({
      version: '0.5.0',
      selectionLoss: 0.3072,
      candidates: [
        { ...summary('plain', 0.3961), scoredFor: '0.5.0' },
        { ...summary('lean', 0.3072), scoredFor: '0.5.0' },
      ],
    });
    const other = validationSetDigest(toySplit(8, 'other brains'));
    expect(comparableShippedSelection(report, other)).toBeUndefined();
    expect(
      comparableShippedSelection({ ...report, validationSet: undefined }, digest)
    ).toBeUndefined();
    expect(
      comparableShippedSelection({ ...report, selectionLoss: undefined }, digest)
    ).toBeUndefined();
    expect(comparableShippedSelection(undefined, digest)).toBeUndefined();
  });

  test('a new selection replaces it only by beating its loss; one on other data cannot be compared', () => {
    expect(againstShipped(undefined, digest, 0.5)).toEqual({ outcome: 'no package' });
    const other = validationSetDigest(toySplit(8, 'other brains'));
    expect(againstShipped(report, other, 0.1)).toEqual({ outcome: 'not comparable' });
    expect(againstShipped(report, digest, 0.3072)).toMatchObject({
      outcome: 'not beaten',
      shipped: { version: '0.5.0', selectionLoss: 0.3072 },
    });
    expect(againstShipped(report, digest, 0.3071)).toMatchObject({
      outcome: 'beaten',
      shipped: { version: '0.5.0' },
    });
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

  test('its candidates follow the new ones in the report, unless scored again, and keep the version that scored them', () => {
    const older = { ...report, candidates: [{ ...summary('plain', 0.3961), scoredFor: '0.4.1' }] };
    const shipped = comparableShippedSelection(
      { ...older, candidates: [...older.candidates, summary('lean', 0.3072)] },
      digest
    );
    const table = candidateTable([summary('lean', 0.301), summary('compact', 0.33)], shipped);
    expect(table.map(c => [c.architecture, c.selectionLoss, c.scoredFor])).toEqual([
      ['lean', 0.301, undefined],
      ['compact', 0.33, undefined],
      ['plain', 0.3961, '0.4.1'],
    ]);
    expect(candidateTable([summary('lean', 0.301)], undefined)).toEqual([summary('lean', 0.301)]);
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
});
