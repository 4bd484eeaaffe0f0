import { readFile } from 'node:fs/promises';
import { stringValue } from '../../extension/src/core/dicomweb/dicomJson';
import type { DicomwebClient } from '../../extension/src/core/dicomweb/dicomwebClient';
import type { DicomStore } from '../server/dicomStore';

/** Files per STOW-RS request: a few MB, which keeps each request short. */
const STOW_BATCH = 50;
const SOP_INSTANCE_UID = '00080018';

export interface StoreSummary {
  stored: number;
  alreadyThere: number;
}

/**
 * Stores the instances of `local` that the PACS does not hold yet. Asking first is cheaper than sending
 * everything again: one query per series against re-sending every file, which Orthanc parses only to
 * find it has it.
 */
export async function storeMissingInstances(
  pacs: DicomwebClient,
  local: DicomStore
): Promise<StoreSummary> {
  const missing: string[] = [];
  let alreadyThere = 0;
  for (const study of local.studyUIDs()) {
    for (const series of local.seriesUIDs(study)) {
      const held = new Set(
        (await pacs.searchInstances(study, series)).map(json => stringValue(json, SOP_INSTANCE_UID))
      );
      for (const instance of local.instances(study, series)) {
        if (held.has(instance.sopInstanceUID)) alreadyThere++;
        else missing.push(instance.path);
      }
    }
  }
  for (let start = 0; start < missing.length; start += STOW_BATCH) {
    const batch = missing.slice(start, start + STOW_BATCH);
    await pacs.store(await Promise.all(batch.map(path => readFile(path))));
  }
  return { stored: missing.length, alreadyThere };
}
