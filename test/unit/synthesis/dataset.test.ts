import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import {
  generateSubjectSlices,
  isTscSubject,
  liveDatasetWorkers,
  loadLabelMap,
  planSubjects,
  runDatasetProducer,
  splitOfSubject,
  streamDataset,
  SUBJECTS_AHEAD,
  type DatasetOptions,
  type DatasetSlice,
  type FromWorker,
  type Split,
  type ToWorker,
} from '../../../models/pipeline/synthesis/dataset';
import { writeNifti } from '../../../models/pipeline/synthesis/nifti';
import { POSITIVE_AREA_MM2, synthesizeSubject } from '../../../models/pipeline/synthesis/subject';

/** 64³ voxels of 3 mm: a small head, fast to synthesise in the worker (a few hundred ms a contrast). */
const ACQUISITION = { matrix: 64, pixelMm: 3, sliceThicknessMm: 5, gapMm: 0, tiltDegrees: 0 };
/**
 * 24³ voxels of 8 mm, for generation in jest's own thread: jest's sandbox makes the synthesis loops
 * many times slower than in the worker.
 */
const TINY_ACQUISITION = {
  matrix: 16,
  pixelMm: 12,
  sliceThicknessMm: 12,
  gapMm: 0,
  tiltDegrees: 0,
};

const directory = mkdtempSync(join(tmpdir(), 'tuberlens-dataset-'));
const brain = join(directory, 'brain.nii.gz');
const tinyBrain = join(directory, 'tiny.nii.gz');
const corrupt = join(directory, 'corrupt.nii.gz');

/**
 * A size³ label map of voxelMm voxels, centred on the origin (RAS mm): concentric ellipsoids of CSF
 * (24), cortex (3/42) and white matter (2/41), split by the sign of x, around two lateral ventricle
 * blobs (4/43).
 */
function writeLabelMap(path: string, size: number, voxelMm: number): void {
  const data = new Uint8Array(size ** 3);
  const centre = (size - 1) / 2;
  for (let k = 0, index = 0; k < size; k++) {
    for (let j = 0; j < size; j++) {
      for (let i = 0; i < size; i++, index++) {
        const [x, y, z] = [i, j, k].map(v => (v - centre) * voxelMm);
        const radius = Math.hypot(x, y / 1.15, z / 0.9);
        const ventricle = Math.hypot((Math.abs(x) - 14) / 7, y / 22, (z - 6) / 9);
        const left = x < 0;
        if (ventricle <= 1) data[index] = left ? 4 : 43;
        else if (radius <= 64) data[index] = left ? 2 : 41;
        else if (radius <= 76) data[index] = left ? 3 : 42;
        else if (radius <= 82) data[index] = 24;
      }
    }
  }
  const o = -centre * voxelMm;
  const affine = [voxelMm, 0, 0, o, 0, voxelMm, 0, o, 0, 0, voxelMm, o, 0, 0, 0, 1];
  writeFileSync(path, writeNifti({ dims: [size, size, size], affine, data }));
}

beforeAll(() => {
  writeLabelMap(brain, 64, 3);
  writeLabelMap(tinyBrain, 24, 8);
  writeFileSync(corrupt, 'not a label map');
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
  expect(liveDatasetWorkers()).toBe(0);
});

function options(overrides: Partial<DatasetOptions> = {}): DatasetOptions {
  return {
    labelFiles: [brain],
    subjects: 8,
    seed: 'unit',
    contrasts: ['T2', 'FLAIR'],
    acquisition: ACQUISITION,
    ...overrides,
  };
}

async function collect(datasetOptions: DatasetOptions): Promise<DatasetSlice[]> {
  const slices: DatasetSlice[] = [];
  for await (const slice of streamDataset(datasetOptions)) slices.push(slice);
  return slices;
}

/** Byte equality; arrays from the worker belong to another realm than jest's, so no toEqual. */
function sameArray(a: Uint16Array | Uint8Array, b: Uint16Array | Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  );
}

function maskArea(slice: DatasetSlice): number {
  return slice.mask.reduce((sum, value) => sum + value, 0) * slice.pixelSpacing[0] ** 2;
}

/** Every field and array equal. */
function sameSlice(a: DatasetSlice, b: DatasetSlice): boolean {
  const fields = (slice: DatasetSlice) =>
    JSON.stringify({ ...slice, channels: slice.channels.length, mask: undefined });
  return (
    fields(a) === fields(b) &&
    a.channels.every((channel, c) => sameArray(channel, b.channels[c])) &&
    sameArray(a.mask, b.mask)
  );
}

