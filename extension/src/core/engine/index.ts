/**
 * The detection engine as a module of its own (dist/extension/engine.js), for pages other than the
 * viewer and for the browser tests; it shares the viewer's lazily loaded TF.js chunks.
 */
export {
  loadDetectionEngine,
  ModelCompatibilityError,
  ModelIntegrityError,
  type BackendName,
  type DetectionEngine,
  type EngineModelCard,
  type SliceResult,
} from './detectionEngine';
export { loadTensorFlow } from './loadTf';
