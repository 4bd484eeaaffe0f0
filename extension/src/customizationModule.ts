import {
  DETECT_BUTTON_ID,
  DETECT_COMMAND,
  DETECT_HOTKEY,
  TOOLBAR_BUTTONS_CUSTOMIZATION,
} from './id';

export const detectTubersButton = {
  id: DETECT_BUTTON_ID,
  uiType: 'ohif.toolButton',
  props: {
    icon: 'icon-tool-click-segment',
    label: 'Detect tubers',
    tooltip: `Detect tubers in the displayed series (${DETECT_HOTKEY.toUpperCase()})`,
    commands: DETECT_COMMAND,
    evaluate: 'evaluate.action',
  },
};

export const detectTubersHotkey = {
  commandName: DETECT_COMMAND,
  label: 'Detect tubers',
  keys: [DETECT_HOTKEY],
  isEditable: true,
};

export function getCustomizationModule() {
  return [{ name: 'default', value: { [TOOLBAR_BUTTONS_CUSTOMIZATION]: [detectTubersButton] } }];
}
