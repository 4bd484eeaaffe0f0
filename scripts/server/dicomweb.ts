import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { joinMultipart } from '../../extension/src/core/dicomweb/multipart';
import { frameBytes, readDicomFile } from './dicomFile';
import type { DicomStore } from './dicomStore';
import { searchInstances, searchSeries, searchStudies } from './qido';

const UID = '([0-9.]+)';
const ROUTES: Array<
  [
    RegExp,
    (
      store: DicomStore,
      match: string[],
      query: URLSearchParams,
      res: ServerResponse
    ) => Promise<void>,
  ]
> = [
  [
    new RegExp('^/studies$'),
    async (store, _, query, res) => sendJson(res, searchStudies(store, query)),
  ],
  [
    new RegExp('^/series$'),
    async (store, _, query, res) => sendJson(res, searchSeries(store, undefined, query)),
  ],
  [
    new RegExp(`^/studies/${UID}/series$`),
    async (store, [study], query, res) => sendJson(res, searchSeries(store, study, query)),
  ],
  [
    new RegExp(`^/studies/${UID}/instances$`),
    async (store, [study], query, res) =>
      sendJson(res, searchInstances(store, study, undefined, query)),
  ],
  [
    new RegExp(`^/studies/${UID}/series/${UID}/instances$`),
    async (store, [study, series], query, res) =>
      sendJson(res, searchInstances(store, study, series, query)),
  ],
  [
    new RegExp(`^/studies/${UID}/metadata$`),
    async (store, [study], _, res) => sendMetadata(res, store.instances(study)),
  ],
  [
    new RegExp(`^/studies/${UID}/series/${UID}/metadata$`),
    async (store, [study, series], _, res) => sendMetadata(res, store.instances(study, series)),
  ],
  [
    new RegExp(`^/studies/${UID}/series/${UID}/instances/${UID}/metadata$`),
    async (store, [study, series, sop], _, res) =>
      sendMetadata(res, [store.instance(study, series, sop)].filter(isDefined)),
  ],
  [new RegExp(`^/studies/${UID}/series/${UID}/instances/${UID}/frames/([0-9,]+)$`), sendFrames],
  [new RegExp(`^/studies/${UID}/series/${UID}/instances/${UID}$`), sendInstance],
  [new RegExp(`^/studies/${UID}/series/${UID}$`), sendSeries],
];

/**
 * A read-only DICOMweb server (QIDO-RS and WADO-RS, uncompressed or encapsulated frames) over a DicomStore,
 * so the viewer reads the demo studies through the same data source code it uses with a real PACS.
 */
export async function handleDicomweb(
  store: DicomStore,
  path: string,
  req: IncomingMessage,
  res: ServerResponse
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendError(
      res,
      405,
      'The embedded demo archive is read-only; start TuberLens with --dicomweb to use a PACS.'
    );
  }
  const url = new URL(path, 'http://local');
  for (const [pattern, handler] of ROUTES) {
    const match = pattern.exec(url.pathname);
    if (match) return handler(store, match.slice(1), url.searchParams, res);
  }
  sendError(res, 404, `No DICOMweb resource at ${url.pathname}.`);
}

async function sendFrames(
  store: DicomStore,
  [study, series, sop, frameList]: string[],
  _: URLSearchParams,
  res: ServerResponse
) {
  const stored = store.instance(study, series, sop);
  if (!stored) return sendError(res, 404, `Instance ${sop} is not in the archive.`);
  const { dict, instance } = await readDicomFile(stored.path);
  const contentType = `application/octet-stream; transfer-syntax=${instance.transferSyntaxUID}`;
  let parts;
  try {
    parts = frameList.split(',').map(frame => frameBytes(dict, instance, Number(frame)));
  } catch (error) {
    return sendError(res, 404, error instanceof Error ? error.message : String(error));
  }
  sendMultipart(res, 'application/octet-stream', contentType, parts);
}

async function sendInstance(
  store: DicomStore,
  [study, series, sop]: string[],
  _: URLSearchParams,
  res: ServerResponse
) {
  const stored = store.instance(study, series, sop);
  if (!stored) return sendError(res, 404, `Instance ${sop} is not in the archive.`);
  sendMultipart(res, 'application/dicom', 'application/dicom', [await readFile(stored.path)]);
}

async function sendSeries(
  store: DicomStore,
  [study, series]: string[],
  _: URLSearchParams,
  res: ServerResponse
) {
  const instances = store.instances(study, series);
  if (instances.length === 0) return sendError(res, 404, `Series ${series} is not in the archive.`);
  const files = await Promise.all(instances.map(instance => readFile(instance.path)));
  sendMultipart(res, 'application/dicom', 'application/dicom', files);
}

function sendMetadata(res: ServerResponse, instances: Array<{ metadata: object }>) {
  if (instances.length === 0)
    return sendError(res, 404, 'No such study, series or instance in the archive.');
  sendJson(
    res,
    instances.map(instance => instance.metadata)
  );
}

function sendJson(res: ServerResponse, body: unknown) {
  res.writeHead(200, { 'Content-Type': 'application/dicom+json' });
  res.end(JSON.stringify(body));
}

function sendMultipart(res: ServerResponse, type: string, partType: string, parts: Uint8Array[]) {
  const { body, contentType } = joinMultipart(parts, { type, partType });
  res.writeHead(200, { 'Content-Type': contentType });
  res.end(body);
}

export function sendError(res: ServerResponse, status: number, message: string) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ error: message }));
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
