import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { plainQueryDelimiters } from '../../extension/src/core/dicomweb/dicomwebClient';
import { renderAppConfig } from './appConfig';
import type { DicomStore } from './dicomStore';
import { handleDicomweb, sendError } from './dicomweb';

export const PATHS = {
  appConfig: '/app-config.js',
  extension: '/tuberlens/extension/index.js',
  mode: '/tuberlens/mode/index.js',
  bundles: '/tuberlens/',
  models: '/tuberlens/models/',
  /** The tfjs-backend-wasm binaries, which the detection engine must not fetch from a CDN. */
  tfjsWasm: '/tuberlens/tfjs-wasm/',
  dicomweb: '/dicomweb',
};

/** The folder of the installed tfjs-backend-wasm package's binaries. */
export const TFJS_WASM_DIR = dirname(
  createRequire(__filename).resolve('@tensorflow/tfjs-backend-wasm')
);

export type DicomwebSource =
  { kind: 'embedded'; store: DicomStore } | { kind: 'proxy'; upstream: URL };

export interface TuberLensServerOptions {
  /** Built viewer files (the @ohif/app package's dist folder). */
  viewerDir: string;
  /** Our built bundles: dist/extension and dist/mode. */
  bundleDir: string;
  modelsDir: string;
  dicomweb: DicomwebSource;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.bin': 'application/octet-stream',
};

/** Headers that make the page cross-origin isolated, which threaded wasm (SharedArrayBuffer) requires. */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function createTuberLensServer(options: TuberLensServerOptions): Server {
  const appConfig = renderAppConfig({
    extensionPath: PATHS.extension,
    modePath: PATHS.mode,
    dicomwebPath: PATHS.dicomweb,
    dataSourceLabel:
      options.dicomweb.kind === 'embedded'
        ? 'TuberLens demo studies'
        : `PACS ${options.dicomweb.upstream.host}`,
    supportsStow: options.dicomweb.kind !== 'embedded',
  });
  return createServer((req, res) => {
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) res.setHeader(name, value);
    route(options, appConfig, req, res).catch(error => {
      if (!res.headersSent)
        sendError(res, 500, error instanceof Error ? error.message : String(error));
      else res.destroy();
    });
  });
}

async function route(
  options: TuberLensServerOptions,
  appConfig: string,
  req: IncomingMessage,
  res: ServerResponse
) {
  const url = new URL(req.url ?? '/', 'http://local');
  let path;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return sendError(res, 400, `The path ${url.pathname} is not valid percent-encoding.`);
  }
  if (path === PATHS.dicomweb || path.startsWith(`${PATHS.dicomweb}/`)) {
    const rest = req.url!.slice(PATHS.dicomweb.length) || '/';
    return options.dicomweb.kind === 'embedded'
      ? handleDicomweb(options.dicomweb.store, rest, req, res)
      : proxy(options.dicomweb.upstream, rest, req, res);
  }
  if (path === PATHS.appConfig) {
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES['.js'], 'Cache-Control': 'no-cache' });
    return void res.end(appConfig);
  }
  const served =
    (path.startsWith(PATHS.tfjsWasm) &&
      extname(path) === '.wasm' &&
      (await serveFile(TFJS_WASM_DIR, path.slice(PATHS.tfjsWasm.length), res, 'no-cache'))) ||
    (path.startsWith(PATHS.models) &&
      (await serveFile(options.modelsDir, path.slice(PATHS.models.length), res, 'no-cache'))) ||
    (path.startsWith(PATHS.bundles) &&
      (await serveFile(options.bundleDir, path.slice(PATHS.bundles.length), res, 'no-cache'))) ||
    (await serveFile(options.viewerDir, path, res)) ||
    // The viewer is a single-page app: routes without a file extension get its index page.
    (extname(path) === '' && (await serveFile(options.viewerDir, 'index.html', res, 'no-cache')));
  if (!served) sendError(res, 404, `Not found: ${path}`);
}

/** Sends a file below `root`; answers false (sending nothing) when there is no such file. */
async function serveFile(
  root: string,
  relativePath: string,
  res: ServerResponse,
  cacheControl?: string
): Promise<boolean> {
  const filePath = normalize(join(root, relativePath));
  if (filePath !== root && !filePath.startsWith(root.endsWith(sep) ? root : root + sep))
    return false;
  const info = await stat(filePath).catch(() => undefined);
  if (!info?.isFile()) return false;
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extname(filePath)] ?? 'application/octet-stream',
    'Content-Length': info.size,
    ...(cacheControl ? { 'Cache-Control': cacheControl } : {}),
  });
  createReadStream(filePath).pipe(res);
  return true;
}

/** Forwards a DICOMweb request to the PACS, so the browser only ever talks to this origin. */
function proxy(
  upstream: URL,
  rest: string,
  req: IncomingMessage,
  res: ServerResponse
): Promise<void> {
  const root = upstream.pathname.replace(/\/$/, '');
  const target = new URL(root + rest, upstream);
  target.search = plainQueryDelimiters(target.search);
  // The PACS credentials go only below its DICOMweb root: not to another host (//host/x) nor above
  // the root (../x), whatever the browser sends.
  if (target.origin !== upstream.origin || !`${target.pathname}/`.startsWith(`${root}/`)) {
    sendError(
      res,
      400,
      `${rest} is not a path below the DICOMweb root of the PACS at ${upstream.host}.`
    );
    return Promise.resolve();
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && name !== 'host' && name !== 'cookie') headers[name] = value;
  }
  if (upstream.username) {
    const credentials = `${decodeURIComponent(upstream.username)}:${decodeURIComponent(upstream.password)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise(resolve => {
    const upstreamRequest = send(target, { method: req.method, headers }, upstreamResponse => {
      res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
      // A PACS that drops the connection mid-response must not leave the browser waiting.
      pipeline(upstreamResponse, res, () => resolve());
    });
    upstreamRequest.on('error', error => {
      sendError(res, 502, `The PACS at ${upstream.host} did not answer: ${error.message}.`);
      resolve();
    });
    req.pipe(upstreamRequest);
  });
}
