import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createTuberLensServer, TFJS_WASM_DIR } from '../../../scripts/server/httpServer';
import { close, listen, makeTempDir, removeDir } from './helpers';

let root: string;
let server: Server;
let base: string;

beforeAll(async () => {
  root = makeTempDir('tfjs-wasm');
  server = createTuberLensServer({
    viewerDir: join(root, 'viewer'),
    bundleDir: join(root, 'bundles'),
    modelsDir: join(root, 'models'),
    // Never contacted: these tests ask for no DICOMweb path.
    dicomweb: { kind: 'proxy', upstream: new URL('http://127.0.0.1:9/dicom-web') },
  });
  base = await listen(server);
});

afterAll(async () => {
  await close(server);
  removeDir(root);
});

it.each([
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
])(
  'serves the TF.js wasm binary %s from the installed package, same-origin and isolated',
  async file => {
    const response = await fetch(`${base}/tuberlens/tfjs-wasm/${file}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/wasm');
    expect(response.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(response.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    const served = Buffer.from(await response.arrayBuffer());
    // Buffer.equals: toEqual compares 400 KB value by value, for seconds.
    expect(served.equals(await readFile(join(TFJS_WASM_DIR, file)))).toBe(true);
  }
);

it.each([
  '/tuberlens/tfjs-wasm/tf-backend-wasm.node.js',
  '/tuberlens/tfjs-wasm/..%2F..%2Fpackage.json',
  '/tuberlens/tfjs-wasm/..%2F..%2F..%2Ftfjs-core%2Fpackage.json',
  '/tuberlens/tfjs-wasm/missing.wasm',
])('serves nothing else of the package: %s', async path => {
  const response = await fetch(base + path);
  await response.arrayBuffer();
  expect(response.status).toBe(404);
});