/** The slices of each subject and contrast, in slice order. */
function groupSeries(slices: DatasetSlice[]): DatasetSlice[][] {
  const series = new Map<string, DatasetSlice[]>();
  for (const slice of slices) {
    const key = `${slice.subjectId}/${slice.contrast}`;
    series.set(key, [...(series.get(key) ?? []), slice]);
  }
  return [...series.values()];
}

function bySubject(slices: DatasetSlice[]): Map<string, DatasetSlice[]> {
  const subjects = new Map<string, DatasetSlice[]>();
  for (const slice of slices) {
    subjects.set(slice.subjectId, [...(subjects.get(slice.subjectId) ?? []), slice]);
  }
  return subjects;
}

describe('splitOfSubject', () => {
  it('is deterministic and matches the fractions over 2000 subjects', () => {
    const ids = Array.from({ length: 2000 }, (_, n) => `cohort-${String(n).padStart(4, '0')}`);
    const splits = ids.map(id => splitOfSubject(id));
    expect(ids.map(id => splitOfSubject(id))).toEqual(splits);
    expect([...ids].reverse().map(id => splitOfSubject(id))).toEqual([...splits].reverse());
    const share = (split: Split) => splits.filter(s => s === split).length / ids.length;
    expect(Math.abs(share('train') - 0.7)).toBeLessThan(0.03);
    expect(Math.abs(share('validation') - 0.15)).toBeLessThan(0.03);
    expect(Math.abs(share('test') - 0.15)).toBeLessThan(0.03);
  });

  it('honours other fractions and never picks an empty split', () => {
    const fractions = { train: 1, validation: 1, test: 0 };
    const splits = Array.from({ length: 500 }, (_, n) => splitOfSubject(`s${n}`, fractions));
    expect(splits).not.toContain('test');
    expect(Math.abs(splits.filter(s => s === 'train').length / 500 - 0.5)).toBeLessThan(0.08);
    expect(() => splitOfSubject('s', { train: 0, validation: 0, test: 0 })).toThrow(RangeError);
  });
});

describe('planSubjects', () => {
  it('alternates TSC and control subjects with tscShare 0.5 and spreads other shares evenly', () => {
    expect(Array.from({ length: 6 }, (_, n) => isTscSubject(n))).toEqual([
      true,
      false,
      true,
      false,
      true,
      false,
    ]);
    expect(Array.from({ length: 5 }, (_, n) => isTscSubject(n, 0))).not.toContain(true);
    expect(Array.from({ length: 5 }, (_, n) => isTscSubject(n, 1))).not.toContain(false);
    const share = Array.from({ length: 100 }, (_, n) => isTscSubject(n, 0.3));
    expect(share.filter(Boolean)).toHaveLength(30);
  });

  it('names subjects from the seed and gives each label map to a TSC and a control subject', () => {
    const plan = planSubjects(options({ labelFiles: ['a', 'b', 'c'], subjects: 5 }));
    expect(plan.map(subject => subject.id)).toEqual([
      'unit-0000',
      'unit-0001',
      'unit-0002',
      'unit-0003',
      'unit-0004',
    ]);
    expect(plan.map(subject => subject.labelFile)).toEqual(['a', 'a', 'b', 'b', 'c']);
    expect(plan.map(subject => subject.tsc)).toEqual([true, false, true, false, true]);
    expect(plan.every(subject => subject.split === splitOfSubject(subject.id))).toBe(true);
  });

  it('rejects bad options', () => {
    expect(() => planSubjects(options({ labelFiles: [] }))).toThrow(RangeError);
    expect(() => planSubjects(options({ subjects: 1.5 }))).toThrow(RangeError);
    expect(() => planSubjects(options({ neighbours: -1 }))).toThrow(RangeError);
    expect(() => planSubjects(options({ tscShare: 2 }))).toThrow(RangeError);
    expect(() => planSubjects(options({ workers: 0 }))).toThrow(RangeError);
    expect(() => planSubjects(options({ workers: 1.5 }))).toThrow(RangeError);
  });
});

