import { readFile } from 'node:fs/promises';
import dcmjs, { type DicomDict, type DicomElement } from 'dcmjs';

dcmjs.log.setLevel('error');

/** DICOM JSON model (PS3.18 F.2): tag → { vr, Value | InlineBinary | BulkDataURI }. */
export type DicomJson = Record<string, DicomElement>;

export const TAG = {
  TransferSyntaxUID: '00020010',
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  Columns: '00280011',
  SamplesPerPixel: '00280002',
  BitsAllocated: '00280100',
  PixelData: '7FE00010',
  AvailableTransferSyntaxUID: '00083002',
  WindowCenter: '00281050',
  WindowWidth: '00281051',
  WindowCenterWidthExplanation: '00281055',
} as const;

const EXPLICIT_LITTLE = '1.2.840.10008.1.2.1';
const UNCOMPRESSED_LITTLE_ENDIAN = new Set(['1.2.840.10008.1.2', EXPLICIT_LITTLE]);
const UNSUPPORTED = new Map([
  ['1.2.840.10008.1.2.2', 'explicit VR big endian'],
  ['1.2.840.10008.1.2.1.99', 'deflated'],
]);
const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
/** Binary values larger than this are left out of metadata (private blobs, overlays). */
const MAX_INLINE_BINARY_BYTES = 64 * 1024;

export interface DicomInstance {
  studyInstanceUID: string;
  seriesInstanceUID: string;
  sopInstanceUID: string;
  /** Transfer syntax of the frames as served. */
  transferSyntaxUID: string;
  numberOfFrames: number;
  /** Instance metadata without pixel data. */
  metadata: DicomJson;
}

export class DicomFileError extends Error {}

export function parseDicom(bytes: Uint8Array): { instance: DicomInstance; dict: DicomDict } {
  let parsed;
  try {
    const buffer = bytes.buffer.slice(
      bytes.byteOffset,
      bytes.byteOffset + bytes.byteLength
    ) as ArrayBuffer;
    // Stop at the pixel data: some archives pad files after it, and nothing after it is needed.
    parsed = dcmjs.data.DicomMessage.readFile(buffer, {
      untilTag: TAG.PixelData,
      includeUntilTagValue: true,
    });
  } catch (error) {
    throw new DicomFileError(
      `not a readable DICOM Part 10 file (${error instanceof Error ? error.message : error})`
    );
  }
  const sourceSyntax = firstString(parsed.meta[TAG.TransferSyntaxUID]) ?? '1.2.840.10008.1.2';
  const unsupported = UNSUPPORTED.get(sourceSyntax);
  if (unsupported) throw new DicomFileError(`${unsupported} transfer syntax is not supported`);
  const { dict } = parsed;
  const studyInstanceUID = requiredUID(dict, TAG.StudyInstanceUID, 'StudyInstanceUID');
  const seriesInstanceUID = requiredUID(dict, TAG.SeriesInstanceUID, 'SeriesInstanceUID');
  const sopInstanceUID = requiredUID(dict, TAG.SOPInstanceUID, 'SOPInstanceUID');
  const transferSyntaxUID = UNCOMPRESSED_LITTLE_ENDIAN.has(sourceSyntax)
    ? EXPLICIT_LITTLE
    : sourceSyntax;
  const metadata = toDicomJson(dict);
  delete metadata[TAG.PixelData];
  dropInvalidWindow(metadata);
  metadata[TAG.AvailableTransferSyntaxUID] = { vr: 'UI', Value: [transferSyntaxUID] };
  const numberOfFrames = Number(dict[TAG.NumberOfFrames]?.Value?.[0] ?? 1) || 1;
  return {
    instance: {
      studyInstanceUID,
      seriesInstanceUID,
      sopInstanceUID,
      transferSyntaxUID,
      numberOfFrames,
      metadata,
    },
    dict,
  };
}

export async function readDicomFile(path: string) {
  return parseDicom(await readFile(path));
}

/** The bytes of frame `frameNumber` (1-based) as stored: raw pixels, or one encapsulated frame. */
export function frameBytes(
  dict: DicomDict,
  instance: DicomInstance,
  frameNumber: number
): Uint8Array {
  const values = (dict[TAG.PixelData]?.Value ?? []) as ArrayBuffer[];
  if (values.length === 0) throw new DicomFileError('the instance has no pixel data');
  if (frameNumber < 1 || frameNumber > instance.numberOfFrames) {
    throw new DicomFileError(
      `frame ${frameNumber} does not exist (the instance has ${instance.numberOfFrames})`
    );
  }
  if (instance.transferSyntaxUID !== EXPLICIT_LITTLE)
    return new Uint8Array(values[frameNumber - 1]);
  const pixels = new Uint8Array(values[0]);
  const frameLength = pixels.byteLength / instance.numberOfFrames;
  return pixels.subarray((frameNumber - 1) * frameLength, frameNumber * frameLength);
}

/**
 * PS3.3 C.11.2.1.2 requires Window Width ≥ 1. Some scanners write 0, which viewers honour as a
 * black image; without the window the viewer derives one from the pixels instead.
 */
function dropInvalidWindow(metadata: DicomJson): void {
  const widths = metadata[TAG.WindowWidth]?.Value ?? [];
  if (!widths.some(width => !(Number(width) >= 1))) return;
  delete metadata[TAG.WindowCenter];
  delete metadata[TAG.WindowWidth];
  delete metadata[TAG.WindowCenterWidthExplanation];
}

function toDicomJson(dict: DicomDict): DicomJson {
  const json: DicomJson = {};
  for (const [tag, element] of Object.entries(dict)) {
    const converted = convertElement(element);
    if (converted) json[tag.toUpperCase()] = converted;
  }
  return json;
}

function convertElement({ vr, Value }: DicomElement): DicomElement | undefined {
  if (vr === 'SQ') return { vr, Value: (Value ?? []).map(item => toDicomJson(item as DicomDict)) };
  if (BINARY_VRS.has(vr)) {
    const bytes = Buffer.concat((Value ?? []).map(part => Buffer.from(part as ArrayBuffer)));
    if (bytes.byteLength > MAX_INLINE_BINARY_BYTES) return undefined;
    return { vr, InlineBinary: bytes.toString('base64') };
  }
  const values = (Value ?? []).filter(
    value => value !== undefined && value !== null && value !== ''
  );
  return values.length > 0 ? { vr, Value: values } : { vr };
}

function firstString(element: DicomElement | undefined): string | undefined {
  const value = element?.Value?.[0];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function requiredUID(dict: DicomDict, tag: string, name: string): string {
  const uid = firstString(dict[tag]);
  if (!uid) throw new DicomFileError(`it has no ${name}`);
  return uid;
}
