import {
  automaticBackends,
  parseBackendList,
  softwareRasteriser,
  webglRenderer,
} from '../../../extension/src/core/engine/backendChoice';
import { fakeDetection } from './fakeDetection';

/** UNMASKED_RENDERER_WEBGL as browsers report it. */
const RENDERERS = {
  chromiumHeadless:
    'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)',
  mesaLlvmpipe: 'llvmpipe (LLVM 15.0.6, 256 bits)',
  mesaSoftpipe: 'softpipe',
  chromeSoftware: 'Google SwiftShader',
  genericSoftware: 'Software Rasterizer',
  nvidia: 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3080 Direct3D11 vs_5_0 ps_5_0, D3D11)',
  intelMesa: 'ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)',
  apple: 'ANGLE (Apple, ANGLE Metal Renderer: Apple M2, Unspecified Version)',
};

test('names the software rasteriser behind a WebGL renderer, and none for a GPU', () => {
  expect(softwareRasteriser(RENDERERS.chromiumHeadless)).toBe('SwiftShader');
  expect(softwareRasteriser(RENDERERS.chromeSoftware)).toBe('SwiftShader');
  expect(softwareRasteriser(RENDERERS.mesaLlvmpipe)).toBe('llvmpipe');
  expect(softwareRasteriser(RENDERERS.mesaSoftpipe)).toBe('softpipe');
  expect(softwareRasteriser(RENDERERS.genericSoftware)).toBe('Software');
  expect(softwareRasteriser(RENDERERS.nvidia)).toBeUndefined();
  expect(softwareRasteriser(RENDERERS.intelMesa)).toBeUndefined();
  expect(softwareRasteriser(RENDERERS.apple)).toBeUndefined();
});

test('leaves a software-rendered WebGL out of the automatic choice, and keeps a GPU’s', () => {
  expect(automaticBackends(RENDERERS.chromiumHeadless)).toEqual({
    backends: ['webgpu', 'wasm', 'cpu'],
    softwareWebgl: 'SwiftShader',
  });
  expect(automaticBackends(RENDERERS.nvidia)).toEqual({
    backends: ['webgpu', 'webgl', 'wasm', 'cpu'],
  });
  // No WebGL at all: the WebGL backend fails on its own and says why.
  expect(automaticBackends(undefined)).toEqual({ backends: ['webgpu', 'webgl', 'wasm', 'cpu'] });
});

test('there is no WebGL renderer to read outside a browser', () => {
  expect(webglRenderer()).toBeUndefined();
});

test('a page address names backends to force, and a wrong name is refused', () => {
  expect(parseBackendList('webgl')).toEqual(['webgl']);
  expect(parseBackendList('webgl, wasm')).toEqual(['webgl', 'wasm']);
  expect(() => parseBackendList('gpu')).toThrow(
    '"gpu" is not a list of TensorFlow.js backends (webgpu, webgl, wasm, cpu).'
  );
  expect(() => parseBackendList('')).toThrow('is not a list of TensorFlow.js backends');
});

test('the detection state carries the engine’s note on its backend', async () => {
  const note = 'WebGL is software-rendered here (SwiftShader); using wasm.';
  const withNote = fakeDetection(1, { 'img:0': 0.6 });
  Object.assign(withNote.engine, { backendNote: note });
  const detection = withNote.detection();
  await detection.detect();
  expect(detection.current.model?.backendNote).toBe(note);

  const withoutNote = fakeDetection(1, { 'img:0': 0.6 }).detection();
  await withoutNote.detect();
  expect(withoutNote.current.model).not.toHaveProperty('backendNote');
});
