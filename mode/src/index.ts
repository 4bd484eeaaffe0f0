import { detectTubersHotkey } from '../../extension/src/customizationModule';
import {
  DETECT_BUTTON_ID,
  HANGING_PROTOCOL_ID,
  MODE_ID,
  PANEL_ID,
  TOOLBAR_BUTTONS_CUSTOMIZATION,
} from '../../extension/src/id';
import { buildTuberLensMode, type BasicMode, type ModeContext } from './buildMode';

/** The extension is served beside the mode; OHIF imports each key of a mode's `extensions` map. */
export const EXTENSION_URL = new URL('../extension/index.js', import.meta.url).href;

export interface ModeFactoryParams {
  modeConfiguration?: object;
  loadModules: (modules: string[]) => Promise<BasicMode[]>;
}

const mode = {
  id: MODE_ID,
  async modeFactory({ loadModules }: ModeFactoryParams) {
    const [basicMode] = await loadModules(['@ohif/mode-basic']);
    return buildTuberLensMode(basicMode, {
      id: MODE_ID,
      extensionUrl: EXTENSION_URL,
      panelId: PANEL_ID,
      hangingProtocolId: HANGING_PROTOCOL_ID,
      toolbarButtonsCustomization: TOOLBAR_BUTTONS_CUSTOMIZATION,
      detectButtonId: DETECT_BUTTON_ID,
      hotkey: detectTubersHotkey,
    });
  },
  extensionDependencies: { [EXTENSION_URL]: '^0.1.0' },
};

export type { ModeContext };
export default mode;
