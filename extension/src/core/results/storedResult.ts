/**
 * A TuberLens result as it is stored in the PACS: a DICOM Comprehensive SR holding the model identity and
 * the per-slice probabilities, beside a DICOM SEG holding the tuber regions. `tuberlens batch --store`
 * writes both; the cohort view and the viewer panel read the SR back. Framework-free.
 */
import { numberValue, sequenceItems, stringValue, type DicomJson } from '../dicomweb/dicomJson';

export interface StoredModel {
  name: string;
  version: string;
  /** SHA-256 of the weights the result was made with. */
  sha256: string;
}

export interface StoredSlice {
  sopInstanceUID: string;
  instanceNumber?: number;
  probability: number;
}

export interface StoredResult {
  studyInstanceUID: string;
  /** The analysed series. */
  seriesInstanceUID: string;
  seriesDescription: string;
  /** The analysed series' contrast as TuberLens classified it (see seriesClassification). */
  contrast?: 'FLAIR' | 'T2';
  model: StoredModel;
  /**
   * The threshold the result was made at (see operatingPoint.ts): the model card's series threshold of
   * the contrast, or its slice threshold (older cards, and a result without a verdict). Flags slices
   * and, with a verdict, decides it.
   */
  threshold: number;
  /** The highest slice probability. */
  probability: number;
  /** null: the model gave no verdict for this series, for `withheldReason` (see operatingPoint.ts). */
  positive: boolean | null;
  withheldReason?: string;
  slices: StoredSlice[];
  /** ISO 8601 UTC. */
  createdAt: string;
  /** The SR itself. */
  srSeriesInstanceUID: string;
  srSopInstanceUID: string;
  /** The SEG holding the tuber regions. */
  segSeriesInstanceUID: string;
  segSopInstanceUID: string;
}

/** Every TuberLens SR's and SEG's Series Description starts so; QIDO-RS finds them with "TuberLens*". */
export const STORED_SERIES_PREFIX = 'TuberLens';

export function resultSeriesDescription({ name, version }: Pick<StoredModel, 'name' | 'version'>) {
  return `${STORED_SERIES_PREFIX} result ${name} ${version}`;
}

export function regionsSeriesDescription({ name, version }: Pick<StoredModel, 'name' | 'version'>) {
  return `${STORED_SERIES_PREFIX} regions ${name} ${version}`;
}

/** A coded concept (PS3.3 Code Sequence Macro): value, coding scheme designator, meaning. */
export interface Code {
  value: string;
  scheme: string;
  meaning: string;
}

export const COMPREHENSIVE_SR_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.88.33';

/** TuberLens' own concepts, where DICOM (DCM) and SNOMED CT (SCT) have none. */
export const TUBERLENS_CODING_SCHEME = '99TUBERLENS';

const tuberLens = (value: string, meaning: string): Code => ({
  value,
  scheme: TUBERLENS_CODING_SCHEME,
  meaning,
});

/**
 * The concepts of a TuberLens result SR (docs/results-format.md draws the tree). The root CONTAINER
 * titled `result` CONTAINS the model identity, the analysed series, the threshold, the series
 * probability and verdict (or, where the model gives none, why it is withheld), one `sliceProbability`
 * NUM per slice (INFERRED FROM its IMAGE, HAS PROPERTIES its instance number) and the SEG as a
 * COMPOSITE `regions` item.
 */
export const SR_CODES = {
  result: tuberLens('TL-RESULT', 'TuberLens tuber detection result'),
  algorithmName: { value: '111001', scheme: 'DCM', meaning: 'Algorithm Name' },
  algorithmVersion: { value: '111003', scheme: 'DCM', meaning: 'Algorithm Version' },
  weightsSha256: tuberLens('TL-WEIGHTS-SHA', 'Model weights SHA-256'),
  seriesDescription: tuberLens('TL-SERIES-DESC', 'Analysed series description'),
  contrast: tuberLens('TL-CONTRAST', 'Analysed series contrast'),
  threshold: tuberLens('TL-THRESHOLD', 'Decision threshold'),
  seriesProbability: tuberLens('TL-SERIES-PROB', 'Series tuber probability'),
  verdict: tuberLens('TL-VERDICT', 'Tubers suspected'),
  verdictWithheld: tuberLens('TL-NO-VERDICT', 'Verdict withheld'),
  positive: { value: '10828004', scheme: 'SCT', meaning: 'Positive' },
  negative: { value: '260385009', scheme: 'SCT', meaning: 'Negative' },
  sliceProbability: tuberLens('TL-SLICE-PROB', 'Slice tuber probability'),
  sourceOfMeasurement: { value: '121112', scheme: 'DCM', meaning: 'Source of Measurement' },
  instanceNumber: tuberLens('TL-INSTANCE-NO', 'Instance Number'),
  regions: tuberLens('TL-REGIONS', 'Tuber regions segmentation'),
  noUnits: { value: '1', scheme: 'UCUM', meaning: 'no units' },
} as const satisfies Record<string, Code>;

