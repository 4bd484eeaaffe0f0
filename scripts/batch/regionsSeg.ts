/**
 * The tuber regions of an analysed series as a DICOM SEG: BINARY, one segment, one frame per analysed
 * slice (regions or not, so that a SEG without regions is still a valid one), each frame referencing its
 * source image and carrying its position, as OHIF's SEG loader needs to lay it onto the series.
 */
import dcmjs from 'dcmjs';
import { numberValue, stringValue } from '../../extension/src/core/dicomweb/dicomJson';
import { regionCriterion } from '../../extension/src/core/tuberRegions';
import {
  regionsSeriesDescription,
  TUBERLENS_CODING_SCHEME,
  type StoredModel,
} from '../../extension/src/core/results/storedResult';
import { SEGMENT_LABEL, SEGMENTATION_STORAGE } from '../../extension/src/segExport';
import type { DicomJson } from '../server/dicomFile';
import {
  codeItem,
  creationDateTime,
  decimalString,
  equipment,
  longString,
  patientAndStudy,
  uidFromSeed,
  type Dataset,
  type DerivedUids,
} from './derivedObjects';
import { part10Bytes } from '../../models/pipeline/synthesis/dicomSeries';

/** After the scanner's series, beside the SR's. */
const SEG_SERIES_NUMBER = 9901;
/** The viewer's region colour, cyan (0, 220, 255). */
const REGION_RGB = [0, 220 / 255, 1];
const ORIENTATION_TOLERANCE = 1e-4;

const TAG = {
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  SeriesInstanceUID: '0020000E',
  FrameOfReferenceUID: '00200052',
  ImagePositionPatient: '00200032',
  ImageOrientationPatient: '00200037',
  SliceThickness: '00180050',
  SpacingBetweenSlices: '00180088',
  Rows: '00280010',
  Columns: '00280011',
  PixelSpacing: '00280030',
} as const;

export interface RegionsSegInput {
  model: Pick<StoredModel, 'name' | 'version'>;
  threshold: number;
  createdAt: Date;
  uids: DerivedUids;
  /** The analysed slices in series order: each image's attributes and its mask (1 inside a region). */
  slices: ReadonlyArray<{ metadata: DicomJson; mask: Uint8Array }>;
}

/** The SEG as a DICOM Part 10 file. Throws when the slices do not share one pixel grid. */
export function regionsSegBytes({ model, threshold, createdAt, uids, slices }: RegionsSegInput) {
  const [first] = slices;
  if (!first) throw new Error('a SEG needs at least one slice');
  const grid = pixelGrid(first.metadata);
  for (const { metadata, mask } of slices) checkSameGrid(grid, pixelGrid(metadata), mask);
  const atThreshold = regionCriterion(threshold);
  return part10Bytes({
    SpecificCharacterSet: 'ISO_IR 192', // dcmjs writes text as UTF-8
    SOPClassUID: SEGMENTATION_STORAGE,
    SOPInstanceUID: uids.sopInstanceUID,
    ...patientAndStudy(first.metadata),
    Modality: 'SEG',
    SeriesInstanceUID: uids.seriesInstanceUID,
    SeriesNumber: SEG_SERIES_NUMBER,
    SeriesDescription: regionsSeriesDescription(model),
    FrameOfReferenceUID: stringValue(first.metadata, TAG.FrameOfReferenceUID) ?? '',
    PositionReferenceIndicator: '',
    ...equipment(model),
    InstanceNumber: 1,
    ...creationDateTime(createdAt),
    ImageType: ['DERIVED', 'PRIMARY'],
    ContentLabel: 'TUBERS',
    ContentDescription: longString(`Tuber regions, ${atThreshold}; research use only`),
    ContentCreatorName: 'TuberLens',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: grid.rows,
    Columns: grid.columns,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    SegmentationType: 'BINARY',
    SegmentSequence: [segment(model, atThreshold)],
    ...dimensions(uids),
    NumberOfFrames: slices.length,
    SharedFunctionalGroupsSequence: [sharedGroups(first.metadata, grid)],
    PerFrameFunctionalGroupsSequence: slices.map(({ metadata }, n) => frameGroups(metadata, n)),
    ReferencedSeriesSequence: [referencedSeries(slices.map(slice => slice.metadata))],
    PixelData: packBits(slices.map(slice => slice.mask)).buffer,
    _vrMap: { PixelData: 'OB' },
  });
}

interface PixelGrid {
  rows: number;
  columns: number;
  pixelSpacing: number[];
  orientation: number[];
}

function pixelGrid(metadata: DicomJson): PixelGrid {
  return {
    rows: numberValue(metadata, TAG.Rows) ?? 0,
    columns: numberValue(metadata, TAG.Columns) ?? 0,
    pixelSpacing: numbers(metadata, TAG.PixelSpacing),
    orientation: numbers(metadata, TAG.ImageOrientationPatient),
  };
}

function checkSameGrid(expected: PixelGrid, actual: PixelGrid, mask: Uint8Array): void {
  const close = (a: number[], b: number[]) =>
    a.length === b.length && a.every((value, i) => Math.abs(value - b[i]) < ORIENTATION_TOLERANCE);
  const same =
    actual.rows === expected.rows &&
    actual.columns === expected.columns &&
    close(actual.pixelSpacing, expected.pixelSpacing) &&
    close(actual.orientation, expected.orientation) &&
    actual.orientation.length === 6;
  if (!same) throw new Error('the slices do not share one pixel grid and orientation');
  if (mask.length !== actual.rows * actual.columns)
    throw new Error(`a mask has ${mask.length} pixels, not ${actual.rows} × ${actual.columns}`);
}

