/** multipart/related bodies (PS3.18 8.7.1) as WADO-RS answers and STOW-RS requests them. Framework-free. */

const encoder = new TextEncoder();

/** The boundary parameter of a multipart Content-Type header, quoted or not. */
export function multipartBoundary(contentType: string): string | undefined {
  return /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
}

/** The parts' bodies, without their headers. */
export function splitMultipart(body: Uint8Array, boundary: string): Uint8Array[] {
  const delimiter = encoder.encode(`--${boundary}`);
  const parts: Uint8Array[] = [];
  let start = indexOf(body, delimiter, 0);
  while (start >= 0) {
    const afterDelimiter = start + delimiter.length;
    if (body[afterDelimiter] === 0x2d && body[afterDelimiter + 1] === 0x2d) break; // closing "--"
    const headersEnd = indexOf(body, encoder.encode('\r\n\r\n'), afterDelimiter);
    if (headersEnd < 0) break;
    const next = indexOf(body, delimiter, headersEnd + 4);
    if (next < 0) break;
    // The CRLF before the next delimiter belongs to the delimiter, not to the part.
    const end = body[next - 2] === 0x0d && body[next - 1] === 0x0a ? next - 2 : next;
    parts.push(body.subarray(headersEnd + 4, end));
    start = next;
  }
  return parts;
}

/**
 * A multipart/related body, and the Content-Type header that goes with it. `type` is the parts' media
 * type; `partType` their own Content-Type, which may add parameters such as the transfer syntax.
 */
export function joinMultipart(
  parts: readonly Uint8Array[],
  { type = 'application/dicom', partType = type }: { type?: string; partType?: string } = {}
): { body: Uint8Array; contentType: string } {
  const boundary = `tuberlens-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    chunks.push(encoder.encode(`--${boundary}\r\nContent-Type: ${partType}\r\n\r\n`), part);
    chunks.push(encoder.encode('\r\n'));
  }
  chunks.push(encoder.encode(`--${boundary}--\r\n`));
  const body = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return { body, contentType: `multipart/related; type="${type}"; boundary=${boundary}` };
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const last = haystack.length - needle.length;
  outer: for (let i = from; i <= last; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
