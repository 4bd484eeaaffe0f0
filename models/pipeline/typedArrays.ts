/** The parts one after another in one new array of their type. */
export function concatenate<T extends Uint8Array | Float32Array>(parts: T[]): T {
  const length = parts.reduce((total, part) => total + part.length, 0);
  const out = parts.length
    ? new (parts[0].constructor as new (length: number) => T)(length)
    : (new Uint8Array(0) as T);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
