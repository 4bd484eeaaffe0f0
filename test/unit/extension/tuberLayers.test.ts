import { HEAT_LEVELS } from '../../../extension/src/core/heatLevels';
import type { CornerstoneImage } from '../../../extension/src/ohif/cornerstone';
import {
  createLayer,
  createTuberLayer,
  layerSegmentationId,
} from '../../../extension/src/tuberLayers';
import { displaySet, grayscaleImage, mockCornerstone, mockSegmentationService } from './ohifMocks';

function setUp() {
  const cache = new Map<string, CornerstoneImage>([
    ['img:0', grayscaleImage(new Uint16Array(6), 2, 3)],
    ['img:1', grayscaleImage(new Uint16Array(6), 2, 3)],
  ]);
  const segmentationService = mockSegmentationService(cache);
  const cornerstone = mockCornerstone(cache);
  const series = { ...displaySet('t2', 'AX T2 FSE'), imageIds: ['img:0', 'img:1'] };
  const target = { displaySet: series, viewportId: 'default' };
  return { cache, segmentationService, cornerstone, series, target };
}

test('a layer is a labelmap segmentation of the series with one heat-coloured segment per level', async () => {
  const { segmentationService, cornerstone, series, target } = setUp();
  const layer = await createTuberLayer(
    { segmentationService },
    cornerstone.libraries,
    'gradCam',
    target
  );

  expect(layer.segmentationId).toBe('tuberlens-gradCam-t2');
  const [displaySetArgument, options] =
    segmentationService.createLabelmapForDisplaySet.mock.calls[0];
  expect(displaySetArgument).toBe(series);
  expect(options.label).toBe('TuberLens Grad-CAM');
  expect(Object.values(options.segments).map(segment => segment.label)).toEqual([
    'Grad-CAM 0.20–0.36',
    'Grad-CAM 0.36–0.52',
    'Grad-CAM 0.52–0.68',
    'Grad-CAM 0.68–0.84',
    'Grad-CAM 0.84–1.00',
  ]);
  expect(segmentationService.addSegmentationRepresentation).toHaveBeenCalledWith('default', {
    segmentationId: layer.segmentationId,
    type: 'Labelmap',
  });
  expect(segmentationService.setSegmentColor.mock.calls).toEqual(
    HEAT_LEVELS.map(level => ['default', layer.segmentationId, level.level, level.color])
  );
  expect(segmentationService.setStyle).toHaveBeenCalledWith(
    { segmentationId: layer.segmentationId, type: 'Labelmap' },
    { renderOutline: false, renderOutlineInactive: false }
  );
});

test('writes each frame’s levels into that frame’s labelmap image, and redraws once per flush', async () => {
  const { cache, segmentationService, cornerstone, target } = setUp();
  const layer = await createTuberLayer(
    { segmentationService },
    cornerstone.libraries,
    'saliency',
    target
  );

  layer.write('img:1', Uint8Array.from([0, 1, 2, 3, 4, 5]));
  layer.flush();
  layer.flush();

  expect(Array.from(cache.get('labelmap:img:1')!.voxelManager.getScalarData())).toEqual([
    0, 1, 2, 3, 4, 5,
  ]);
  expect(Array.from(cache.get('labelmap:img:0')!.voxelManager.getScalarData())).toEqual([
    0, 0, 0, 0, 0, 0,
  ]);
  const { triggerSegmentationDataModified } = cornerstone;
  expect(triggerSegmentationDataModified).toHaveBeenCalledTimes(1);
  expect(triggerSegmentationDataModified).toHaveBeenCalledWith('tuberlens-saliency-t2');
  expect(() => layer.write('img:9', new Uint8Array(6))).toThrow('no image for img:9');
  expect(() => layer.write('img:0', new Uint8Array(4))).toThrow('does not match img:0');
});

test('visibility and opacity go to the segmentation’s representation and style', async () => {
  const { segmentationService, cornerstone, target } = setUp();
  const layer = await createTuberLayer(
    { segmentationService },
    cornerstone.libraries,
    'gradCam',
    target
  );

  layer.setVisible(false);
  layer.setOpacity(0.4);

  expect(cornerstone.setSegmentationRepresentationVisibility).toHaveBeenCalledWith(
    'default',
    { segmentationId: layer.segmentationId, type: 'Labelmap' },
    false
  );
  expect(segmentationService.setStyle).toHaveBeenLastCalledWith(
    { segmentationId: layer.segmentationId, type: 'Labelmap' },
    { fillAlpha: 0.4, fillAlphaInactive: 0.4 }
  );
});

test('a new run replaces the series’ earlier layer of the same kind', async () => {
  const { segmentationService, cornerstone, target } = setUp();
  await createTuberLayer({ segmentationService }, cornerstone.libraries, 'gradCam', target);
  await createTuberLayer({ segmentationService }, cornerstone.libraries, 'gradCam', target);

  expect(segmentationService.remove).toHaveBeenCalledTimes(1);
  expect(segmentationService.remove).toHaveBeenCalledWith(layerSegmentationId('gradCam', 't2'));
  expect(segmentationService.getSegmentations()).toHaveLength(1);
});

test('an outlined layer keeps its segments’ algorithm, for the DICOM SEG it may become', async () => {
  const { segmentationService, cornerstone, target } = setUp();
  await createLayer(
    { segmentationService },
    cornerstone.libraries,
    {
      segmentationId: 'regions',
      label: 'TuberLens tubers ≥ 0.50',
      segments: [
        {
          index: 1,
          label: 'Tuber',
          color: [0, 220, 255, 255],
          algorithm: { type: 'AUTOMATIC', name: 'tuber-net 1.0.0' },
        },
      ],
      style: 'outline',
    },
    target
  );

  const [, options] = segmentationService.createLabelmapForDisplaySet.mock.calls[0];
  expect(options.segments).toEqual({
    1: {
      label: 'Tuber',
      locked: true,
      active: true,
      algorithmType: 'AUTOMATIC',
      algorithmName: 'tuber-net 1.0.0',
    },
  });
  expect(segmentationService.setSegmentColor).toHaveBeenCalledWith(
    'default',
    'regions',
    1,
    [0, 220, 255, 255]
  );
  expect(segmentationService.setStyle).toHaveBeenCalledWith(
    { segmentationId: 'regions', type: 'Labelmap' },
    {
      renderFill: false,
      renderFillInactive: false,
      renderOutline: true,
      renderOutlineInactive: true,
    }
  );
});
