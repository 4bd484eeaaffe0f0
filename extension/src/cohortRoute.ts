import { archiveClient, type Authorization } from './archiveClient';
import { studyListUrl, studyUrl } from './appUrls';
import { loadCohort } from './core/cohort/cohortRows';
import { COHORT_PATH } from './id';
import type { ExtensionManager } from './ohif/types';
import { CohortPage } from './ui/CohortPage';
import { hostComponent } from './ui/hostComponent';

/** The cohort view as a route of the viewer app (see the customization `routes.customRoutes`). */
export function cohortRoute(extensionManager: ExtensionManager, authorization: Authorization) {
  return {
    path: COHORT_PATH,
    // It lists patients, as the study list does: where the viewer has a sign-in, it asks for one too.
    private: true,
    children: hostComponent(
      CohortPage,
      {
        loadCohort: async () => loadCohort(archiveClient(extensionManager, authorization)),
        studyUrl,
        studyListUrl,
      },
      'tuberlens-cohort'
    ),
  };
}
