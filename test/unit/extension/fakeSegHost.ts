import type { DicomDataset } from '../../../extension/src/ohif/types';
import type { SegHost } from '../../../extension/src/segExport';
import type { LayerSpec } from '../../../extension/src/tuberLayers';
import { recordingLayer, type RecordingLayer } from './fakeDetection';

/**
 * The viewer's side of the SEG export as plain objects: layers that record their writes, a SEG that
 * is its options, a download that records, and an archive that stores with `store` (none: read-only).
 */
export function fakeSegHost(store?: (dataset: DicomDataset) => Promise<void>) {
  const layers: Array<{ spec: LayerSpec; layer: RecordingLayer }> = [];
  const downloads: Array<{ dataset: DicomDataset; fileName: string }> = [];
  const host: SegHost = {
    createLayer: jest.fn(async spec => {
      const layer = recordingLayer(spec.segmentationId);
      layers.push({ spec, layer });
      return layer;
    }),
    generateSeg: jest.fn((segmentationId, options) => ({ segmentationId, ...options })),
    download: jest.fn(async (dataset, fileName) => void downloads.push({ dataset, fileName })),
    archive: () => (store ? { name: 'Demo archive', store } : { name: 'Demo archive' }),
  };
  return { host, layers, downloads };
}
