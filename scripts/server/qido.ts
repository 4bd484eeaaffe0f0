import type { DicomJson } from './dicomFile';
import type { DicomStore, StoredInstance } from './dicomStore';

const STUDY_TAGS = [
  '00080020',
  '00080030',
  '00080050',
  '00080090',
  '00081030',
  '00100010',
  '00100020',
  '00100030',
  '00100040',
  '0020000D',
  '00200010',
];
const SERIES_TAGS = [
  '00080021',
  '00080031',
  '00080060',
  '0008103E',
  '0020000D',
  '0020000E',
  '00200011',
];
const INSTANCE_TAGS = [
  '00080016',
  '00080018',
  '0020000D',
  '0020000E',
  '00200013',
  '00280008',
  '00280010',
  '00280011',
];

/** QIDO-RS query keys this server matches, by keyword and by tag. */
const MATCH_KEYS: Record<string, string> = {
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SOPInstanceUID: '00080018',
  PatientName: '00100010',
  PatientID: '00100020',
  AccessionNumber: '00080050',
  StudyDescription: '00081030',
  StudyDate: '00080020',
  StudyID: '00200010',
  Modality: '00080060',
  ModalitiesInStudy: '00080061',
  SeriesDescription: '0008103E',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
};
const UID_TAGS = new Set(['0020000D', '0020000E', '00080018']);
const DATE_TAGS = new Set(['00080020']);

export function searchStudies(store: DicomStore, query: URLSearchParams): DicomJson[] {
  return page(
    store
      .studyUIDs()
      .map(uid => studyAttributes(store, uid))
      .filter(attributes => matches(attributes, query)),
    query
  );
}

/** Series of one study, or of every study when studyInstanceUID is undefined (QIDO-RS `/series`). */
export function searchSeries(
  store: DicomStore,
  studyInstanceUID: string | undefined,
  query: URLSearchParams
): DicomJson[] {
  const studies = studyInstanceUID === undefined ? store.studyUIDs() : [studyInstanceUID];
  return page(
    studies
      .flatMap(study => store.seriesUIDs(study).map(uid => store.instances(study, uid)))
      .map(seriesAttributes)
      .filter(attributes => matches(attributes, query)),
    query
  );
}

export function searchInstances(
  store: DicomStore,
  studyInstanceUID: string,
  seriesInstanceUID: string | undefined,
  query: URLSearchParams
): DicomJson[] {
  return page(
    store
      .instances(studyInstanceUID, seriesInstanceUID)
      .map(instance => pick(instance.metadata, INSTANCE_TAGS))
      .filter(attributes => matches(attributes, query)),
    query
  );
}

function studyAttributes(store: DicomStore, studyInstanceUID: string): DicomJson {
  const instances = store.instances(studyInstanceUID);
  const modalities = [
    ...new Set(
      instances.map(instance => instance.metadata['00080060']?.Value?.[0]).filter(Boolean)
    ),
  ];
  return {
    ...pick(instances[0].metadata, STUDY_TAGS),
    '00080061': { vr: 'CS', Value: modalities },
    '00201206': { vr: 'IS', Value: [store.seriesUIDs(studyInstanceUID).length] },
    '00201208': { vr: 'IS', Value: [instances.length] },
  };
}

function seriesAttributes(instances: StoredInstance[]): DicomJson {
  return {
    ...pick(instances[0].metadata, SERIES_TAGS),
    '00201209': { vr: 'IS', Value: [instances.length] },
  };
}

function pick(metadata: DicomJson, tags: string[]): DicomJson {
  const picked: DicomJson = {};
  for (const tag of tags) if (metadata[tag]) picked[tag] = metadata[tag];
  return picked;
}

function matches(attributes: DicomJson, query: URLSearchParams): boolean {
  for (const [key, rawPattern] of query) {
    const tag = MATCH_KEYS[key] ?? (/^[0-9A-Fa-f]{8}$/.test(key) ? key.toUpperCase() : undefined);
    if (!tag || rawPattern === '' || rawPattern === '*') continue;
    const values = (attributes[tag]?.Value ?? []).map(valueText);
    const fuzzy = query.get('fuzzymatching') === 'true';
    if (!values.some(value => matchesValue(tag, value, rawPattern, fuzzy))) return false;
  }
  return true;
}

function matchesValue(tag: string, value: string, pattern: string, fuzzy: boolean): boolean {
  if (UID_TAGS.has(tag)) return pattern.split(/[\\,]/).includes(value);
  if (DATE_TAGS.has(tag) && pattern.includes('-')) {
    const [from, to] = pattern.split('-');
    return (!from || value >= from) && (!to || value <= to);
  }
  const expression = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  // Case-insensitive, as common archives match names; fuzzy matching also accepts a prefix.
  return new RegExp(`^${expression}${fuzzy ? '' : '$'}`, 'i').test(value.trim());
}

function valueText(value: unknown): string {
  if (value && typeof value === 'object' && 'Alphabetic' in value)
    return String((value as { Alphabetic: unknown }).Alphabetic ?? '');
  return String(value);
}

function page<T>(results: T[], query: URLSearchParams): T[] {
  const offset = Math.max(0, Number(query.get('offset')) || 0);
  const limit = Number(query.get('limit')) > 0 ? Number(query.get('limit')) : results.length;
  return results.slice(offset, offset + limit);
}