const SR_TAG = {
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  ContentDate: '00080023',
  ContentTime: '00080033',
  TimezoneOffsetFromUTC: '00080201',
  CodeValue: '00080100',
  CodingSchemeDesignator: '00080102',
  ReferencedSeriesSequence: '00081115',
  ReferencedSOPSequence: '00081199',
  ReferencedSOPInstanceUID: '00081155',
  RelationshipType: '0040A010',
  ValueType: '0040A040',
  ConceptNameCodeSequence: '0040A043',
  TextValue: '0040A160',
  FloatingPointValue: '0040A161',
  ConceptCodeSequence: '0040A168',
  MeasuredValueSequence: '0040A300',
  NumericValue: '0040A30A',
  CurrentRequestedProcedureEvidenceSequence: '0040A375',
  ContentSequence: '0040A730',
} as const;

/** An SR that is not a TuberLens result, or one that lacks part of it. */
export class StoredResultError extends Error {}

/**
 * The result a TuberLens SR holds, from its DICOM JSON (an instance of WADO-RS metadata). Throws a
 * StoredResultError saying what is wrong for any other SR, or a TuberLens SR missing a part.
 */
export function readStoredResult(sr: DicomJson): StoredResult {
  const sopInstanceUID = stringValue(sr, SR_TAG.SOPInstanceUID) ?? '(without SOP Instance UID)';
  const fail = (problem: string) =>
    new StoredResultError(`SR ${sopInstanceUID} is not a TuberLens result: ${problem}.`);
  if (stringValue(sr, SR_TAG.SOPClassUID) !== COMPREHENSIVE_SR_SOP_CLASS)
    throw fail('it is not a Comprehensive SR');
  if (!hasConcept(sr, SR_CODES.result)) throw fail(`its title is not "${SR_CODES.result.meaning}"`);
  const content = new ContentReader(sequenceItems(sr, SR_TAG.ContentSequence), fail);
  const slices = content.all(SR_CODES.sliceProbability).map(item => readSlice(item, fail));
  if (slices.length === 0) throw fail('it has no slice probability');
  const segSopInstanceUID = referencedInstance(content.one(SR_CODES.regions), fail);
  const evidence = evidenceSeries(sr);
  const contrast = content.optionalText(SR_CODES.contrast);
  return {
    studyInstanceUID: required(
      stringValue(sr, SR_TAG.StudyInstanceUID),
      'Study Instance UID',
      fail
    ),
    seriesInstanceUID: seriesHolding(evidence, slices[0].sopInstanceUID, fail),
    seriesDescription: content.text(SR_CODES.seriesDescription),
    ...(contrast === 'FLAIR' || contrast === 'T2' ? { contrast } : {}),
    model: {
      name: content.text(SR_CODES.algorithmName),
      version: content.text(SR_CODES.algorithmVersion),
      sha256: content.text(SR_CODES.weightsSha256),
    },
    threshold: content.number(SR_CODES.threshold),
    probability: content.number(SR_CODES.seriesProbability),
    ...verdictOf(content),
    slices,
    createdAt: contentDateTime(sr, fail),
    srSeriesInstanceUID: required(stringValue(sr, SR_TAG.SeriesInstanceUID), 'Series UID', fail),
    srSopInstanceUID: sopInstanceUID,
    segSeriesInstanceUID: seriesHolding(evidence, segSopInstanceUID, fail),
    segSopInstanceUID,
  };
}

type Fail = (problem: string) => StoredResultError;

function verdictOf(content: ContentReader): Pick<StoredResult, 'positive' | 'withheldReason'> {
  const withheldReason = content.optionalText(SR_CODES.verdictWithheld);
  if (withheldReason !== undefined) return { positive: null, withheldReason };
  return {
    positive: content.code(SR_CODES.verdict, [SR_CODES.positive, SR_CODES.negative]) === 0,
  };
}

/** The content items of one level of an SR tree, found by concept name. */
class ContentReader {
  constructor(
    private readonly items: DicomJson[],
    private readonly fail: Fail
  ) {}

  all(concept: Code): DicomJson[] {
    return this.items.filter(item => hasConcept(item, concept));
  }

  one(concept: Code): DicomJson {
    const [item] = this.all(concept);
    if (!item) throw this.fail(`it has no "${concept.meaning}"`);
    return item;
  }

  optionalText(concept: Code): string | undefined {
    const [item] = this.all(concept);
    return item && stringValue(item, SR_TAG.TextValue);
  }

