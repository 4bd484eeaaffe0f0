import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readNifti, writeNifti } from '../../../models/pipeline/synthesis/nifti';
import { DicomStore } from '../../../scripts/server/dicomStore';
import { phantomLabelMap } from '../../fixtures/phantomAnatomy';

/**
 * `tuberlens synth` run as a real child process: synthesis in jest's own thread is many times slower.
 * The acquisition (matrix, slice count) is drawn from each subject's seed, and the written pixel count
 * dominates the run time, so the seeds below are ones whose subjects are acquired on small matrices
 * (about 1–2 million pixels a series): a few seconds a subject on two cores.
 */
const ROOT = join(__dirname, '..', '..', '..');
const CLI = join(ROOT, 'bin', 'tuberlens.mjs');
const RUN_TIMEOUT_MS = 120_000;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CSV_HEADER = 'contrast,slice,instance_number,sop_instance_uid,tuber_area_mm2,label';
const SERIES_DESCRIPTION = '0008103E';
const INSTANCE_NUMBER = '00200013';
/** The second label map is moved this far superior, so its subjects' slices are centred there. */
const SECOND_MAP_SHIFT_MM = 100;

interface SynthRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface CsvRow {
  contrast: string;
  slice: number;
  instanceNumber: number;
  sopInstanceUID: string;
  tuberAreaMm2: number;
  label: string;
}

const directory = mkdtempSync(join(tmpdir(), 'tuberlens-synth-command-'));
const labelFile = join(directory, 'phantom.nii.gz');
const labelFolder = join(directory, 'maps');

beforeAll(() => {
  writeFileSync(labelFile, writeNifti(phantomLabelMap(48, 3)));
  const second = phantomLabelMap(40, 3.5);
  second.affine[11] += SECOND_MAP_SHIFT_MM;
  mkdirSync(labelFolder);
  writeFileSync(join(labelFolder, 'a-phantom.nii.gz'), writeNifti(phantomLabelMap(48, 3)));
  writeFileSync(join(labelFolder, 'b-phantom.nii.gz'), writeNifti(second));
});

afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Spawns `tuberlens synth ARGS`; `watch` is called with the child while it runs (e.g. to kill it). */
function runSynth(args: string[], watch?: (kill: () => void) => void): Promise<SynthRun> {
  const child = spawn(process.execPath, [CLI, 'synth', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: SynthRun = { code: null, signal: null, stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  watch?.(() => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ ...run, code, signal }));
  });
}

const lines = (text: string) => text.split('\n').filter(line => line.trim() !== '');
const visible = (folder: string) => readdirSync(folder).filter(name => !name.startsWith('.'));
const hidden = (folder: string) => readdirSync(folder).filter(name => name.startsWith('.'));

function readCsv(folder: string): CsvRow[] {
  const [header, ...rows] = lines(readFileSync(join(folder, 'slices.csv'), 'utf8'));
  expect(header).toBe(CSV_HEADER);
  return rows.map(line => {
    const fields = line.split(',');
    expect(fields).toHaveLength(6);
    const [contrast, slice, instanceNumber, sopInstanceUID, tuberAreaMm2, label] = fields;
    return {
      contrast,
      slice: Number(slice),
      instanceNumber: Number(instanceNumber),
      sopInstanceUID,
      tuberAreaMm2: Number(tuberAreaMm2),
      label,
    };
  });
}

function readSubject(folder: string) {
  return JSON.parse(readFileSync(join(folder, 'subject.json'), 'utf8')) as {
    seed: string;
    tsc: boolean;
    tubers: unknown[];
    series: Array<{ contrast: string; description: string; slices: number; rows: number }>;
  };
}

function readVolume(path: string) {
  return readNifti(readFileSync(path));
}

/** World (RAS mm) z of a volume's central voxel: the centre of the slice stack. */
function centreZ(path: string): number {
  const { dims, affine } = readVolume(path);
  const [i, j, k] = dims.map(size => (size - 1) / 2);
  return affine[8] * i + affine[9] * j + affine[10] * k + affine[11];
}

