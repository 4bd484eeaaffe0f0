import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { encodeDicomSeries } from './dicomSeries';
import { middleSlices, renderMontage } from './montage';
import { writeNifti } from './nifti';
import { sliceTable, type SyntheticSubject } from './subject';
import type { RenderedSeries, StudyIdentity } from './types';

export type OutputFormat = 'dicom' | 'nifti' | 'both';

/**
 * Writes a subject's study: DICOM series and/or NIfTI volumes with their tuber masks, the per-slice
 * table (slices.csv), the tuber list (subject.json) and a review montage. Everything is written to a
 * hidden staging folder first and renamed into place at the end, so a folder that exists is complete.
 */
export async function writeSubject(
  subject: SyntheticSubject,
  identity: StudyIdentity,
  folder: string,
  format: OutputFormat
): Promise<void> {
  const parent = dirname(folder);
  const stagingPrefix = `.${subject.seed}.partial-`;
  const staging = join(parent, `${stagingPrefix}${process.pid}`);
  await removeStaleStaging(parent, stagingPrefix);
  try {
    await mkdir(staging, { recursive: true });
    const sopUIDs =
      format === 'nifti' ? [] : await writeDicom(subject, identity, join(staging, 'dicom'));
    if (format !== 'dicom') await writeNiftiVolumes(subject, join(staging, 'nifti'));
    await writeFile(join(staging, 'slices.csv'), sliceCsv(subject, sopUIDs));
    await writeFile(
      join(staging, 'subject.json'),
      `${JSON.stringify(describeSubject(subject), null, 2)}\n`
    );
    const rows = subject.series.map(series => ({
      series,
      slices: middleSlices(series, 6),
      outline: true,
    }));
    await writeFile(join(staging, 'montage.png'), renderMontage(rows, 192));
    await rm(folder, { recursive: true, force: true });
    await rename(staging, folder);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Staging folders of the same subject left by killed runs. */
async function removeStaleStaging(parent: string, prefix: string): Promise<void> {
  const entries = await readdir(parent).catch(() => [] as string[]);
  for (const name of entries.filter(entry => entry.startsWith(prefix))) {
    await rm(join(parent, name), { recursive: true, force: true });
  }
}

/** Writes one DICOM series per contrast; answers the SOP Instance UIDs, per series, in slice order. */
async function writeDicom(
  subject: SyntheticSubject,
  identity: StudyIdentity,
  folder: string
): Promise<string[][]> {
  await mkdir(folder, { recursive: true });
  const uids: string[][] = [];
  for (const [index, series] of subject.series.entries()) {
    const instances = encodeDicomSeries(series, identity, index + 1);
    for (const instance of instances)
      await writeFile(join(folder, instance.fileName), instance.bytes);
    uids.push(instances.map(instance => instance.sopInstanceUID));
  }
  return uids;
}

async function writeNiftiVolumes(subject: SyntheticSubject, folder: string): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (const series of subject.series) {
    const name = series.contrast.toLowerCase();
    await writeFile(
      join(folder, `${name}.nii.gz`),
      writeNifti(seriesVolume(series, series.pixels, Uint16Array))
    );
    await writeFile(
      join(folder, `${name}_tubers.nii.gz`),
      writeNifti(seriesVolume(series, series.masks, Uint8Array))
    );
  }
}

/** The slices as one volume: voxel (column, row, slice) → RAS mm from the DICOM geometry. */
export function seriesVolume<T extends Uint16Array | Uint8Array>(
  series: RenderedSeries,
  slices: T[],
  Type: { new (length: number): T }
) {
  const { rows, columns, orientation, positions, pixelSpacing } = series;
  const data = new Type(rows * columns * slices.length);
  slices.forEach((slice, k) => data.set(slice, k * rows * columns));
  const first = positions[0];
  const step =
    positions.length > 1
      ? positions[1].map((value, a) => value - first[a])
      : crossProduct(orientation).map(value => value * series.spacingBetweenSlices);
  // Voxel i walks along a row (one column spacing), voxel j down a column (one row spacing).
  const alongRow = orientation.slice(0, 3).map(value => value * pixelSpacing[1]);
  const downColumn = orientation.slice(3).map(value => value * pixelSpacing[0]);
  // LPS → RAS flips the first two world axes.
  const flip = [-1, -1, 1];
  const affine = [0, 1, 2].flatMap(a =>
    [alongRow[a], downColumn[a], step[a], first[a]].map(value => flip[a] * value)
  );
  return {
    dims: [columns, rows, slices.length] as [number, number, number],
    affine: [...affine, 0, 0, 0, 1],
    data,
  };
}

function crossProduct(orientation: number[]): number[] {
  const [a, b, c, d, e, f] = orientation;
  return [b * f - c * e, c * d - a * f, a * e - b * d];
}

function sliceCsv(subject: SyntheticSubject, sopUIDs: string[][]): string {
  const header = 'contrast,slice,instance_number,sop_instance_uid,tuber_area_mm2,label';
  const lines = subject.series.flatMap((series, s) =>
    sliceTable(series).map(row =>
      [
        row.contrast,
        row.slice,
        row.instanceNumber,
        sopUIDs[s]?.[row.slice] ?? '',
        row.tuberAreaMm2.toFixed(1),
        row.label,
      ].join(',')
    )
  );
  return `${[header, ...lines].join('\n')}\n`;
}

function describeSubject(subject: SyntheticSubject) {
  return {
    seed: subject.seed,
    tsc: subject.tsc,
    tubers: subject.tubers.map(tuber => ({
      ...tuber,
      diameterMm: Number(tuber.diameterMm.toFixed(2)),
    })),
    series: subject.series.map(series => ({
      contrast: series.contrast,
      description: series.seriesDescription,
      slices: series.pixels.length,
      rows: series.rows,
      columns: series.columns,
      pixelSpacing: series.pixelSpacing,
      sliceThickness: series.sliceThickness,
      spacingBetweenSlices: series.spacingBetweenSlices,
    })),
  };
}
