import { getCommandsModule } from './commandsModule';
import { getCustomizationModule } from './customizationModule';
import { getHangingProtocolModule, registerSeriesAttributes } from './hangingProtocolModule';
import { EXTENSION_ID } from './id';
import { ModelStatus } from './modelStatus';
import type { ExtensionParams } from './ohif/types';
import { getPanelModule } from './panelModule';

export const DEFAULT_MODELS_URL = new URL('../models/', import.meta.url).href;

let modelStatus: ModelStatus | undefined;

function sessionModelStatus(): ModelStatus {
  if (!modelStatus)
    throw new Error('TuberLens: the extension was used before its preRegistration ran.');
  return modelStatus;
}

const extension = {
  id: EXTENSION_ID,

  preRegistration({ servicesManager, configuration }: ExtensionParams): void {
    modelStatus = new ModelStatus(configuration?.modelsUrl ?? DEFAULT_MODELS_URL, url =>
      fetch(url)
    );
    registerSeriesAttributes(servicesManager.services.hangingProtocolService);
  },

  getPanelModule: ({ servicesManager }: ExtensionParams) =>
    getPanelModule(servicesManager.services, sessionModelStatus()),
  getCommandsModule: ({ servicesManager }: ExtensionParams) =>
    getCommandsModule(servicesManager.services, sessionModelStatus()),
  getHangingProtocolModule,
  getCustomizationModule,
};

export default extension;
