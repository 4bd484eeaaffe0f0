import { archiveClient } from '../../../extension/src/archiveClient';
import { cohortRoute } from '../../../extension/src/cohortRoute';
import { getCustomizationModule } from '../../../extension/src/customizationModule';
import { COHORT_PATH } from '../../../extension/src/id';
import type { ExtensionManager } from '../../../extension/src/ohif/types';

const ORIGIN = 'http://viewer.test';

// The viewer's page, as far as sameOriginFetch sees it (jsdom has no fetch Response nor TextEncoder).
beforeAll(() => Object.assign(globalThis, { location: new URL(`${ORIGIN}/tuberlens-cohort`) }));
afterAll(() => Reflect.deleteProperty(globalThis, 'location'));

/**
 * A DICOMweb data source at `qidoRoot`; not initialized yet (as on the cohort route, where only its
 * definition has the root), or initialized with `initializedRoot`.
 */
function extensionManager(qidoRoot?: string, initializedRoot?: string): ExtensionManager {
  return {
    getModuleEntry: () => undefined,
    getActiveDataSource: () => [
      { getConfig: () => (initializedRoot ? { qidoRoot: initializedRoot } : undefined) },
    ],
    getActiveDataSourceDefinition: () => ({ sourceName: 'pacs', configuration: { qidoRoot } }),
  };
}

test('the cohort route is pushed onto the app routes, and asks for a sign-in as the study list does', () => {
  const route = cohortRoute(extensionManager(), () => undefined);
  const [customizations] = getCustomizationModule([route]);
  expect(customizations.name).toBe('default');
  // A plain value would replace the routes of other extensions; $push adds to them.
  expect(customizations.value['routes.customRoutes']).toEqual({ routes: { $push: [route] } });
  expect(route).toMatchObject({ path: COHORT_PATH, private: true });
  expect(typeof route.children).toBe('function');
});

test("the archive is the data source's QIDO-RS root, asked from this origin with the user's authorization", async () => {
  const fetch = jest.fn(async () => new Response('[]', { status: 200 }));
  globalThis.fetch = fetch;
  const client = archiveClient(extensionManager(`${ORIGIN}/dicomweb`), () => ({
    Authorization: 'Bearer token',
  }));
  await client.searchStudies();
  expect(fetch).toHaveBeenCalledWith(`${ORIGIN}/dicomweb/studies`, {
    headers: { Authorization: 'Bearer token', accept: 'application/dicom+json' },
  });

  const elsewhere = archiveClient(
    extensionManager('https://pacs.example.org/dicom-web'),
    () => undefined
  );
  await expect(elsewhere.searchStudies()).rejects.toThrow('did not answer');
  expect(fetch).toHaveBeenCalledTimes(1);

  // Once initialized (maybe reconfigured), the data source's own settings win.
  await archiveClient(
    extensionManager('/unused', `${ORIGIN}/pacs`),
    () => undefined
  ).searchStudies();
  expect(fetch).toHaveBeenLastCalledWith(`${ORIGIN}/pacs/studies`, expect.anything());
});

test('a data source without a QIDO-RS root is no archive of stored results', () => {
  expect(() => archiveClient(extensionManager(), () => undefined)).toThrow(
    'The viewer’s data source is no DICOMweb archive'
  );
});
