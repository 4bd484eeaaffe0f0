import type { DetectionController } from './detectionController';
import { DETECT_COMMAND, PANEL_ID } from './id';
import type { Services } from './ohif/types';

/** Opens the Tubers panel, where progress and results show, and runs detection on the displayed series. */
export async function detectTubers(
  services: Services,
  detection: DetectionController
): Promise<void> {
  services.panelService.activatePanel(PANEL_ID, true);
  await detection.detect();
}

export function getCommandsModule(services: Services, detection: DetectionController) {
  return {
    definitions: {
      [DETECT_COMMAND]: { commandFn: () => detectTubers(services, detection) },
    },
    defaultContext: 'VIEWER',
  };
}
