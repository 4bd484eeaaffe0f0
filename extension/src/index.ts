import type { Authorization } from './archiveClient';
import { cohortRoute } from './cohortRoute';
import { getCommandsModule } from './commandsModule';
import { getCustomizationModule } from './customizationModule';
import { DetectionController } from './detectionController';
import { withDiagnostics } from './diagnostics';
import { getHangingProtocolModule, registerSeriesAttributes } from './hangingProtocolModule';
import { BACKEND_QUERY_PARAMETER, EXTENSION_ID } from './id';
import { ModelStatus } from './modelStatus';
import { ohifDetectionHost } from './ohifDetectionHost';
import type { ExtensionParams, ServicesManager } from './ohif/types';
import { getPanelModule } from './panelModule';
import { ohifSegHost } from './ohifSegHost';
import { ohifStoredResultHost } from './ohifStoredResultHost';
import { sameOriginFetch } from './sameOriginFetch';
import { SegExport } from './segExport';
import { StoredResults } from './storedResults';

export const DEFAULT_MODELS_URL = new URL('../models/', import.meta.url).href;

interface Session {
  modelStatus: ModelStatus;
  detection: DetectionController;
  segExport: SegExport;
  storedResults: StoredResults;
  stopWatching: Array<() => void>;
}

let session: Session | undefined;

function currentSession(): Session {
  if (!session)
    throw new Error('TuberLens: the extension was used before its preRegistration ran.');
  return session;
}

function authorization({ services }: ServicesManager): Authorization {
  return () => services.userAuthenticationService?.getAuthorizationHeader();
}

/** Read once, from the address the viewer was opened at (which may be the worklist's). */
function forcedBackends(search: string): string | undefined {
  return new URLSearchParams(search).get(BACKEND_QUERY_PARAMETER) ?? undefined;
}

const extension = {
  id: EXTENSION_ID,

  preRegistration({
    servicesManager,
    commandsManager,
    extensionManager,
    configuration,
  }: ExtensionParams): void {
    const { services } = servicesManager;
    const modelStatus = new ModelStatus(
      configuration?.modelsUrl ?? DEFAULT_MODELS_URL,
      sameOriginFetch
    );
    const host = withDiagnostics(
      ohifDetectionHost(
        services,
        extensionManager,
        sameOriginFetch,
        forcedBackends(location.search)
      )
    );
    const detection = new DetectionController(services, modelStatus, host);
    const segHost = ohifSegHost(services, extensionManager, commandsManager);
    const storedResults = new StoredResults(
      services,
      ohifStoredResultHost(services, extensionManager, authorization(servicesManager))
    );
    session = {
      modelStatus,
      detection,
      segExport: new SegExport(services, detection, segHost),
      storedResults,
      stopWatching: [],
    };
    registerSeriesAttributes(services.hangingProtocolService);
  },

  onModeEnter(): void {
    const current = currentSession();
    current.stopWatching = [
      current.detection.watchDisplayedSeries(),
      current.storedResults.watchDisplayedSeries(),
    ];
  },

  onModeExit(): void {
    const current = currentSession();
    current.stopWatching.forEach(stop => stop());
    current.stopWatching = [];
    current.detection.close();
    current.storedResults.close();
  },

  getPanelModule: ({ servicesManager }: ExtensionParams) =>
    getPanelModule(servicesManager.services, currentSession()),
  getCommandsModule: ({ servicesManager }: ExtensionParams) =>
    getCommandsModule(servicesManager.services, currentSession().detection),
  getHangingProtocolModule,
  getCustomizationModule: ({ servicesManager, extensionManager }: ExtensionParams) =>
    getCustomizationModule([cohortRoute(extensionManager, authorization(servicesManager))]),
};

export default extension;
