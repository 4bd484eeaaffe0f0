import { HEAT_LEVELS, heatLevelLabel, type Rgba } from './core/heatLevels';
import type { CornerstoneLibraries } from './ohif/cornerstone';
import type { DisplaySet, LabelmapStyle, Services } from './ohif/types';

export type LayerKind = 'gradCam' | 'saliency';

export const LAYER_NAMES: Record<LayerKind, string> = {
  gradCam: 'Grad-CAM',
  saliency: 'Saliency',
};

const LABELMAP = 'Labelmap';

/**
 * A heat map or regions of one display set as an OHIF labelmap segmentation: listed, toggled and
 * faded in OHIF's segmentation panel.
 */
export interface TuberLayer {
  readonly segmentationId: string;
  /** Writes one frame's labels (heat levels or regions; 0 = none), on the frame's own pixel grid. */
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

/** A segment of a layer; `algorithm` fills the DICOM SEG segment's algorithm fields when it is exported. */
export interface LayerSegment {
  index: number;
  label: string;
  color: Rgba;
  algorithm?: { type: 'AUTOMATIC'; name: string };
}

export interface LayerSpec {
  segmentationId: string;
  label: string;
  segments: LayerSegment[];
  /** Filled (a heat map) or outlined (regions drawn over a heat map). */
  style: 'fill' | 'outline';
}

const STYLES: Record<LayerSpec['style'], LabelmapStyle> = {
  // Outlines around every level of a heat map would hide the image under it.
  fill: { renderOutline: false, renderOutlineInactive: false },
  outline: {
    renderFill: false,
    renderFillInactive: false,
    renderOutline: true,
    renderOutlineInactive: true,
  },
};

function heatLayerSpec(kind: LayerKind, displaySetInstanceUID: string): LayerSpec {
  return {
    segmentationId: layerSegmentationId(kind, displaySetInstanceUID),
    label: `TuberLens ${LAYER_NAMES[kind]}`,
    segments: HEAT_LEVELS.map(level => ({
      index: level.level,
      label: heatLevelLabel(LAYER_NAMES[kind], level),
      color: level.color,
    })),
    style: 'fill',
  };
}

/** A heat map layer of the display set, with one segment per heat level. */
export function createTuberLayer(
  services: Pick<Services, 'segmentationService'>,
  libraries: CornerstoneLibraries,
  kind: LayerKind,
  target: LayerTarget
): Promise<TuberLayer> {
  return createLayer(
    services,
    libraries,
    heatLayerSpec(kind, target.displaySet.displaySetInstanceUID),
    target
  );
}

/** Creates the layer's segmentation (replacing one from an earlier run), locked: it is model output. */
export async function createLayer(
  { segmentationService }: Pick<Services, 'segmentationService'>,
  { cornerstone, cornerstoneTools }: CornerstoneLibraries,
  { segmentationId, label, segments, style }: LayerSpec,
  { displaySet, viewportId }: LayerTarget
): Promise<TuberLayer> {
  if (segmentationService.getSegmentation(segmentationId))
    segmentationService.remove(segmentationId);
  await segmentationService.createLabelmapForDisplaySet(displaySet, {
    segmentationId,
    label,
    segments: Object.fromEntries(
      segments.map(({ index, label: segmentLabel, algorithm }, order) => [
        index,
        {
          label: segmentLabel,
          locked: true,
          active: order === 0,
          ...(algorithm ? { algorithmType: algorithm.type, algorithmName: algorithm.name } : {}),
        },
      ])
    ),
  });
  await segmentationService.addSegmentationRepresentation(viewportId, {
    segmentationId,
    type: LABELMAP,
  });
  for (const { index, color } of segments)
    segmentationService.setSegmentColor(viewportId, segmentationId, index, color);
  segmentationService.setStyle({ segmentationId, type: LABELMAP }, STYLES[style]);

  const labelmap = segmentationService.getSegmentation(segmentationId)?.representationData.Labelmap;
  if (!labelmap?.referencedImageIds) {
    throw new Error(`The viewer created no labelmap images for ${label}.`);
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
      if (!image) throw new Error(`The ${label} layer has no image for ${imageId}.`);
      const data = image.voxelManager.getScalarData();
      if (data.length !== levels.length || !data.set) {
        throw new Error(`The ${label} layer's image does not match ${imageId}.`);
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
