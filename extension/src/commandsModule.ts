import { DETECT_COMMAND, PANEL_ID } from './id';
import type { ModelStatus } from './modelStatus';
import type { Services } from './ohif/types';

/** Opens the Tubers panel and runs detection when a model is installed; says plainly when it cannot. */
export async function detectTubers(services: Services, modelStatus: ModelStatus): Promise<void> {
  services.panelService.activatePanel(PANEL_ID, true);
  const availability = await modelStatus.check();
  const reason =
    availability.state === 'available'
      ? `${availability.card.name} ${availability.card.version} is installed, but this build has no detection engine yet.`
      : availability.state === 'checking'
        ? 'The model is still being checked.'
        : availability.message;
  services.uiNotificationService.show({
    title: 'Tuber detection did not run',
    message: reason,
    type: 'warning',
  });
}

export function getCommandsModule(services: Services, modelStatus: ModelStatus) {
  return {
    definitions: {
      [DETECT_COMMAND]: { commandFn: () => detectTubers(services, modelStatus) },
    },
    defaultContext: 'VIEWER',
  };
}
