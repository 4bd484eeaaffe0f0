/**
 * Which TF.js backends the engine tries, and in what order. Without a GPU, Chromium renders WebGL in
 * software (SwiftShader), where the model runs 25–50 times slower than on wasm: such a WebGL is
 * skipped unless the caller names the backends itself.
 */
import { BACKEND_PREFERENCE, type BackendName } from './loadTf';

/** Renderer names of software rasterisers, as they appear in UNMASKED_RENDERER_WEBGL. */
const SOFTWARE_RASTERISERS = ['SwiftShader', 'llvmpipe', 'softpipe', 'Software'];

/** The software rasteriser a WebGL renderer string names, e.g. "SwiftShader"; undefined for a GPU. */
export function softwareRasteriser(renderer: string): string | undefined {
  const lowerCase = renderer.toLowerCase();
  return SOFTWARE_RASTERISERS.find(name => lowerCase.includes(name.toLowerCase()));
}

export interface BackendChoice {
  backends: BackendName[];
  /** The software rasteriser behind WebGL, when WebGL was left out for it. */
  softwareWebgl?: string;
}

/** The preference order, less WebGL where `renderer` (this page's WebGL renderer) is software. */
export function automaticBackends(renderer: string | undefined): BackendChoice {
  const rasteriser = renderer === undefined ? undefined : softwareRasteriser(renderer);
  if (!rasteriser) return { backends: [...BACKEND_PREFERENCE] };
  return {
    backends: BACKEND_PREFERENCE.filter(name => name !== 'webgl'),
    softwareWebgl: rasteriser,
  };
}

/** This page's unmasked WebGL renderer, read from a throwaway context; undefined without WebGL. */
export function webglRenderer(): string | undefined {
  if (typeof OffscreenCanvas === 'undefined') return undefined;
  const canvas = new OffscreenCanvas(1, 1);
  const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
  if (!gl) return undefined;
  try {
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  } finally {
    // Browsers keep only a few contexts alive; this one has served its purpose.
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  }
}

/** "webgl" or "webgl,wasm" (as a page address may give it) as backend names, in order. */
export function parseBackendList(text: string): BackendName[] {
  const names = text
    .split(',')
    .map(name => name.trim())
    .filter(name => name !== '');
  const unknown = names.filter(name => !(BACKEND_PREFERENCE as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(
      `"${text}" is not a list of TensorFlow.js backends (${BACKEND_PREFERENCE.join(', ')}).`
    );
  }
  return names as BackendName[];
}
