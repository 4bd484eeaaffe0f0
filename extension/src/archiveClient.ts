import { DicomwebClient } from './core/dicomweb/dicomwebClient';
import type { ExtensionManager } from './ohif/types';
import { sameOriginFetch } from './sameOriginFetch';

/** The signed-in user's Authorization header, where the viewer has a sign-in. */
export type Authorization = () => Record<string, string> | undefined;

/**
 * The active data source's DICOMweb archive, reached as the viewer reaches it: at its QIDO-RS root, from
 * this page's origin only, with the signed-in user's authorization.
 */
export function archiveClient(
  extensionManager: ExtensionManager,
  authorization: Authorization
): DicomwebClient {
  const [dataSource] = extensionManager.getActiveDataSource() ?? [];
  // The data source answers getConfig once initialized, which the study list and the modes do and the
  // cohort route does not; before that its definition holds what the app configuration gave it.
  const url =
    dataSource?.getConfig?.()?.qidoRoot ??
    extensionManager.getActiveDataSourceDefinition()?.configuration?.qidoRoot;
  if (!url) {
    throw new Error(
      'The viewer’s data source is no DICOMweb archive (it has no QIDO-RS root), so it holds no stored TuberLens results.'
    );
  }
  return new DicomwebClient({
    url,
    fetch: (input, init) =>
      sameOriginFetch(input, {
        ...init,
        headers: { ...authorization(), ...(init?.headers as Record<string, string>) },
      }),
  });
}
