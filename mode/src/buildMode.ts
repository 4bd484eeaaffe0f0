/** Builds the TuberLens mode on the host's own basic mode, so it inherits OHIF's tools and layout. */

export const SEGMENTATION_PANEL_ID = '@ohif/extension-cornerstone.panelModule.panelSegmentation';

export interface ModeContext {
  servicesManager: {
    services: { toolbarService: { updateSection(section: string, buttonIds: string[]): void } };
  };
  [key: string]: unknown;
}

interface Route {
  path: string;
  layoutInstance: { id: string; props: Record<string, unknown> };
  [key: string]: unknown;
}

export interface BasicModeInstance {
  routes: Route[];
  extensions: Record<string, string>;
  toolbarButtons: unknown[];
  onModeEnter(this: BasicModeInstance, context: ModeContext): void;
  [key: string]: unknown;
}

export interface BasicMode {
  modeInstance: BasicModeInstance;
}

export interface TuberLensModeSettings {
  id: string;
  extensionUrl: string;
  panelId: string;
  hangingProtocolId: string;
  toolbarButtonsCustomization: string;
  detectButtonId: string;
  hotkey: { commandName: string; label: string; keys: string[] };
}

export function buildTuberLensMode(
  { modeInstance: basic }: BasicMode,
  settings: TuberLensModeSettings
): BasicModeInstance {
  const [basicRoute] = basic.routes;
  const layoutInstance = {
    ...basicRoute.layoutInstance,
    props: {
      ...basicRoute.layoutInstance.props,
      rightPanels: [settings.panelId, SEGMENTATION_PANEL_ID],
      rightPanelClosed: false,
    },
  };
  return {
    ...basic,
    id: settings.id,
    routeName: settings.id,
    displayName: 'TuberLens',
    hide: false,
    modeModalities: ['MR'],
    extensions: { ...basic.extensions, [settings.extensionUrl]: '^0.1.0' },
    hangingProtocol: settings.hangingProtocolId,
    toolbarButtons: [...basic.toolbarButtons, { $reference: settings.toolbarButtonsCustomization }],
    modeCustomizations: {
      // Tuber layers are model output: shown and toggled in the segmentation panel, not edited there.
      'panelSegmentation.disableEditing': true,
      'ohif.hotkeyBindings': { $push: [settings.hotkey] },
    },
    routes: [{ ...basicRoute, path: settings.id, layoutInstance }],
    onModeEnter(context: ModeContext) {
      basic.onModeEnter.call(this, context);
      // Sections given as data replace each other whole; appending keeps the host's primary tools.
      context.servicesManager.services.toolbarService.updateSection('primary', [
        settings.detectButtonId,
      ]);
    },
  };
}
