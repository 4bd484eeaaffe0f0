import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dcmjs, { type DicomDict } from 'dcmjs';

/** A new empty folder below the system's temporary folder; remove it with removeDir. */
export function makeTempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `tuberlens-${label}-`));
}

export function removeDir(path: string | undefined): void {
  if (path) rmSync(path, { recursive: true, force: true });
}

/** Writes a copy of a real DICOM file after `edit` has changed its data set (and file meta). */
export function writeDicomCopy(
  source: string,
  target: string,
  edit: (dict: DicomDict, meta: DicomDict) => void
): void {
  const bytes = readFileSync(source);
  const { meta, dict } = dcmjs.data.DicomMessage.readFile(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    { untilTag: '7FE00010', includeUntilTagValue: true }
  );
  edit(dict, meta);
  const writer = new dcmjs.data.DicomDict(meta);
  writer.dict = dict;
  writeFileSync(target, Buffer.from(writer.write()));
}

/** Listens on a free port of 127.0.0.1 and answers the server's base URL. */
export function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

/** Closes a server, including the keep-alive connections that fetch leaves open. */
export function close(server: Server | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise(resolve => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Splits a multipart/related body into its parts (headers as text, body as bytes). */
export function multipartParts(
  body: Buffer,
  contentType: string
): Array<{ headers: string; bytes: Buffer }> {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) throw new Error(`No boundary in "${contentType}"`);
  const delimiter = `--${boundary}`;
  const parts: Array<{ headers: string; bytes: Buffer }> = [];
  let position = body.indexOf(delimiter);
  if (position !== 0) throw new Error('The body does not start with the boundary');
  for (;;) {
    const afterDelimiter = position + delimiter.length;
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString() === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', afterDelimiter);
    const next = body.indexOf(`\r\n${delimiter}`, headerEnd + 4);
    if (headerEnd < 0 || next < 0) throw new Error('Truncated multipart body');
    parts.push({
      headers: body.subarray(afterDelimiter + 2, headerEnd).toString(),
      bytes: body.subarray(headerEnd + 4, next),
    });
    position = next + 2;
  }
  return parts;
}