describe('the worker protocol', () => {
  it('generates no more subjects than the credits allow', async () => {
    const { port1, port2 } = new MessageChannel();
    const subjects = planSubjects(options({ labelFiles: [tinyBrain], subjects: 4 }));
    const received: string[] = [];
    let arrived = () => {};
    port2.on('message', (message: FromWorker) => {
      received.push(message.type === 'subject' ? message.subjectId : message.message);
      arrived();
    });
    const receive = (count: number) =>
      new Promise<void>(resolve => {
        arrived = () => void (received.length >= count && resolve());
        arrived();
      });
    try {
      const producer = runDatasetProducer(port1, {
        subjects,
        credits: SUBJECTS_AHEAD,
        contrasts: ['T2'],
        acquisition: TINY_ACQUISITION,
      });
      await receive(SUBJECTS_AHEAD);
      await new Promise(resolve => setTimeout(resolve, 500));
      expect(received).toEqual(subjects.slice(0, SUBJECTS_AHEAD).map(subject => subject.id));
      port2.postMessage({ type: 'credit', subjects: 1 } satisfies ToWorker);
      await receive(SUBJECTS_AHEAD + 1);
      await new Promise(resolve => setTimeout(resolve, 200));
      expect(received).toEqual(subjects.slice(0, SUBJECTS_AHEAD + 1).map(subject => subject.id));
      port2.postMessage({ type: 'credit', subjects: 10 } satisfies ToWorker);
      await producer;
      await receive(subjects.length);
      expect(received).toEqual(subjects.map(subject => subject.id));
    } finally {
      port1.close();
    }
  }, 20_000);
});

