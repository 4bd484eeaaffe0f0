/**
 * A TuberLens result as a DICOM Comprehensive SR: the model identity, the analysed series, the
 * threshold, the series probability and verdict (or why there is none), one probability per slice
 * referencing its image, and a reference to the SEG of the tuber regions. readStoredResult
 * (extension/src/core/results) reads it back; docs/results-format.md draws the content tree.
 */
import { stringValue } from '../../extension/src/core/dicomweb/dicomJson';
import {
  COMPREHENSIVE_SR_SOP_CLASS,
  resultSeriesDescription,
  SR_CODES,
  type Code,
  type StoredResult,
  type StoredSlice,
} from '../../extension/src/core/results/storedResult';
import { SEGMENTATION_STORAGE } from '../../extension/src/segExport';
import type { DicomJson } from '../server/dicomFile';
import {
  codeItem,
  creationDateTime,
  decimalString,
  equipment,
  patientAndStudy,
  type Dataset,
} from './derivedObjects';
import { part10Bytes } from '../../models/pipeline/synthesis/dicomSeries';

/** After the scanner's series, beside the SEG's. */
const SR_SERIES_NUMBER = 9902;

/**
 * The SR of `result` as a DICOM Part 10 file. `source` is an instance of the analysed series: the SR
 * takes its patient and study, and its SOP class for the image references.
 */
export function resultSrBytes(result: StoredResult, source: DicomJson): Uint8Array {
  const sourceClass = stringValue(source, '00080016') ?? '';
  return part10Bytes({
    SpecificCharacterSet: 'ISO_IR 192', // dcmjs writes text as UTF-8
    SOPClassUID: COMPREHENSIVE_SR_SOP_CLASS,
    SOPInstanceUID: result.srSopInstanceUID,
    ...patientAndStudy(source),
    Modality: 'SR',
    SeriesInstanceUID: result.srSeriesInstanceUID,
    SeriesNumber: SR_SERIES_NUMBER,
    SeriesDescription: resultSeriesDescription(result.model),
    ReferencedPerformedProcedureStepSequence: [],
    ...equipment(result.model),
    InstanceNumber: 1,
    ...creationDateTime(new Date(result.createdAt)),
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    PerformedProcedureCodeSequence: [],
    CurrentRequestedProcedureEvidenceSequence: [evidence(result, sourceClass)],
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: [codeItem(SR_CODES.result)],
    ContinuityOfContent: 'SEPARATE',
    ContentSequence: content(result, sourceClass),
  });
}

function content(result: StoredResult, sourceClass: string): Dataset[] {
  return [
    textItem(SR_CODES.algorithmName, result.model.name),
    textItem(SR_CODES.algorithmVersion, result.model.version),
    textItem(SR_CODES.weightsSha256, result.model.sha256),
    textItem(SR_CODES.seriesDescription, result.seriesDescription),
    ...(result.contrast ? [textItem(SR_CODES.contrast, result.contrast)] : []),
    numberItem(SR_CODES.threshold, result.threshold),
    numberItem(SR_CODES.seriesProbability, result.probability),
    verdictItem(result),
    ...result.slices.map(slice => sliceItem(slice, sourceClass)),
    {
      RelationshipType: 'CONTAINS',
      ValueType: 'COMPOSITE',
      ConceptNameCodeSequence: [codeItem(SR_CODES.regions)],
      ReferencedSOPSequence: [reference(SEGMENTATION_STORAGE, result.segSopInstanceUID)],
    },
  ];
}

/** The verdict as a code, or the reason the model gives none as text. */
function verdictItem({ positive, withheldReason }: StoredResult): Dataset {
  if (positive === null)
    return textItem(SR_CODES.verdictWithheld, withheldReason ?? 'No verdict for this series.');
  return {
    RelationshipType: 'CONTAINS',
    ValueType: 'CODE',
    ConceptNameCodeSequence: [codeItem(SR_CODES.verdict)],
    ConceptCodeSequence: [codeItem(positive ? SR_CODES.positive : SR_CODES.negative)],
  };
}

/** A slice's probability, inferred from its image, with the image's instance number. */
function sliceItem(slice: StoredSlice, sourceClass: string): Dataset {
  const image = {
    RelationshipType: 'INFERRED FROM',
    ValueType: 'IMAGE',
    ConceptNameCodeSequence: [codeItem(SR_CODES.sourceOfMeasurement)],
    ReferencedSOPSequence: [reference(sourceClass, slice.sopInstanceUID)],
  };
  const instanceNumber =
    slice.instanceNumber === undefined
      ? []
      : [numberItem(SR_CODES.instanceNumber, slice.instanceNumber, 'HAS PROPERTIES')];
  return {
    ...numberItem(SR_CODES.sliceProbability, slice.probability),
    ContentSequence: [image, ...instanceNumber],
  };
}

function textItem(concept: Code, text: string): Dataset {
  return {
    RelationshipType: 'CONTAINS',
    ValueType: 'TEXT',
    ConceptNameCodeSequence: [codeItem(concept)],
    TextValue: text,
  };
}

/** A NUM item; the floating point value keeps the number exact where its decimal string cannot. */
function numberItem(concept: Code, value: number, relationship = 'CONTAINS'): Dataset {
  return {
    RelationshipType: relationship,
    ValueType: 'NUM',
    ConceptNameCodeSequence: [codeItem(concept)],
    MeasuredValueSequence: [
      {
        MeasurementUnitsCodeSequence: [codeItem(SR_CODES.noUnits)],
        NumericValue: decimalString(value),
        FloatingPointValue: value,
      },
    ],
  };
}

/** The analysed images and the SEG: every instance the SR refers to, by series. */
function evidence(result: StoredResult, sourceClass: string): Dataset {
  return {
    StudyInstanceUID: result.studyInstanceUID,
    ReferencedSeriesSequence: [
      {
        SeriesInstanceUID: result.seriesInstanceUID,
        ReferencedSOPSequence: result.slices.map(slice =>
          reference(sourceClass, slice.sopInstanceUID)
        ),
      },
      {
        SeriesInstanceUID: result.segSeriesInstanceUID,
        ReferencedSOPSequence: [reference(SEGMENTATION_STORAGE, result.segSopInstanceUID)],
      },
    ],
  };
}

function reference(sopClassUID: string, sopInstanceUID: string): Dataset {
  return { ReferencedSOPClassUID: sopClassUID, ReferencedSOPInstanceUID: sopInstanceUID };
}