function segment(model: Pick<StoredModel, 'name' | 'version'>, atThreshold: string): Dataset {
  return {
    SegmentNumber: 1,
    SegmentLabel: SEGMENT_LABEL,
    SegmentDescription: longString(`Tuber regions, ${atThreshold}`),
    SegmentAlgorithmType: 'AUTOMATIC',
    SegmentAlgorithmName: longString(`${model.name} ${model.version}`),
    SegmentationAlgorithmIdentificationSequence: [
      {
        AlgorithmFamilyCodeSequence: [
          codeItem({ value: '123110', scheme: 'DCM', meaning: 'Artificial Intelligence' }),
        ],
        AlgorithmName: longString(model.name),
        AlgorithmVersion: longString(model.version),
        AlgorithmParameters: atThreshold,
      },
    ],
    SegmentedPropertyCategoryCodeSequence: [
      codeItem({ value: '49755003', scheme: 'SCT', meaning: 'Morphologically abnormal structure' }),
    ],
    SegmentedPropertyTypeCodeSequence: [
      codeItem({ value: 'TL-TUBER', scheme: TUBERLENS_CODING_SCHEME, meaning: 'Cortical tuber' }),
    ],
    RecommendedDisplayCIELabValue: dcmjs.data.Colors.rgb2DICOMLAB(REGION_RGB).map(Math.round),
  };
}

/** Frames are indexed by segment, then by their place along the slice normal. */
function dimensions(uids: DerivedUids): Dataset {
  const DimensionOrganizationUID = uidFromSeed([uids.sopInstanceUID, 'dimension-organization']);
  return {
    DimensionOrganizationSequence: [{ DimensionOrganizationUID }],
    DimensionIndexSequence: [
      {
        DimensionOrganizationUID,
        DimensionIndexPointer: 0x0062000b, // Referenced Segment Number
        FunctionalGroupPointer: 0x0062000a, // Segment Identification Sequence
        DimensionDescriptionLabel: 'ReferencedSegmentNumber',
      },
      {
        DimensionOrganizationUID,
        DimensionIndexPointer: 0x00200032, // Image Position (Patient)
        FunctionalGroupPointer: 0x00209113, // Plane Position Sequence
        DimensionDescriptionLabel: 'ImagePositionPatient',
      },
    ],
  };
}

function sharedGroups(metadata: DicomJson, grid: PixelGrid): Dataset {
  const thickness = numberValue(metadata, TAG.SliceThickness);
  const spacing = numberValue(metadata, TAG.SpacingBetweenSlices);
  return {
    PixelMeasuresSequence: [
      {
        PixelSpacing: grid.pixelSpacing.map(decimalString),
        SliceThickness: thickness === undefined ? '' : decimalString(thickness),
        ...(spacing === undefined ? {} : { SpacingBetweenSlices: decimalString(spacing) }),
      },
    ],
    PlaneOrientationSequence: [{ ImageOrientationPatient: grid.orientation.map(decimalString) }],
  };
}

function frameGroups(metadata: DicomJson, index: number): Dataset {
  return {
    DerivationImageSequence: [
      {
        SourceImageSequence: [
          {
            ...imageReference(metadata),
            PurposeOfReferenceCodeSequence: [
              codeItem({
                value: '121322',
                scheme: 'DCM',
                meaning: 'Source image for image processing operation',
              }),
            ],
          },
        ],
        DerivationCodeSequence: [
          codeItem({ value: '113076', scheme: 'DCM', meaning: 'Segmentation' }),
        ],
      },
    ],
    FrameContentSequence: [{ DimensionIndexValues: [1, index + 1] }],
    PlanePositionSequence: [
      { ImagePositionPatient: numbers(metadata, TAG.ImagePositionPatient).map(decimalString) },
    ],
    SegmentIdentificationSequence: [{ ReferencedSegmentNumber: 1 }],
  };
}

function referencedSeries(images: DicomJson[]): Dataset {
  return {
    SeriesInstanceUID: stringValue(images[0], TAG.SeriesInstanceUID),
    ReferencedInstanceSequence: images.map(imageReference),
  };
}

function imageReference(metadata: DicomJson): Dataset {
  return {
    ReferencedSOPClassUID: stringValue(metadata, TAG.SOPClassUID),
    ReferencedSOPInstanceUID: stringValue(metadata, TAG.SOPInstanceUID),
  };
}

/** BINARY pixel data: one bit per pixel, least significant bit first, frames back to back. */
export function packBits(masks: readonly Uint8Array[]): Uint8Array {
  const total = masks.reduce((sum, mask) => sum + mask.length, 0);
  const packed = new Uint8Array(Math.ceil(total / 8));
  let bit = 0;
  for (const mask of masks) {
    for (const value of mask) {
      if (value) packed[bit >> 3] |= 1 << (bit & 7);
      bit++;
    }
  }
  return packed;
}

function numbers(metadata: DicomJson, tag: string): number[] {
  return (metadata[tag]?.Value ?? []).map(Number);
}
