import { HEAT_LEVELS, heatLevelLabel } from './core/heatLevels';
import type { CornerstoneLibraries } from './ohif/cornerstone';
import type { DisplaySet, Services } from './ohif/types';

export type LayerKind = 'gradCam' | 'saliency';

export const LAYER_NAMES: Record<LayerKind, string> = {
  gradCam: 'Grad-CAM',
  saliency: 'Saliency',
};

const LABELMAP = 'Labelmap';

/** A heat map of one display set as an OHIF labelmap segmentation: listed, toggled and faded in OHIF's segmentation panel. */
export interface TuberLayer {
  readonly segmentationId: string;
  /** Writes one frame's heat levels (0 = none), on the frame's own pixel grid. */
  write(imageId: string, levels: Uint8Array): void;
  /** Redraws what was written since the last flush. */
  flush(): void;
  setVisible(visible: boolean): void;
  setOpacity(opacity: number): void;
}

export interface LayerTarget {
  displaySet: DisplaySet;
  viewportId: string;
}

export function layerSegmentationId(kind: LayerKind, displaySetInstanceUID: string): string {
  return `tuberlens-${kind}-${displaySetInstanceUID}`;
}

/** Creates the layer's segmentation (replacing one from an earlier run) with one segment per heat level. */
export async function createTuberLayer(
  { segmentationService }: Pick<Services, 'segmentationService'>,
  { cornerstone, cornerstoneTools }: CornerstoneLibraries,
  kind: LayerKind,
  { displaySet, viewportId }: LayerTarget
): Promise<TuberLayer> {
  const segmentationId = layerSegmentationId(kind, displaySet.displaySetInstanceUID);
  if (segmentationService.getSegmentation(segmentationId))
    segmentationService.remove(segmentationId);
  await segmentationService.createLabelmapForDisplaySet(displaySet, {
    segmentationId,
    label: `TuberLens ${LAYER_NAMES[kind]}`,
    segments: Object.fromEntries(
      HEAT_LEVELS.map(level => [
        level.level,
        {
          label: heatLevelLabel(LAYER_NAMES[kind], level),
          locked: true,
          active: level.level === 1,
        },
      ])
    ),
  });
  await segmentationService.addSegmentationRepresentation(viewportId, {
    segmentationId,
    type: LABELMAP,
  });
  for (const { level, color } of HEAT_LEVELS)
    segmentationService.setSegmentColor(viewportId, segmentationId, level, color);
  // Outlines around every level of a heat map would hide the image under it.
  segmentationService.setStyle(
    { segmentationId, type: LABELMAP },
    { renderOutline: false, renderOutlineInactive: false }
  );

  const labelmap = segmentationService.getSegmentation(segmentationId)?.representationData.Labelmap;
  if (!labelmap?.referencedImageIds) {
    throw new Error(`The viewer created no labelmap images for ${LAYER_NAMES[kind]}.`);
  }
  const labelmapImageIds = new Map(
    labelmap.referencedImageIds.map((imageId, index) => [imageId, labelmap.imageIds[index]])
  );
  let modified = false;
  const specifier = { segmentationId, type: LABELMAP };
  return {
    segmentationId,
    write(imageId, levels) {
      const labelmapImageId = labelmapImageIds.get(imageId);
      const image = labelmapImageId ? cornerstone.cache.getImage(labelmapImageId) : undefined;
      if (!image) throw new Error(`The ${LAYER_NAMES[kind]} layer has no image for ${imageId}.`);
      const data = image.voxelManager.getScalarData();
      if (data.length !== levels.length || !data.set) {
        throw new Error(`The ${LAYER_NAMES[kind]} layer's image does not match ${imageId}.`);
      }
      data.set(levels);
      modified = true;
    },
    flush() {
      if (!modified) return;
      modified = false;
      cornerstoneTools.segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(
        segmentationId
      );
    },
    setVisible(visible) {
      cornerstoneTools.segmentation.config.visibility.setSegmentationRepresentationVisibility(
        viewportId,
        specifier,
        visible
      );
    },
    setOpacity(opacity) {
      segmentationService.setStyle(specifier, { fillAlpha: opacity, fillAlphaInactive: opacity });
    },
  };
}
