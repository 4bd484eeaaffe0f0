import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AnatomyError, prepareAnatomy, type Anatomy } from './anatomy';
import { NiftiError, readNifti } from './nifti';
import { writeSubject, type OutputFormat } from './output';
import { progressBar } from '../progressBar';
import { labelMapIndex, synthesizeSubject } from './subject';
import type { Contrast, StudyIdentity } from './types';

export const SYNTH_USAGE = `Usage: tuberlens synth --labels <dir|file> --out <dir> [--subjects 10] [--seed tuberlens]
                       [--tubers auto|all|none] [--contrast t2|flair|both] [--format dicom|nifti|both] [--infant]

  Renders synthetic T2/FLAIR brain MRI from NIfTI label maps (FreeSurfer labels), with tubers and exact
  masks. --tubers auto alternates TSC and control subjects; each label map serves a TSC and a control
  subject in turn, so anatomy says nothing about the diagnosis.`;

/** Input the command cannot use: reported in one line, exit code 2. */
export class SynthInputError extends Error {}

interface SynthOptions {
  labelFiles: string[];
  out: string;
  subjects: number;
  seed: string;
  tubers: 'auto' | 'all' | 'none';
  contrasts: Contrast[];
  format: OutputFormat;
  infant: boolean;
}

export async function synthCommand(
  args: string[],
  progress: (line: string, done: boolean) => void
): Promise<void> {
  const options = await parseOptions(args);
  const anatomies = new Map<string, Anatomy>();
  const started = Date.now();
  const labelFileOf = (n: number) =>
    options.labelFiles[labelMapIndex(n, options.labelFiles.length)];
  // Every label map the run uses is checked before the first subject is written.
  for (let n = 0; n < options.subjects; n++) {
    const labelFile = labelFileOf(n);
    if (!anatomies.has(labelFile)) anatomies.set(labelFile, await loadAnatomy(labelFile));
  }
  for (let n = 0; n < options.subjects; n++) {
    const labelFile = labelFileOf(n);
    const id = `${options.seed}-${String(n + 1).padStart(4, '0')}`;
    const tsc = options.tubers === 'all' || (options.tubers === 'auto' && n % 2 === 0);
    const subject = synthesizeSubject(anatomies.get(labelFile)!, id, {
      tsc,
      contrasts: options.contrasts,
      infant: options.infant,
    });
    await writeSubject(subject, identityOf(id, tsc), join(options.out, id), options.format);
    const seconds = (Date.now() - started) / 1000;
    progress(
      `${progressBar((n + 1) / options.subjects)} ${n + 1}/${options.subjects} subjects, ${seconds.toFixed(1)} s`,
      n + 1 === options.subjects
    );
  }
}

export function identityOf(id: string, tsc: boolean): StudyIdentity {
  return {
    patientName: `Synthetic^${tsc ? 'TSC' : 'Control'}^${id}`,
    patientId: id,
    studyDescription: 'TUBERLENS SYNTHETIC BRAIN MRI',
    studyDate: '20260101',
    uidSeed: id,
  };
}

async function parseOptions(args: string[]): Promise<SynthOptions> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        labels: { type: 'string' },
        out: { type: 'string' },
        subjects: { type: 'string', default: '10' },
        seed: { type: 'string', default: 'tuberlens' },
        tubers: { type: 'string', default: 'auto' },
        contrast: { type: 'string', default: 'both' },
        format: { type: 'string', default: 'both' },
        infant: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new SynthInputError(String((error as Error).message).replace(/\s*\n\s*/g, ' '));
  }
  if (!values.labels || !values.out) throw new SynthInputError('--labels and --out are required.');
  const subjects = Number(values.subjects);
  if (!Number.isInteger(subjects) || subjects < 1)
    throw new SynthInputError(
      `--subjects must be a positive whole number, not "${values.subjects}".`
    );
  const tubers = oneOf(values.tubers, ['auto', 'all', 'none'] as const, '--tubers');
  const contrast = oneOf(values.contrast, ['t2', 'flair', 'both'] as const, '--contrast');
  const format = oneOf(values.format, ['dicom', 'nifti', 'both'] as const, '--format');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(values.seed))
    throw new SynthInputError(
      '--seed may hold letters, digits, dot, dash and underscore only, and starts with a letter or digit.'
    );
  const out = resolve(values.out);
  await ensureWritable(out);
  return {
    labelFiles: await labelFilesOf(resolve(values.labels)),
    out,
    subjects,
    seed: values.seed,
    tubers,
    contrasts: contrast === 'both' ? ['T2', 'FLAIR'] : [contrast === 't2' ? 'T2' : 'FLAIR'],
    format,
    infant: values.infant,
  };
}

function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if (!allowed.includes(value as T))
    throw new SynthInputError(`${name} must be one of ${allowed.join(', ')}, not "${value}".`);
  return value as T;
}

async function labelFilesOf(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new SynthInputError(`${path} does not exist.`);
  if (info.isFile()) return [path];
  const files = (await readdir(path)).filter(name => /\.nii(\.gz)?$/.test(name)).sort();
  if (files.length === 0) throw new SynthInputError(`${path} holds no .nii or .nii.gz label map.`);
  return files.map(name => join(path, name));
}

async function ensureWritable(folder: string): Promise<void> {
  try {
    await mkdir(folder, { recursive: true });
    await access(folder, constants.W_OK);
    const probe = join(folder, `.write-test-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe);
  } catch (error) {
    throw new SynthInputError(`cannot write to ${folder}: ${(error as Error).message}`);
  }
}

async function loadAnatomy(file: string): Promise<Anatomy> {
  try {
    return prepareAnatomy(readNifti(await readFile(file)));
  } catch (error) {
    if (error instanceof NiftiError || error instanceof AnatomyError) {
      throw new SynthInputError(`${basename(file)}: ${error.message}`);
    }
    throw error;
  }
}
