/**
 * A small DICOMweb client (QIDO-RS, WADO-RS, STOW-RS) over fetch, so that the CLI in Node and the viewer
 * in the browser talk to a PACS through the same code. Framework-free.
 */
import { sequenceItems, stringValue, type DicomJson } from './dicomJson';
import { joinMultipart, multipartBoundary, splitMultipart } from './multipart';

export type DicomwebFailure =
  /** No answer: the server is down, the address is wrong, or the network failed. */
  | 'unreachable'
  /** 401 or 403: wrong or missing credentials. */
  | 'unauthorized'
  | 'not-found'
  /** STOW-RS stored some or none of the instances. */
  | 'rejected'
  | 'http';

export class DicomwebError extends Error {
  constructor(
    message: string,
    readonly failure: DicomwebFailure,
    readonly status?: number
  ) {
    super(message);
  }
}

export interface DicomwebClientOptions {
  /** The DICOMweb root, e.g. http://127.0.0.1:8042/dicom-web. */
  url: string;
  /** HTTP basic authentication, for a PACS reached directly (the viewer's proxy adds its own). */
  user?: string;
  password?: string;
  fetch?: typeof fetch;
}

export type QueryParameters = Record<string, string | number | boolean | undefined>;

/** SOP Instance UIDs a STOW-RS request stored, and those it refused with the reason the server gave. */
export interface StoreOutcome {
  stored: string[];
  failed: Array<{ sopInstanceUID: string; reason: string }>;
}

const TAG = {
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
  ReferencedSOPInstanceUID: '00081155',
  FailureReason: '00081197',
} as const;

export class DicomwebClient {
  private readonly root: string;
  private readonly headers: Record<string, string>;
  private readonly fetch: typeof fetch;

  constructor({ url, user, password, fetch: fetchFunction }: DicomwebClientOptions) {
    this.root = url.replace(/\/+$/, '');
    this.headers =
      user === undefined ? {} : { authorization: `Basic ${base64(`${user}:${password ?? ''}`)}` };
    this.fetch = fetchFunction ?? globalThis.fetch.bind(globalThis);
  }

  get url(): string {
    return this.root;
  }

  searchStudies(query: QueryParameters = {}): Promise<DicomJson[]> {
    return this.json(`/studies${queryString(query)}`);
  }

  /** Series of one study, or of every study when studyInstanceUID is undefined. */
  searchSeries(studyInstanceUID: string | undefined, query: QueryParameters = {}) {
    const path = studyInstanceUID === undefined ? '/series' : `/studies/${studyInstanceUID}/series`;
    return this.json(`${path}${queryString(query)}`);
  }

  searchInstances(
    studyInstanceUID: string,
    seriesInstanceUID: string,
    query: QueryParameters = {}
  ) {
    return this.json(
      `/studies/${studyInstanceUID}/series/${seriesInstanceUID}/instances${queryString(query)}`
    );
  }

  seriesMetadata(studyInstanceUID: string, seriesInstanceUID: string): Promise<DicomJson[]> {
    return this.json(`/studies/${studyInstanceUID}/series/${seriesInstanceUID}/metadata`);
  }

  /** Every instance of a series as DICOM files (Part 10 bytes), in the order the server sends them. */
  async retrieveSeries(studyInstanceUID: string, seriesInstanceUID: string): Promise<Uint8Array[]> {
    return this.dicomFiles(`/studies/${studyInstanceUID}/series/${seriesInstanceUID}`);
  }

  async retrieveInstance(
    studyInstanceUID: string,
    seriesInstanceUID: string,
    sopInstanceUID: string
  ): Promise<Uint8Array> {
    const [file] = await this.dicomFiles(
      `/studies/${studyInstanceUID}/series/${seriesInstanceUID}/instances/${sopInstanceUID}`
    );
    if (!file) throw new DicomwebError(`${this.root} sent no file for ${sopInstanceUID}.`, 'http');
    return file;
  }

