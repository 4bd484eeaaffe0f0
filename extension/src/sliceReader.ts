import { superiorLevel } from './core/neighbours';
import type { SliceInput } from './core/preprocessing';
import type { SliceRecord } from './core/seriesReport';
import type { CornerstoneLibraries } from './ohif/cornerstone';

/** The naturalized DICOM attributes OHIF's metadata provider keeps for an image id. */
interface InstanceAttributes {
  SOPInstanceUID?: string;
  InstanceNumber?: number | string;
  PixelSpacing?: ArrayLike<number | string>;
  ImageOrientationPatient?: ArrayLike<number | string>;
  ImagePositionPatient?: ArrayLike<number | string>;
}

export interface Slice {
  input: SliceInput;
  identity: Omit<SliceRecord, 'probability'>;
}

/**
 * One frame's stored pixels, modality LUT and geometry, as preprocessSlice takes them, from the host's
 * cornerstone cache: the image a viewport (stack or volume) already loaded, or loaded into the cache now.
 * The attributes are the DICOM ones the CLI reads, so both preprocess alike.
 */
export async function readSlice(
  { cornerstone }: CornerstoneLibraries,
  imageId: string
): Promise<Slice> {
  const image =
    cornerstone.cache.getImage(imageId) ??
    (await cornerstone.imageLoader.loadAndCacheImage(imageId));
  if (image.color) throw new Error('It is a colour image; the model reads grayscale MR only.');
  const attributes = (cornerstone.metaData.get('instance', imageId) ?? {}) as InstanceAttributes;
  const pixelSpacing = numbers(attributes.PixelSpacing, 2);
  if (!pixelSpacing || !pixelSpacing.every(spacing => spacing > 0)) {
    throw new Error('It has no Pixel Spacing, so its field of view in mm is unknown.');
  }
  // The loader may have applied the modality LUT already; it must not be applied twice.
  const rescaled = image.preScale?.scaled === true;
  const input: SliceInput = {
    pixels: image.voxelManager.getScalarData(),
    rows: image.rows,
    columns: image.columns,
    pixelSpacing: [pixelSpacing[0], pixelSpacing[1]],
    rescaleSlope: rescaled ? 1 : image.slope,
    rescaleIntercept: rescaled ? 0 : image.intercept,
    imageOrientationPatient: numbers(attributes.ImageOrientationPatient, 6),
  };
  const instanceNumber = Number(attributes.InstanceNumber);
  return {
    input,
    identity: {
      ...(attributes.SOPInstanceUID ? { sopInstanceUID: attributes.SOPInstanceUID } : {}),
      ...(Number.isFinite(instanceNumber) ? { instanceNumber } : {}),
    },
  };
}

/**
 * The image's height towards the top of the head (see superiorLevel), from the metadata OHIF loaded
 * for the series, so without its pixels; undefined when its position or orientation is missing.
 */
export function sliceLevel(
  { cornerstone }: CornerstoneLibraries,
  imageId: string
): number | undefined {
  const attributes = (cornerstone.metaData.get('instance', imageId) ?? {}) as InstanceAttributes;
  const position = numbers(attributes.ImagePositionPatient, 3);
  const orientation = numbers(attributes.ImageOrientationPatient, 6);
  return position && orientation ? superiorLevel(position, orientation) : undefined;
}

function numbers(
  values: ArrayLike<number | string> | undefined,
  length: number
): number[] | undefined {
  if (!values || values.length !== length) return undefined;
  const parsed = Array.from(values, Number);
  return parsed.every(Number.isFinite) ? parsed : undefined;
}
