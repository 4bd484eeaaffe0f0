// Renders docs/images/synthesis-montage.png: synthetic T2 and FLAIR slices with and without tubers, so a
// radiologist can judge realism at a glance. Usage: tsx scripts/synthesisMontage.ts [label maps...]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareAnatomy } from '../models/pipeline/synthesis/anatomy';
import { middleSlices, renderMontage, type MontageRow } from '../models/pipeline/synthesis/montage';
import { readNifti } from '../models/pipeline/synthesis/nifti';
import { sliceTable, synthesizeSubject } from '../models/pipeline/synthesis/subject';
import type { RenderedSeries } from '../models/pipeline/synthesis/types';

const SHARED_MAPS = join(__dirname, '..', '..', 'shared', 'data', 'synthseg-label-maps');
const [tscMap, controlMap] =
  process.argv.length > 3
    ? process.argv.slice(2, 4)
    : ['training_seg_04.nii.gz', 'training_seg_09.nii.gz'].map(name => join(SHARED_MAPS, name));
if (!existsSync(tscMap) || !existsSync(controlMap)) {
  console.error(`Label maps not found (${tscMap}, ${controlMap}): pass two label map paths.`);
  process.exit(2);
}
const CLINICAL = { pixelMm: 0.9, matrix: 256, sliceThicknessMm: 5, gapMm: 1, tiltDegrees: 0 };
const COLUMNS = 6;

const load = (path: string) => prepareAnatomy(readNifti(readFileSync(path)));
const tscAnatomy = load(tscMap);
const tsc = synthesizeSubject(tscAnatomy, 'montage-tsc', {
  tsc: true,
  contrasts: ['T2', 'FLAIR'],
  acquisition: CLINICAL,
});
const infant = synthesizeSubject(tscAnatomy, 'montage-infant', {
  tsc: true,
  infant: true,
  contrasts: ['T2'],
  acquisition: CLINICAL,
});
const control = synthesizeSubject(load(controlMap), 'montage-control', {
  tsc: false,
  contrasts: ['T2', 'FLAIR'],
  acquisition: CLINICAL,
});

/** The slices holding the most tuber, in order through the head. */
function tuberSlices(series: RenderedSeries): number[] {
  return sliceTable(series)
    .sort((a, b) => b.tuberAreaMm2 - a.tuberAreaMm2)
    .slice(0, COLUMNS)
    .map(row => row.slice)
    .sort((a, b) => a - b);
}

const [tscT2, tscFlair] = tsc.series;
const rows: MontageRow[] = [
  { series: tscT2, slices: tuberSlices(tscT2), outline: false },
  { series: tscT2, slices: tuberSlices(tscT2), outline: true },
  { series: tscFlair, slices: tuberSlices(tscT2), outline: false },
  { series: tscFlair, slices: tuberSlices(tscT2), outline: true },
  { series: infant.series[0], slices: tuberSlices(infant.series[0]), outline: true },
  ...control.series.map(series => ({
    series,
    slices: middleSlices(series, COLUMNS),
    outline: false,
  })),
];
const target = join(__dirname, '..', 'docs', 'images', 'synthesis-montage.png');
writeFileSync(target, renderMontage(rows, 160));
console.log(
  `Wrote ${target}: rows TSC T2, T2 with tuber outlines, FLAIR, FLAIR with outlines, infant T2 with outlines, control T2, control FLAIR.`
);
console.log(`TSC subject: ${tsc.tubers.length} tubers; infant: ${infant.tubers.length}.`);