  /** Stores DICOM files with STOW-RS; throws a 'rejected' DicomwebError unless all were stored. */
  async store(files: readonly Uint8Array[]): Promise<StoreOutcome> {
    const { body, contentType } = joinMultipart(files);
    const response = await this.request('/studies', {
      method: 'POST',
      headers: { 'content-type': contentType, accept: 'application/dicom+json' },
      body: body as BodyInit,
    });
    const text = await response.text();
    const outcome = storeOutcome(text ? (JSON.parse(text) as DicomJson) : {});
    // A PACS whose own filter refused an instance may list it neither as stored nor as failed.
    const unacknowledged = files.length - outcome.stored.length - outcome.failed.length;
    if (!response.ok || outcome.failed.length > 0 || unacknowledged > 0) {
      const reasons = [
        ...outcome.failed.map(f => `${f.sopInstanceUID}: ${f.reason}`),
        ...(unacknowledged > 0 ? [`${unacknowledged} neither stored nor reported failed`] : []),
      ].join('; ');
      const refused = outcome.failed.length + Math.max(unacknowledged, 0) || files.length;
      throw new DicomwebError(
        `The PACS at ${this.root} refused to store ${refused} of ${files.length} objects (HTTP ${response.status}${reasons ? `; ${reasons}` : ''}).`,
        'rejected',
        response.status
      );
    }
    return outcome;
  }

  private async json(path: string): Promise<DicomJson[]> {
    const response = await this.request(path, { headers: { accept: 'application/dicom+json' } });
    // QIDO-RS answers 204 No Content when nothing matches.
    if (response.status === 204) return [];
    const text = await response.text();
    return text ? (JSON.parse(text) as DicomJson[]) : [];
  }

  private async dicomFiles(path: string): Promise<Uint8Array[]> {
    const response = await this.request(path, {
      headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
    });
    const body = new Uint8Array(await response.arrayBuffer());
    const boundary = multipartBoundary(response.headers.get('content-type') ?? '');
    if (!boundary) throw new DicomwebError(`${this.root}${path} sent no multipart body.`, 'http');
    return splitMultipart(body, boundary);
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    const url = `${this.root}${path}`;
    let response: Response;
    try {
      response = await this.fetch(url, {
        ...init,
        headers: { ...this.headers, ...(init.headers as Record<string, string>) },
      });
    } catch (error) {
      throw new DicomwebError(
        `The PACS at ${this.root} did not answer (${describe(error)}). Is it running, and is the address right?`,
        'unreachable'
      );
    }
    if (response.ok || (response.status === 409 && init.method === 'POST')) return response;
    if (response.status === 401 || response.status === 403) {
      throw new DicomwebError(
        `The PACS at ${this.root} refused the credentials (HTTP ${response.status}): check the user name and password.`,
        'unauthorized',
        response.status
      );
    }
    const failure = response.status === 404 ? 'not-found' : 'http';
    throw new DicomwebError(
      `The PACS at ${this.root} answered HTTP ${response.status} to ${init.method ?? 'GET'} ${path}.`,
      failure,
      response.status
    );
  }
}

function storeOutcome(json: DicomJson): StoreOutcome {
  const uid = (item: DicomJson) => stringValue(item, TAG.ReferencedSOPInstanceUID) ?? '?';
  return {
    stored: sequenceItems(json, TAG.ReferencedSOPSequence).map(uid),
    failed: sequenceItems(json, TAG.FailedSOPSequence).map(item => ({
      sopInstanceUID: uid(item),
      reason: `failure reason ${stringValue(item, TAG.FailureReason) ?? 'not given'}`,
    })),
  };
}

function queryString(query: QueryParameters): string {
  const entries = Object.entries(query).filter(([, value]) => value !== undefined);
  return entries.length === 0
    ? ''
    : plainQueryDelimiters(
        `?${new URLSearchParams(entries.map(([key, value]) => [key, String(value)])).toString()}`
      );
}

/**
 * QIDO-RS's delimiters in a query (",", "^", "*", "?") sent as themselves rather than percent-encoded:
 * Orthanc 1.10 (Debian 12's) does not decode query values, and so ignores `includefield=a%2Cb` and
 * matches no `PatientName=A%5EB`. A server that does decode them reads the same query either way.
 * (It cannot match a value with a space: search such values with a wildcard and filter the answer.)
 */
export function plainQueryDelimiters(search: string): string {
  return search.replace(/%(2C|5E|2A|3F)/gi, encoded => decodeURIComponent(encoded));
}

function base64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}
