import type { DetectionEngine } from './core/engine/detectionEngine';
import type { DetectionHost } from './detectionController';

/**
 * Read-only diagnostics for tests and support, as `window.tuberlens` (TF.js lives in a lazily loaded
 * chunk, out of the page's reach): `tensorCount()` is TF.js's live tensor count, undefined until the
 * engine has loaded. Returns `host`, watching for the engine it loads.
 */
export function withDiagnostics(host: DetectionHost): DetectionHost {
  let engine: DetectionEngine | undefined;
  Object.defineProperty(window, 'tuberlens', {
    value: Object.freeze({ tensorCount: (): number | undefined => engine?.tensorCount() }),
    configurable: true,
  });
  return {
    ...host,
    async loadEngine(modelUrl, onStatus) {
      engine = await host.loadEngine(modelUrl, onStatus);
      return engine;
    },
  };
}
