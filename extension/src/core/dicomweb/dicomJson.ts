/** The DICOM JSON model (PS3.18 F.2) that QIDO-RS and WADO-RS metadata answer with. Framework-free. */

export interface DicomJsonElement {
  vr: string;
  Value?: unknown[];
  InlineBinary?: string;
  BulkDataURI?: string;
}

/** tag (8 upper-case hex digits) → element. */
export type DicomJson = Record<string, DicomJsonElement>;

export function firstValue(json: DicomJson, tag: string): unknown {
  return json[tag]?.Value?.[0];
}

/** A string attribute's first value; person names give their alphabetic form. */
export function stringValue(json: DicomJson, tag: string): string | undefined {
  const value = firstValue(json, tag);
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object' && 'Alphabetic' in value)
    return String((value as { Alphabetic: unknown }).Alphabetic);
  return undefined;
}

export function numberValue(json: DicomJson, tag: string): number | undefined {
  const value = Number(firstValue(json, tag));
  return firstValue(json, tag) === undefined || Number.isNaN(value) ? undefined : value;
}

/** A sequence attribute's items (empty when absent). */
export function sequenceItems(json: DicomJson, tag: string): DicomJson[] {
  return (json[tag]?.Value ?? []) as DicomJson[];
}
