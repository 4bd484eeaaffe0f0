import { parseBackendList } from './core/engine/backendChoice';
import { loadDetectionEngine } from './core/engine/detectionEngine';
import type { DetectionHost } from './detectionController';
import { showImage } from './displayedSeries';
import { getCornerstoneLibraries } from './ohif/cornerstone';
import type { ExtensionManager, Services } from './ohif/types';
import { readSlice, sliceLevel } from './sliceReader';
import { createTuberLayer } from './tuberLayers';

/**
 * The detection controller's view of the running viewer: its cornerstone, services and the engine.
 * `forcedBackends` (the page address's tuberlensBackend, e.g. "webgl") replaces the engine's own
 * choice of backends, for tests and benchmarks.
 */
export function ohifDetectionHost(
  services: Services,
  extensionManager: ExtensionManager,
  fetchFunction: typeof fetch,
  forcedBackends?: string
): DetectionHost {
  const libraries = () => getCornerstoneLibraries(extensionManager);
  return {
    loadEngine: async (modelUrl, onStatus) =>
      loadDetectionEngine({
        modelUrl,
        fetch: fetchFunction,
        onStatus,
        ...(forcedBackends === undefined ? {} : { backends: parseBackendList(forcedBackends) }),
      }),
    readSlice: imageId => readSlice(libraries(), imageId),
    sliceLevel: imageId => sliceLevel(libraries(), imageId),
    createLayer: (kind, target) => createTuberLayer(services, libraries(), kind, target),
    displayedImageId: viewportId =>
      services.cornerstoneViewportService.getCornerstoneViewport(viewportId)?.getCurrentImageId(),
    showImage: (viewportId, imageId) => showImage(services, viewportId, imageId),
  };
}