/** Every file below a folder (relative path → bytes). */
function filesBelow(folder: string): Map<string, Buffer> {
  const entries = readdirSync(folder, { recursive: true, withFileTypes: true });
  return new Map(
    entries
      .filter(entry => entry.isFile())
      .map(entry => {
        const path = join(entry.parentPath ?? entry.path, entry.name);
        return [path.slice(folder.length + 1), readFileSync(path)] as const;
      })
      .sort(([a], [b]) => a.localeCompare(b))
  );
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

describe('tuberlens synth --format both, two subjects from one label map', () => {
  const out = join(directory, 'both');
  const again = join(directory, 'both-again');
  let run: SynthRun;
  let repeat: SynthRun;

  beforeAll(async () => {
    const args = ['--labels', labelFile, '--subjects', '2', '--seed', 'theta', '--format', 'both'];
    [run, repeat] = await Promise.all([
      runSynth([...args, '--out', out]),
      runSynth([...args, '--out', again]),
    ]);
  }, RUN_TIMEOUT_MS);

  it('exits 0, reports progress on stderr up to 2/2 subjects and leaves no staging folder', () => {
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    const progress = lines(run.stderr);
    expect(progress).toHaveLength(2);
    progress.forEach((line, n) =>
      expect(line).toMatch(new RegExp(`^\\[[#.]{24}\\] ${n + 1}/2 subjects, \\d+\\.\\d s$`))
    );
    expect(progress[1]).toContain('[########################] 2/2 subjects');
    expect(readdirSync(out).sort()).toEqual(['theta-0001', 'theta-0002']);
  });

  it.each([
    ['theta-0001', true],
    ['theta-0002', false],
  ])('%s (TSC %s) holds the whole layout', (id, tsc) => {
    const folder = join(out, id);
    expect(readdirSync(folder).sort()).toEqual([
      'dicom',
      'montage.png',
      'nifti',
      'slices.csv',
      'subject.json',
    ]);
    expect(readdirSync(join(folder, 'nifti')).sort()).toEqual([
      'flair.nii.gz',
      'flair_tubers.nii.gz',
      't2.nii.gz',
      't2_tubers.nii.gz',
    ]);
    const dicomFiles = readdirSync(join(folder, 'dicom'));
    expect(dicomFiles.length).toBeGreaterThan(0);
    dicomFiles.forEach(name => expect(name).toMatch(/^[12]-\d{3}\.dcm$/));
    const montage = readFileSync(join(folder, 'montage.png'));
    expect(montage.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);

    const subject = readSubject(folder);
    expect(subject.seed).toBe(id);
    expect(subject.tsc).toBe(tsc);
    if (tsc) expect(subject.tubers.length).toBeGreaterThan(0);
    else expect(subject.tubers).toEqual([]);
    expect(subject.series.map(series => [series.contrast, series.description])).toEqual([
      ['T2', 'AX T2 FSE'],
      ['FLAIR', 'AX FLAIR'],
    ]);

    const rows = readCsv(folder);
    for (const series of subject.series) {
      const ofSeries = rows.filter(row => row.contrast === series.contrast);
      expect(ofSeries.map(row => row.slice)).toEqual([...Array(series.slices).keys()]);
      expect(ofSeries.map(row => row.instanceNumber)).toEqual(ofSeries.map(row => row.slice + 1));
    }
    expect(rows).toHaveLength(dicomFiles.length);
    if (tsc) expect(rows.some(row => row.label === 'positive')).toBe(true);
    else rows.forEach(row => expect([row.tuberAreaMm2, row.label]).toEqual([0, 'negative']));
  });

  it.each(['theta-0001', 'theta-0002'])(
    '%s: the DICOM files are one study of two series whose UIDs slices.csv names',
    async id => {
      const folder = join(out, id);
      const warnings: string[] = [];
      const store = await DicomStore.fromFolders([join(folder, 'dicom')], message =>
        warnings.push(message)
      );
      expect(warnings).toEqual([]);
      expect(store.studyCount).toBe(1);
      const [study] = store.studyUIDs();
      const series = store.seriesUIDs(study);
      expect(series).toHaveLength(2);

      const rows = readCsv(folder);
      const contrastOf = { 'AX T2 FSE': 'T2', 'AX FLAIR': 'FLAIR' } as Record<string, string>;
      const fromDicom = series.flatMap(seriesUID =>
        store.instances(study, seriesUID).map(instance => {
          const description = String(instance.metadata[SERIES_DESCRIPTION]?.Value?.[0]);
          return [
            contrastOf[description] ?? description,
            Number(instance.metadata[INSTANCE_NUMBER]?.Value?.[0]),
            instance.sopInstanceUID,
          ];
        })
      );
      const fromCsv = rows.map(row => [row.contrast, row.instanceNumber, row.sopInstanceUID]);
      const order = (a: unknown[], b: unknown[]) => String(a).localeCompare(String(b));
      expect(fromDicom.sort(order)).toEqual(fromCsv.sort(order));
      expect(new Set(fromDicom.map(([contrast]) => contrast))).toEqual(new Set(['T2', 'FLAIR']));
    }
  );

  it.each(['theta-0001', 'theta-0002'])(
    '%s: each NIfTI tuber mask holds the tuber area that slices.csv lists',
    id => {
      const folder = join(out, id);
      const rows = readCsv(folder);
      for (const contrast of ['T2', 'FLAIR']) {
        const name = contrast.toLowerCase();
        const mask = readVolume(join(folder, 'nifti', `${name}_tubers.nii.gz`));
        const image = readVolume(join(folder, 'nifti', `${name}.nii.gz`));
        expect(mask.dims).toEqual(image.dims);
        const ofContrast = rows.filter(row => row.contrast === contrast);
        expect(mask.dims[2]).toBe(ofContrast.length);
        const { affine } = mask;
        const spacing = [0, 1].map(col =>
          Math.hypot(affine[col], affine[4 + col], affine[8 + col])
        );
        const voxels = sum(Array.from(mask.data));
        expect(mask.data.every(value => value === 0 || value === 1)).toBe(true);
        const listed = sum(ofContrast.map(row => row.tuberAreaMm2));
        // Each listed area is rounded to 0.1 mm²; the spacing went through float32.
        expect(Math.abs(voxels * spacing[0] * spacing[1] - listed)).toBeLessThanOrEqual(
          0.05 * ofContrast.length + 1e-4 * listed + 1e-6
        );
        if (id === 'theta-0001') expect(voxels).toBeGreaterThan(0);
      }
    }
  );

  it('the same command writes byte-identical files', () => {
    expect(repeat.code).toBe(0);
    for (const id of ['theta-0001', 'theta-0002']) {
      const first = filesBelow(join(out, id));
      const second = filesBelow(join(again, id));
      expect([...second.keys()]).toEqual([...first.keys()]);
      for (const [path, bytes] of first) {
        expect([path, second.get(path)!.equals(bytes)]).toEqual([path, true]);
      }
    }
  });
});

describe('tuberlens synth --format and --contrast', () => {
  const outs = {
    dicom: join(directory, 'format-dicom'),
    otherSeed: join(directory, 'format-dicom-other-seed'),
    nifti: join(directory, 'format-nifti'),
    flair: join(directory, 'contrast-flair'),
  };
  let runs: SynthRun[];

  beforeAll(async () => {
    const common = ['--labels', labelFile, '--subjects', '1'];
    runs = await Promise.all([
      runSynth([...common, '--seed', 'fmt', '--out', outs.dicom, '--format', 'dicom']),
      runSynth([...common, '--seed', 'theta', '--out', outs.otherSeed, '--format', 'dicom']),
      runSynth([...common, '--seed', 'fmt', '--out', outs.nifti, '--format', 'nifti']),
      runSynth([...common, '--seed', 'fmt', '--out', outs.flair, '--contrast', 'flair']),
    ]);
  }, RUN_TIMEOUT_MS);

  it('every run succeeds', () => {
    expect(runs.map(run => [run.code, lines(run.stderr).at(-1)])).toEqual(
      runs.map(() => [0, expect.stringContaining('1/1 subjects')])
    );
  });

  it('--format dicom writes no nifti folder', () => {
    const folder = join(outs.dicom, 'fmt-0001');
    expect(readdirSync(folder).sort()).toEqual([
      'dicom',
      'montage.png',
      'slices.csv',
      'subject.json',
    ]);
    const rows = readCsv(folder);
    expect(rows).toHaveLength(readdirSync(join(folder, 'dicom')).length);
    rows.forEach(row => expect(row.sopInstanceUID).toMatch(/^[0-9.]+$/));
  });

  it('--format nifti writes no dicom folder, and slices.csv names no SOP Instance UID', () => {
    const folder = join(outs.nifti, 'fmt-0001');
    expect(readdirSync(folder).sort()).toEqual([
      'montage.png',
      'nifti',
      'slices.csv',
      'subject.json',
    ]);
    const rows = readCsv(folder);
    expect(rows.length).toBeGreaterThan(0);
    rows.forEach(row => expect(row.sopInstanceUID).toBe(''));
    expect(new Set(rows.map(row => row.contrast))).toEqual(new Set(['T2', 'FLAIR']));
  });

  it('--contrast flair writes only FLAIR', async () => {
    const folder = join(outs.flair, 'fmt-0001');
    expect(readdirSync(join(folder, 'nifti')).sort()).toEqual([
      'flair.nii.gz',
      'flair_tubers.nii.gz',
    ]);
    expect(readSubject(folder).series.map(series => series.contrast)).toEqual(['FLAIR']);
    const rows = readCsv(folder);
    rows.forEach(row => expect(row.contrast).toBe('FLAIR'));
    const store = await DicomStore.fromFolders([join(folder, 'dicom')], () => undefined);
    const [study] = store.studyUIDs();
    expect(store.seriesUIDs(study)).toHaveLength(1);
    const instances = store.instances(study);
    expect(instances).toHaveLength(rows.length);
    instances.forEach(instance =>
      expect(instance.metadata[SERIES_DESCRIPTION]?.Value).toEqual(['AX FLAIR'])
    );
  });

  it('another --seed gives other UIDs', async () => {
    const uidsOf = async (folder: string) => {
      const store = await DicomStore.fromFolders([join(folder, 'dicom')], () => undefined);
      const [study] = store.studyUIDs();
      return [
        study,
        ...store.seriesUIDs(study),
        ...store.instances(study).map(instance => instance.sopInstanceUID),
      ];
    };
    const fmt = await uidsOf(join(outs.dicom, 'fmt-0001'));
    const theta = new Set(await uidsOf(join(outs.otherSeed, 'theta-0001')));
    expect(theta.size).toBeGreaterThan(3);
    expect(fmt.filter(uid => theta.has(uid))).toEqual([]);
  });
});

it(
  'a folder of label maps: subjects 1 and 2 share the first map (TSC, control), subject 3 the second',
  async () => {
    const out = join(directory, 'folder');
    const run = await runSynth([
      ...['--labels', labelFolder, '--out', out, '--subjects', '3', '--seed', 'gold'],
      ...['--contrast', 't2', '--format', 'nifti'],
    ]);
    expect(run.stderr).toContain('3/3 subjects');
    expect(run.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['gold-0001', 'gold-0002', 'gold-0003']);
    expect(
      ['gold-0001', 'gold-0002', 'gold-0003'].map(id => readSubject(join(out, id)).tsc)
    ).toEqual([true, false, true]);
    // Slices are centred on the brain, and the second map's brain lies SECOND_MAP_SHIFT_MM higher.
    const centres = ['gold-0001', 'gold-0002', 'gold-0003'].map(id =>
      centreZ(join(out, id, 'nifti', 't2.nii.gz'))
    );
    expect(Math.abs(centres[0])).toBeLessThan(5);
    expect(Math.abs(centres[1])).toBeLessThan(5);
    expect(Math.abs(centres[2] - SECOND_MAP_SHIFT_MM)).toBeLessThan(5);
  },
  RUN_TIMEOUT_MS
);

it(
  'a run killed half-way leaves only complete subject folders',
  async () => {
    const out = join(directory, 'killed');
    let poll: NodeJS.Timeout | undefined;
    let stagingSeen = false;
    const run = await runSynth(
      ['--labels', labelFile, '--out', out, '--subjects', '3', '--seed', 'neon'],
      kill => {
        // Kill while the second subject is being written if the poll catches that, else once the
        // second subject is done: either way, the first subject is complete and the third not begun.
        poll = setInterval(() => {
          if (!existsSync(out)) return;
          const done = visible(out).length;
          stagingSeen ||= done >= 1 && hidden(out).some(name => name.includes('.partial-'));
          if (stagingSeen || done >= 2) {
            clearInterval(poll);
            kill();
          }
        }, 5);
      }
    );
    clearInterval(poll);
    expect(run.signal).toBe('SIGKILL');
    const subjects = visible(out).sort();
    expect(subjects[0]).toBe('neon-0001');
    expect(subjects.length).toBeLessThan(3);
    for (const id of subjects) {
      const folder = join(out, id);
      expect(readdirSync(folder).sort()).toEqual([
        'dicom',
        'montage.png',
        'nifti',
        'slices.csv',
        'subject.json',
      ]);
      expect(readCsv(folder)).toHaveLength(readdirSync(join(folder, 'dicom')).length);
      expect(readFileSync(join(folder, 'montage.png')).subarray(0, 8)).toEqual(PNG_SIGNATURE);
    }
    hidden(out).forEach(name => expect(name).toMatch(/^\.neon-000[23]\.partial-\d+$/));

    // Running again clears a killed run's staging folder of each subject it rewrites.
    mkdirSync(join(out, '.neon-0001.partial-999999', 'dicom'), { recursive: true });
    const rerun = await runSynth([
      '--labels',
      labelFile,
      '--out',
      out,
      '--subjects',
      '1',
      '--seed',
      'neon',
    ]);
    expect(rerun.code).toBe(0);
    expect(hidden(out).filter(name => name.startsWith('.neon-0001.'))).toEqual([]);
  },
  RUN_TIMEOUT_MS
);

describe('tuberlens synth: bad input exits with code 2, one line, and writes nothing', () => {
  const bad = join(directory, 'bad');
  const noCortex = join(bad, 'no-cortex.nii.gz');
  const notNifti = join(bad, 'x.nii.gz');
  const flat = join(bad, 'flat.nii.gz');
  const regularFile = join(bad, 'a-file');
  const mixedFolder = join(bad, 'mixed');

  beforeAll(() => {
    mkdirSync(bad);
    const map = phantomLabelMap(48, 3);
    map.data.forEach((label, index) => {
      if (label === 3 || label === 42) map.data[index] = 2;
    });
    writeFileSync(noCortex, writeNifti(map));
    writeFileSync(notNifti, 'These are not the voxels you are looking for.\n');
    const file = writeNifti(
      { dims: [32, 32, 1], affine: phantomLabelMap(16, 3).affine, data: new Uint8Array(32 * 32) },
      { gzip: false }
    );
    new DataView(file.buffer, file.byteOffset).setInt16(40, 2, true); // dim[0]: a 2D image
    writeFileSync(flat, gzipSync(file));
    writeFileSync(regularFile, '');
    mkdirSync(mixedFolder);
    writeFileSync(join(mixedFolder, 'a-phantom.nii.gz'), writeNifti(phantomLabelMap(48, 3)));
    writeFileSync(join(mixedFolder, 'b-broken.nii.gz'), readFileSync(notNifti));
  });

  const cases: Array<[string, (out: string) => string[], RegExp]> = [
    ['missing --labels', out => ['--out', out], /^--labels and --out are required\.$/],
    [
      'a label map without cortex',
      out => ['--labels', noCortex, '--out', out],
      /^no-cortex\.nii\.gz: .*no cerebral cortex \(3\/42\) labels/,
    ],
    [
      'a file that is not NIfTI',
      out => ['--labels', notNifti, '--out', out],
      /^x\.nii\.gz: not a NIfTI-1 file/,
    ],
    [
      // Subjects 1 and 2 would come from the good first map: the broken one must be found first.
      'a folder whose second label map is not NIfTI',
      out => ['--labels', mixedFolder, '--out', out, '--subjects', '3', '--seed', 'fmt'],
      /^b-broken\.nii\.gz: not a NIfTI-1 file/,
    ],
    ['a 2D NIfTI image', out => ['--labels', flat, '--out', out], /^flat\.nii\.gz: a 2D image/],
    [
      'an unwritable output folder',
      () => ['--labels', labelFile, '--out', join(regularFile, 'out')],
      /^cannot write to .*a-file\/out: /,
    ],
    [
      '--subjects 0',
      out => ['--labels', labelFile, '--out', out, '--subjects', '0'],
      /^--subjects must be a positive whole number, not "0"\.$/,
    ],
    [
      '--tubers maybe',
      out => ['--labels', labelFile, '--out', out, '--tubers', 'maybe'],
      /^--tubers must be one of auto, all, none, not "maybe"\.$/,
    ],
    [
      '--contrast t1',
      out => ['--labels', labelFile, '--out', out, '--contrast', 't1'],
      /^--contrast must be one of t2, flair, both, not "t1"\.$/,
    ],
  ];

  it.each(cases)(
    '%s',
    async (title, args, message) => {
      const out = join(bad, `out-${title.replace(/\W+/g, '-')}`);
      const run = await runSynth(args(out));
      expect(run.code).toBe(2);
      expect(lines(run.stderr)).toEqual([expect.stringMatching(message)]);
      expect(run.stdout).toBe('');
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    },
    RUN_TIMEOUT_MS
  );
});
