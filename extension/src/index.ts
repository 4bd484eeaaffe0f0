import { getCommandsModule } from './commandsModule';
import { getCustomizationModule } from './customizationModule';
import { DetectionController } from './detectionController';
import { getHangingProtocolModule, registerSeriesAttributes } from './hangingProtocolModule';
import { EXTENSION_ID } from './id';
import { ModelStatus } from './modelStatus';
import { ohifDetectionHost } from './ohifDetectionHost';
import type { ExtensionParams } from './ohif/types';
import { getPanelModule } from './panelModule';
import { sameOriginFetch } from './sameOriginFetch';

export const DEFAULT_MODELS_URL = new URL('../models/', import.meta.url).href;

interface Session {
  modelStatus: ModelStatus;
  detection: DetectionController;
  stopWatching?: () => void;
}

let session: Session | undefined;

function currentSession(): Session {
  if (!session)
    throw new Error('TuberLens: the extension was used before its preRegistration ran.');
  return session;
}

const extension = {
  id: EXTENSION_ID,

  preRegistration({ servicesManager, extensionManager, configuration }: ExtensionParams): void {
    const { services } = servicesManager;
    const modelStatus = new ModelStatus(
      configuration?.modelsUrl ?? DEFAULT_MODELS_URL,
      sameOriginFetch
    );
    const host = ohifDetectionHost(services, extensionManager, sameOriginFetch);
    session = { modelStatus, detection: new DetectionController(services, modelStatus, host) };
    registerSeriesAttributes(services.hangingProtocolService);
  },

  onModeEnter(): void {
    const current = currentSession();
    current.stopWatching = current.detection.watchDisplayedSeries();
  },

  onModeExit(): void {
    const current = currentSession();
    current.stopWatching?.();
    current.detection.close();
  },

  getPanelModule: ({ servicesManager }: ExtensionParams) =>
    getPanelModule(servicesManager.services, currentSession()),
  getCommandsModule: ({ servicesManager }: ExtensionParams) =>
    getCommandsModule(servicesManager.services, currentSession().detection),
  getHangingProtocolModule,
  getCustomizationModule,
};

export default extension;
