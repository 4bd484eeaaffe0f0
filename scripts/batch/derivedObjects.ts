/**
 * What the DICOM objects TuberLens derives from a series (its SEG and SR) share: deterministic UIDs,
 * the source's patient and study, the equipment and dates. Node (dcmjs); the Part 10 encoding is the
 * synthesis engine's (`part10Bytes` in models/pipeline/synthesis/dicomSeries.ts).
 */
import { createHash } from 'node:crypto';
import dcmjs from 'dcmjs';
import type { Code, StoredModel } from '../../extension/src/core/results/storedResult';
import type { DicomJson } from '../server/dicomFile';

export type Dataset = Record<string, unknown>;

export type DerivedKind = 'sr' | 'seg';

export interface DerivedUids {
  seriesInstanceUID: string;
  sopInstanceUID: string;
}

/**
 * The UIDs of the SR or SEG that a model makes from a series: the same on every run, so that storing a
 * result again (a rerun, a resumed batch) gives the PACS instances it already holds, never a copy.
 */
export function derivedUids(
  kind: DerivedKind,
  sourceSeriesInstanceUID: string,
  { name, version }: Pick<StoredModel, 'name' | 'version'>
): DerivedUids {
  const uid = (role: string) => uidFromSeed([kind, sourceSeriesInstanceUID, name, version, role]);
  return { seriesInstanceUID: uid('series'), sopInstanceUID: uid('instance') };
}

/** "2.25." and the first 128 bits of the SHA-256 of the parts, in decimal (PS3.5 B.2). */
export function uidFromSeed(parts: readonly string[]): string {
  const digest = createHash('sha256').update(parts.join('\0')).digest();
  return `2.25.${BigInt(`0x${digest.subarray(0, 16).toString('hex')}`)}`;
}

const PATIENT_AND_STUDY = {
  '00100010': 'PatientName',
  '00100020': 'PatientID',
  '00100030': 'PatientBirthDate',
  '00100040': 'PatientSex',
  '0020000D': 'StudyInstanceUID',
  '00080020': 'StudyDate',
  '00080030': 'StudyTime',
  '00200010': 'StudyID',
  '00080050': 'AccessionNumber',
  '00080090': 'ReferringPhysicianName',
  '00081030': 'StudyDescription',
} as const;

/** The source instance's Patient and General Study attributes; those it lacks are empty (type 2). */
export function patientAndStudy(source: DicomJson): Dataset {
  const present = Object.fromEntries(
    Object.keys(PATIENT_AND_STUDY)
      .filter(tag => source[tag]?.Value?.length)
      .map(tag => [tag, source[tag]])
  );
  const naturalized = dcmjs.data.DicomMetaDictionary.naturalizeDataset(present);
  delete naturalized._vrMap;
  const empty = Object.fromEntries(Object.values(PATIENT_AND_STUDY).map(keyword => [keyword, '']));
  return { ...empty, ...naturalized };
}

/** The General and Enhanced General Equipment attributes: TuberLens and the model. */
export function equipment({ name, version }: Pick<StoredModel, 'name' | 'version'>): Dataset {
  return {
    Manufacturer: 'TuberLens',
    ManufacturerModelName: longString(name),
    DeviceSerialNumber: longString(`${name} ${version}`),
    SoftwareVersions: longString(version),
  };
}

/** Content, series and instance creation date and time, in UTC. */
export function creationDateTime(createdAt: Date): Dataset {
  const [date, time] = dicomDateTime(createdAt);
  return {
    SeriesDate: date,
    SeriesTime: time,
    ContentDate: date,
    ContentTime: time,
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    TimezoneOffsetFromUTC: '+0000',
  };
}

/** DA and TM (to the millisecond) of a moment in UTC. */
function dicomDateTime(moment: Date): [string, string] {
  const iso = moment.toISOString(); // 2026-11-27T13:49:16.123Z
  return [iso.slice(0, 10).replaceAll('-', ''), iso.slice(11, 23).replaceAll(':', '')];
}

/** A DS value: at most 16 characters, so ten significant digits. */
export function decimalString(value: number): string {
  return String(Number(value.toPrecision(10)));
}

/** DICOM LO values hold at most 64 characters. */
export function longString(text: string): string {
  return text.slice(0, 64);
}

/** A Code Sequence item from a code. */
export function codeItem({ value, scheme, meaning }: Code): Dataset {
  return { CodeValue: value, CodingSchemeDesignator: scheme, CodeMeaning: meaning };
}