  text(concept: Code): string {
    return required(stringValue(this.one(concept), SR_TAG.TextValue), concept.meaning, this.fail);
  }

  number(concept: Code): number {
    return measuredValue(this.one(concept), concept, this.fail);
  }

  /** The index in `values` of the item's coded value. */
  code(concept: Code, values: readonly Code[]): number {
    const [value] = sequenceItems(this.one(concept), SR_TAG.ConceptCodeSequence);
    const index = values.findIndex(code => value && isCode(value, code));
    if (index < 0) throw this.fail(`its "${concept.meaning}" is none of the expected codes`);
    return index;
  }
}

function readSlice(item: DicomJson, fail: Fail): StoredSlice {
  const children = new ContentReader(sequenceItems(item, SR_TAG.ContentSequence), fail);
  const [instanceNumber] = children.all(SR_CODES.instanceNumber);
  return {
    sopInstanceUID: referencedInstance(children.one(SR_CODES.sourceOfMeasurement), fail),
    ...(instanceNumber
      ? { instanceNumber: measuredValue(instanceNumber, SR_CODES.instanceNumber, fail) }
      : {}),
    probability: measuredValue(item, SR_CODES.sliceProbability, fail),
  };
}

/** A NUM item's value: the exact floating point value where there is one, else the decimal string. */
function measuredValue(item: DicomJson, concept: Code, fail: Fail): number {
  const [measured] = sequenceItems(item, SR_TAG.MeasuredValueSequence);
  const value = measured
    ? (numberValue(measured, SR_TAG.FloatingPointValue) ??
      numberValue(measured, SR_TAG.NumericValue))
    : undefined;
  return required(value, concept.meaning, fail);
}

function referencedInstance(item: DicomJson, fail: Fail): string {
  const [reference] = sequenceItems(item, SR_TAG.ReferencedSOPSequence);
  const uid = reference && stringValue(reference, SR_TAG.ReferencedSOPInstanceUID);
  return required(uid, 'a referenced SOP Instance UID', fail);
}

/** Series UID → the SOP Instance UIDs the SR's evidence lists in it. */
function evidenceSeries(sr: DicomJson): Map<string, string[]> {
  const series = new Map<string, string[]>();
  for (const study of sequenceItems(sr, SR_TAG.CurrentRequestedProcedureEvidenceSequence)) {
    for (const item of sequenceItems(study, SR_TAG.ReferencedSeriesSequence)) {
      const instances = sequenceItems(item, SR_TAG.ReferencedSOPSequence).map(
        reference => stringValue(reference, SR_TAG.ReferencedSOPInstanceUID) ?? ''
      );
      series.set(stringValue(item, SR_TAG.SeriesInstanceUID) ?? '', instances);
    }
  }
  return series;
}

function seriesHolding(evidence: Map<string, string[]>, sopInstanceUID: string, fail: Fail) {
  for (const [series, instances] of evidence) if (instances.includes(sopInstanceUID)) return series;
  throw fail(`its evidence does not list the series of ${sopInstanceUID}`);
}

/** Content Date and Time with their UTC offset (UTC when absent), as ISO 8601 UTC. */
function contentDateTime(sr: DicomJson, fail: Fail): string {
  const date = /^(\d{4})(\d{2})(\d{2})$/.exec(stringValue(sr, SR_TAG.ContentDate) ?? '');
  const time = /^(\d{2})(\d{2})(\d{2})(\.\d{1,6})?$/.exec(
    stringValue(sr, SR_TAG.ContentTime) ?? ''
  );
  if (!date || !time) throw fail('it has no valid Content Date and Time');
  const offset = /^([+-])(\d{2})(\d{2})$/.exec(stringValue(sr, SR_TAG.TimezoneOffsetFromUTC) ?? '');
  const offsetMinutes = offset
    ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3]))
    : 0;
  const [year, month, day] = date.slice(1).map(Number);
  const [hours, minutes, seconds] = time.slice(1, 4).map(Number);
  const milliseconds = Math.round(Number(time[4] ?? 0) * 1000);
  const utc = Date.UTC(year, month - 1, day, hours, minutes - offsetMinutes, seconds, milliseconds);
  return new Date(utc).toISOString();
}

function hasConcept(item: DicomJson, concept: Code): boolean {
  const [name] = sequenceItems(item, SR_TAG.ConceptNameCodeSequence);
  return name !== undefined && isCode(name, concept);
}

function isCode(item: DicomJson, { value, scheme }: Code): boolean {
  return (
    stringValue(item, SR_TAG.CodeValue) === value &&
    stringValue(item, SR_TAG.CodingSchemeDesignator) === scheme
  );
}

function required<T>(value: T | undefined, what: string, fail: Fail): T {
  if (value === undefined) throw fail(`${what} is missing`);
  return value;
}
