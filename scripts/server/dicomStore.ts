import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readDicomFile, type DicomInstance, type DicomJson } from './dicomFile';

export interface StoredInstance extends DicomInstance {
  path: string;
}

interface SeriesEntry {
  seriesInstanceUID: string;
  instances: Map<string, StoredInstance>;
}

interface StudyEntry {
  studyInstanceUID: string;
  series: Map<string, SeriesEntry>;
}

/** Read-only index of the DICOM files in some folders, grouped by study and series. */
export class DicomStore {
  private readonly studyMap = new Map<string, StudyEntry>();

  /** Indexes every file below the folders; files that are not usable DICOM are reported through `warn` and skipped. */
  static async fromFolders(
    folders: string[],
    warn: (message: string) => void
  ): Promise<DicomStore> {
    const store = new DicomStore();
    for (const folder of folders) {
      for (const path of await listFiles(folder, warn)) {
        try {
          store.add({ ...(await readDicomFile(path)).instance, path });
        } catch (error) {
          warn(`Skipping ${path}: ${error instanceof Error ? error.message : error}.`);
        }
      }
    }
    return store;
  }

  add(instance: StoredInstance): void {
    const study = getOrCreate(this.studyMap, instance.studyInstanceUID, () => ({
      studyInstanceUID: instance.studyInstanceUID,
      series: new Map(),
    }));
    const series = getOrCreate(study.series, instance.seriesInstanceUID, () => ({
      seriesInstanceUID: instance.seriesInstanceUID,
      instances: new Map(),
    }));
    series.instances.set(instance.sopInstanceUID, instance);
  }

  get studyCount(): number {
    return this.studyMap.size;
  }

  studyUIDs(): string[] {
    return [...this.studyMap.keys()];
  }

  seriesUIDs(studyInstanceUID: string): string[] {
    return [...(this.studyMap.get(studyInstanceUID)?.series.keys() ?? [])];
  }

  /** Instances of a study, or of one of its series, sorted by InstanceNumber. */
  instances(studyInstanceUID: string, seriesInstanceUID?: string): StoredInstance[] {
    const study = this.studyMap.get(studyInstanceUID);
    if (!study) return [];
    const series = seriesInstanceUID
      ? [study.series.get(seriesInstanceUID)]
      : [...study.series.values()];
    return series
      .flatMap(entry => [...(entry?.instances.values() ?? [])])
      .sort((a, b) => instanceNumber(a.metadata) - instanceNumber(b.metadata));
  }

  instance(
    studyInstanceUID: string,
    seriesInstanceUID: string,
    sopInstanceUID: string
  ): StoredInstance | undefined {
    return this.studyMap
      .get(studyInstanceUID)
      ?.series.get(seriesInstanceUID)
      ?.instances.get(sopInstanceUID);
  }
}

async function listFiles(folder: string, warn: (message: string) => void): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true, recursive: true });
  } catch (error) {
    warn(`Skipping folder ${folder}: ${error instanceof Error ? error.message : error}.`);
    return [];
  }
  return entries
    .filter(entry => entry.isFile() && !entry.name.startsWith('.'))
    .map(entry => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

function instanceNumber(metadata: DicomJson): number {
  return Number(metadata['00200013']?.Value?.[0] ?? 0);
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}