describe('streamDataset', () => {
  const streamed = () => options({ subjects: 8, neighbours: 1, workers: 2 });
  let slices: DatasetSlice[];

  beforeAll(async () => {
    slices = await collect(streamed());
  }, 30_000);

  it('streams every planned subject, in order, each in a single split', () => {
    const plan = planSubjects(streamed());
    const subjects = bySubject(slices);
    expect([...subjects.keys()]).toEqual(plan.map(subject => subject.id));
    for (const [id, subjectSlices] of subjects) {
      expect(new Set(subjectSlices.map(slice => slice.split))).toEqual(
        new Set([splitOfSubject(id)])
      );
    }
    expect(liveDatasetWorkers()).toBe(0);
  });

  it('alternates TSC and control subjects; control subjects have only negative slices', () => {
    for (const [id, subjectSlices] of bySubject(slices)) {
      const tsc = Number(id.slice(-4)) % 2 === 0;
      expect(subjectSlices.every(slice => slice.tsc === tsc)).toBe(true);
      const labels = new Set(subjectSlices.map(slice => slice.label));
      if (tsc) expect(labels.has('positive')).toBe(true);
      else expect(labels).toEqual(new Set(['negative']));
    }
  });

  it('labels slices by tuber area', () => {
    for (const slice of slices) {
      expect(slice.tuberAreaMm2).toBeCloseTo(maskArea(slice), 6);
      const expected =
        slice.tuberAreaMm2 >= POSITIVE_AREA_MM2
          ? 'positive'
          : slice.tuberAreaMm2 === 0
            ? 'negative'
            : 'ambiguous';
      expect(slice.label).toBe(expected);
      expect([slice.rows, slice.columns, slice.mask.length]).toEqual([64, 64, 64 * 64]);
    }
    expect(new Set(slices.map(slice => slice.contrast))).toEqual(new Set(['T2', 'FLAIR']));
  });

  it('stacks neighbouring slices for 2.5D, clamped at the ends of each series', () => {
    for (const series of groupSeries(slices)) {
      const last = series.length - 1;
      series.forEach((slice, k) => {
        expect(slice.slice).toBe(k);
        expect(slice.channels).toHaveLength(3);
        const [below, , above] = slice.channels;
        expect(sameArray(below, series[Math.max(0, k - 1)].channels[1])).toBe(true);
        expect(sameArray(above, series[Math.min(last, k + 1)].channels[1])).toBe(true);
      });
      expect(sameArray(series[0].channels[0], series[0].channels[1])).toBe(true);
      expect(sameArray(series[last].channels[2], series[last].channels[1])).toBe(true);
    }
  });

  it('gives the same slices on every run, whatever the number of workers', async () => {
    for (const workers of [2, 1, 3]) {
      const again = await collect({ ...streamed(), workers });
      expect(again).toHaveLength(slices.length);
      expect(again.every((slice, n) => sameSlice(slice, slices[n]))).toBe(true);
    }
  }, 60_000);

  it('emits only the requested splits', async () => {
    const validationOnly = options({ subjects: 16, contrasts: ['T2'], splits: ['validation'] });
    const expected = planSubjects(options({ subjects: 16 }))
      .filter(subject => subject.split === 'validation')
      .map(subject => subject.id);
    expect(expected.length).toBeGreaterThan(0);
    const validation = await collect(validationOnly);
    expect(new Set(validation.map(slice => slice.split))).toEqual(new Set(['validation']));
    expect([...bySubject(validation).keys()]).toEqual(expected);
  }, 30_000);

  it('terminates the workers when the consumer stops early, and can stream again', async () => {
    const started = Date.now();
    for (let run = 0; run < 2; run++) {
      let taken = 0;
      const many = options({ subjects: 200, contrasts: ['T2'], workers: 2 });
      for await (const slice of streamDataset(many)) {
        expect(slice.subjectId).toBe('unit-0000');
        expect(liveDatasetWorkers()).toBe(2);
        if (++taken === 3) break;
      }
      expect(taken).toBe(3);
      expect(liveDatasetWorkers()).toBe(0);
    }
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  it('rejects with a clear message when a label map cannot be read', async () => {
    const missing = join(directory, 'missing.nii.gz');
    await expect(collect(options({ labelFiles: [brain, missing] }))).rejects.toThrow(
      `cannot read label map ${missing}: ENOENT`
    );
    expect(liveDatasetWorkers()).toBe(0);

    const before: string[] = [];
    const broken = streamDataset(options({ labelFiles: [brain, corrupt], contrasts: ['T2'] }));
    await expect(
      (async () => {
        for await (const slice of broken) before.push(slice.subjectId);
      })()
    ).rejects.toThrow(`cannot read label map ${corrupt}: not a NIfTI-1 file`);
    expect(new Set(before)).toEqual(new Set(['unit-0000', 'unit-0001']));
    expect(liveDatasetWorkers()).toBe(0);
  }, 30_000);

  it('starts no worker when no subject is in the requested splits', async () => {
    expect(await collect(options({ subjects: 0 }))).toEqual([]);
    expect(liveDatasetWorkers()).toBe(0);
  });
});

describe('generateSubjectSlices', () => {
  it("with maxSlices, renders the scanner's adjacent slices around each slice kept as its neighbours", () => {
    const anatomy = loadLabelMap(tinyBrain);
    const subject = { id: 'neighbours-0000', split: 'train' as const, tsc: true };
    const acquisition = { ...TINY_ACQUISITION, maxSlices: 3 };
    const options = { contrasts: ['T2' as const], acquisition };
    const flat = generateSubjectSlices(anatomy, subject, options);
    const stacked = generateSubjectSlices(anatomy, subject, { ...options, neighbours: 1 });
    expect(stacked.map(slice => slice.slice)).toEqual([0, 1, 2]);
    expect(flat.map(slice => slice.slice)).toEqual([0, 1, 2]);
    const [series] = synthesizeSubject(anatomy, subject.id, {
      tsc: true,
      contrasts: ['T2'],
      acquisition: { ...acquisition, neighbours: 1 },
    }).series;
    expect(series.kept).toHaveLength(3);
    expect(series.positions.length).toBeGreaterThan(6);
    // Untilted 12 mm slices without gaps: a neighbour lies 12 mm above or below its slice.
    for (const rendered of series.kept) {
      for (const side of [-1, 1]) {
        const neighbour = rendered + side;
        if (neighbour < 0 || neighbour >= series.positions.length) continue;
        expect(series.positions[neighbour][2] - series.positions[rendered][2]).toBeCloseTo(
          12 * side,
          5
        );
      }
    }
    stacked.forEach((slice, k) => {
      const rendered = series.kept[k];
      const last = series.pixels.length - 1;
      expect(slice.channels).toHaveLength(3);
      slice.channels.forEach((channel, c) =>
        expect(
          sameArray(channel, series.pixels[Math.min(last, Math.max(0, rendered - 1 + c))])
        ).toBe(true)
      );
      expect(sameArray(slice.mask, series.masks[rendered])).toBe(true);
      expect(slice.label).toBe(flat[k].label);
    });
  }, 20_000);

  it('is what the worker streams, with 2n+1 channels around the 2D slice', async () => {
    const tiny = {
      labelFiles: [tinyBrain],
      contrasts: ['T2' as const],
      acquisition: TINY_ACQUISITION,
    };
    const [subject] = planSubjects(options({ ...tiny, subjects: 1 }));
    const flat = await collect(options({ ...tiny, subjects: 1 }));
    const stacked = generateSubjectSlices(loadLabelMap(tinyBrain), subject, {
      ...tiny,
      neighbours: 2,
    });
    const last = flat.length - 1;
    expect(flat.length).toBeGreaterThan(5);
    expect(stacked).toHaveLength(flat.length);
    stacked.forEach((slice, k) => {
      expect(slice.channels).toHaveLength(5);
      expect(flat[k].channels).toHaveLength(1);
      expect(sameSlice({ ...slice, channels: [slice.channels[2]] }, flat[k])).toBe(true);
      slice.channels.forEach((channel, c) => {
        const source = flat[Math.min(last, Math.max(0, k - 2 + c))];
        expect(sameArray(channel, source.channels[0])).toBe(true);
      });
    });
  }, 20_000);
});
