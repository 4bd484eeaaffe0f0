import {
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
} from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { createTuberLensServer } from '../../../scripts/server/httpServer';
import { close, listen, makeTempDir, removeDir } from './helpers';

interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A stand-in PACS that records what reaches it and answers DICOM JSON. */
function fakeUpstream(): { server: Server; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', chunk => (body += chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url?.includes('/missing')) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        return void res.end('{"upstream":"not found"}');
      }
      res.writeHead(200, { 'Content-Type': 'application/dicom+json', 'X-Upstream': 'fake' });
      res.end(JSON.stringify([{ '00100020': { vr: 'LO', Value: ['x'] } }]));
    });
  });
  return { server, requests };
}

/** A GET request with the path sent exactly as written (fetch would normalise it). */
function rawRequest(
  url: string,
  headers: Record<string, string> = {}
): Promise<{ status: number; body: string }> {
  const { origin } = new URL(url);
  return new Promise((resolve, reject) => {
    request(origin, { path: url.slice(origin.length), headers }, response => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', chunk => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

let root: string;
const servers: Server[] = [];

/** Starts a TuberLens server proxying `upstream`; answers its base URL. */
async function startProxy(upstream: string): Promise<string> {
  const server = createTuberLensServer({
    viewerDir: join(root, 'viewer'),
    bundleDir: join(root, 'bundles'),
    modelsDir: join(root, 'models'),
    dicomweb: { kind: 'proxy', upstream: new URL(upstream) },
  });
  servers.push(server);
  return listen(server);
}

async function startUpstream() {
  const upstream = fakeUpstream();
  servers.push(upstream.server);
  const url = await listen(upstream.server);
  return { ...upstream, host: url.slice('http://'.length) };
}

beforeAll(() => {
  root = makeTempDir('proxy');
  mkdirSync(join(root, 'viewer'));
  writeFileSync(join(root, 'viewer', 'index.html'), '<!doctype html>');
});

afterAll(async () => {
  await Promise.all(servers.map(server => close(server)));
  removeDir(root);
});

describe('DICOMweb proxy', () => {
  it('forwards a QIDO request below the upstream path, with Basic credentials from its URL', async () => {
    const upstream = await startUpstream();
    const base = await startProxy(`http://user:secret@${upstream.host}/dicom-web`);

    const response = await fetch(`${base}/dicomweb/studies?PatientID=x`, {
      headers: { Accept: 'application/dicom+json' },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/dicom+json');
    expect(response.headers.get('x-upstream')).toBe('fake');
    expect(response.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(response.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(await response.json()).toEqual([{ '00100020': { vr: 'LO', Value: ['x'] } }]);

    expect(upstream.requests).toHaveLength(1);
    const [received] = upstream.requests;
    expect(received.method).toBe('GET');
    expect(received.url).toBe('/dicom-web/studies?PatientID=x');
    expect(received.headers.authorization).toBe(basic('user:secret'));
    expect(received.headers.host).toBe(upstream.host);
    expect(received.headers.accept).toBe('application/dicom+json');
  });

  it('sends the QIDO delimiters , ^ * ? of a query unencoded, which Orthanc 1.10 requires, and nothing else', async () => {
    const upstream = await startUpstream();
    const base = await startProxy(`http://${upstream.host}/dicom-web`);
    const query =
      'includefield=00081030%2C00080060&PatientName=%2ADemo%5ET%3FC&StudyDescription=A%20B%26C';
    const response = await fetch(`${base}/dicomweb/studies/1.2%2C3/series?${query}`);
    await response.arrayBuffer();
    expect(upstream.requests.map(r => r.url)).toEqual([
      '/dicom-web/studies/1.2%2C3/series?includefield=00081030,00080060&PatientName=*Demo^T?C&StudyDescription=A%20B%26C',
    ]);
  });

  it('decodes percent-encoded credentials and accepts an upstream path with a trailing slash', async () => {
    const upstream = await startUpstream();
    const base = await startProxy(`http://us%40er:p%3Ass%2Fword@${upstream.host}/dicom-web/`);
    const response = await fetch(`${base}/dicomweb/studies/1.2.3/series`);
    await response.arrayBuffer();
    expect(upstream.requests.map(r => r.url)).toEqual(['/dicom-web/studies/1.2.3/series']);
    expect(upstream.requests[0].headers.authorization).toBe(basic('us@er:p:ss/word'));
  });

  it("passes the client's own Authorization through when the upstream URL has no credentials, but no cookies", async () => {
    const upstream = await startUpstream();
    const base = await startProxy(`http://${upstream.host}/dicom-web`);
    const { status } = await rawRequest(`${base}/dicomweb/studies`, {
      Authorization: 'Bearer token-1',
      Cookie: 'session=abc',
    });
    expect(status).toBe(200);
    expect(upstream.requests[0].headers.authorization).toBe('Bearer token-1');
    expect(upstream.requests[0].headers).not.toHaveProperty('cookie');
  });

  it("passes the upstream's status and the request body through", async () => {
    const upstream = await startUpstream();
    const base = await startProxy(`http://${upstream.host}/dicom-web`);
    const missing = await fetch(`${base}/dicomweb/studies/missing/metadata`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ upstream: 'not found' });

    const stored = await fetch(`${base}/dicomweb/studies`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/dicom' },
      body: 'DICM payload',
    });
    await stored.arrayBuffer();
    expect(upstream.requests[1]).toMatchObject({
      method: 'POST',
      url: '/dicom-web/studies',
      body: 'DICM payload',
    });
  });

  it.each(['//', '/\\'])(
    'refuses a path starting with %s, which would take the credentials to another host',
    async prefix => {
      const upstream = await startUpstream();
      const elsewhere = await startUpstream();
      const base = await startProxy(`http://user:secret@${upstream.host}/`);

      const response = await rawRequest(`${base}/dicomweb${prefix}${elsewhere.host}/studies`);

      expect(response.status).toBe(400);
      expect(JSON.parse(response.body)).toEqual({
        error: `${prefix}${elsewhere.host}/studies is not a path below the DICOMweb root of the PACS at ${upstream.host}.`,
      });
      expect(elsewhere.requests).toEqual([]);
      expect(upstream.requests).toEqual([]);
    }
  );

  it('still forwards a double slash below a non-root upstream path', async () => {
    const upstream = await startUpstream();
    const base = await startProxy(`http://user:secret@${upstream.host}/dicom-web`);
    const response = await fetch(`${base}/dicomweb//studies`);
    await response.arrayBuffer();
    expect(response.status).toBe(200);
    expect(upstream.requests.map(r => r.url)).toEqual(['/dicom-web//studies']);
  });

  it('names the PACS, without its credentials, as the data source in app-config.js', async () => {
    const upstream = await startUpstream();
    const base = await startProxy(`http://user:secret@${upstream.host}/dicom-web`);
    const script = await (await fetch(`${base}/app-config.js`)).text();
    expect(script).not.toContain('secret');
    const window = { location: { origin: base } } as {
      location: { origin: string };
      config?: { dataSources: Array<{ configuration: Record<string, unknown> }> };
    };
    runInNewContext(script, { window });
    expect(window.config?.dataSources[0].configuration).toMatchObject({
      friendlyName: `PACS ${upstream.host}`,
      qidoRoot: `${base}/dicomweb`,
      supportsStow: true,
    });
    expect(upstream.requests).toEqual([]);
  });

  it('answers 502 with a JSON error naming the host when the upstream is down', async () => {
    const down = await startUpstream();
    await close(down.server);
    const base = await startProxy(`http://user:secret@${down.host}/dicom-web`);

    const response = await fetch(`${base}/dicomweb/studies?PatientID=x`);

    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    const body = (await response.json()) as { error: string };
    expect(body.error).toMatch(
      new RegExp(`^The PACS at ${down.host.replace(/\./g, '\\.')} did not answer: .*ECONNREFUSED`)
    );
    expect(body.error).not.toContain('secret');
  });

  it.each([
    '/../patients',
    '/studies/../../patients',
    '/%2e%2e/patients',
    '/studies/%2E%2E/%2E%2E/x',
  ])('never lets %s take a request above the DICOMweb root', async path => {
    const upstream = await startUpstream();
    const base = await startProxy(`http://user:secret@${upstream.host}/dicom-web`);

    await rawRequest(`${base}/dicomweb${path}`);

    expect(upstream.requests).toEqual([]);
  });

  it('ends the browser response when the PACS drops the connection mid-answer', async () => {
    const dropping = createServer((_, res) => {
      res.writeHead(200, { 'Content-Type': 'application/dicom+json' });
      res.write('[{"00100020":');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    servers.push(dropping);
    const host = (await listen(dropping)).slice('http://'.length);
    const base = await startProxy(`http://${host}/dicom-web`);

    const outcome = await fetch(`${base}/dicomweb/studies`).then(
      response =>
        response.text().then(
          () => 'completed',
          () => 'ended with an error'
        ),
      () => 'ended with an error'
    );

    expect(outcome).toBe('ended with an error');
  });
});
