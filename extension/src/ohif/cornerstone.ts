/**
 * The host's own cornerstone (never bundled: a second copy would have its own cache and state), and the
 * small part of it TuberLens uses.
 */
import type { ExtensionManager } from './types';

export interface CornerstoneImage {
  rows: number;
  columns: number;
  /** The modality LUT from the metadata, whether or not the pixels already had it applied. */
  slope: number;
  intercept: number;
  color?: boolean;
  /** scaled: the loader already applied the modality LUT to the pixels. */
  preScale?: { scaled?: boolean };
  voxelManager: { getScalarData(): ArrayLike<number> & { set?(values: ArrayLike<number>): void } };
}

export interface ImagePlaneModule {
  rowPixelSpacing?: number;
  columnPixelSpacing?: number;
  rowCosines?: ArrayLike<number>;
  columnCosines?: ArrayLike<number>;
}

export interface CornerstoneLibraries {
  cornerstone: {
    cache: { getImage(imageId: string): CornerstoneImage | undefined };
    imageLoader: { loadAndCacheImage(imageId: string): Promise<CornerstoneImage> };
    metaData: { get(module: string, imageId: string): unknown };
  };
  cornerstoneTools: {
    segmentation: {
      triggerSegmentationEvents: { triggerSegmentationDataModified(segmentationId: string): void };
      config: {
        visibility: {
          setSegmentationRepresentationVisibility(
            viewportId: string,
            specifier: { segmentationId: string; type: string },
            visible: boolean
          ): void;
        };
      };
    };
  };
}

const CORNERSTONE_UTILITIES = '@ohif/extension-cornerstone.utilityModule.common';

export function getCornerstoneLibraries(extensionManager: ExtensionManager): CornerstoneLibraries {
  const getLibraries = extensionManager.getModuleEntry(CORNERSTONE_UTILITIES)?.exports
    ?.getCornerstoneLibraries as (() => CornerstoneLibraries) | undefined;
  if (!getLibraries) {
    throw new Error(
      'The viewer has no cornerstone extension, which TuberLens needs for pixels and layers.'
    );
  }
  return getLibraries();
}
