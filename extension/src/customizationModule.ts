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

/**
 * The Detect button, and the app routes TuberLens adds. Routes are pushed onto the list that the
 * default extension (registered before any plugin) starts: a plain value would replace other routes.
 */
export function getCustomizationModule(routes: object[]) {
  return [
    {
      name: 'default',
      value: {
        [TOOLBAR_BUTTONS_CUSTOMIZATION]: [detectTubersButton],
        'routes.customRoutes': { routes: { $push: routes } },
      },
    },
  ];
}
