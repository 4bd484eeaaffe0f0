// Runs in Chromium on the page that test/e2e/engine.test.ts serves: drives the built detection engine
// (dist/extension/engine.js) as the viewer would, and answers plain JSON.
/* global window, performance */
import { loadDetectionEngine, loadTensorFlow } from '/tuberlens/extension/engine.js';

const { tf } = await loadTensorFlow();

/**
 * Loads the engine on the first of `backends` that runs, then runs `slices` (arrays of numbers). With
 * `loseWebglAfter`, runs that many slices first and then loses the WebGL context.
 */
async function detect({ modelUrl, backends, slices, loseWebglAfter }) {
  const statuses = [];
  const loadStarted = performance.now();
  const engine = await loadDetectionEngine({
    modelUrl,
    backends,
    onStatus: message => statuses.push(message),
  });
  const loadMs = performance.now() - loadStarted;
  const loadedOn = engine.backend;
  const baseline = tf.memory().numTensors;
  const input = slices.map(slice => Float32Array.from(slice));
  if (loseWebglAfter) {
    await engine.run(input.slice(0, loseWebglAfter));
    tf.backend().gpgpu.gl.getExtension('WEBGL_lose_context').loseContext();
  }
  const runStarted = performance.now();
  const results = await engine.run(input);
  const runMs = performance.now() - runStarted;
  const outcome = {
    loadedOn,
    ranOn: engine.backend,
    statuses,
    probabilities: results.map(result => result.probability),
    gradCamSizes: results.map(result => result.gradCam.length),
    baseline,
    tensorsAfterRun: tf.memory().numTensors,
    loadMs,
    msPerSlice: runMs / input.length,
    crossOriginIsolated: window.crossOriginIsolated,
  };
  engine.dispose();
  return outcome;
}

window.engineTest = { detect };
