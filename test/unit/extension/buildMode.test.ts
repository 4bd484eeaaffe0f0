import {
  buildTuberLensMode,
  SEGMENTATION_PANEL_ID,
  type BasicMode,
} from '../../../mode/src/buildMode';

function basicMode(): BasicMode & { enter: jest.Mock } {
  const enter = jest.fn();
  return {
    enter,
    modeInstance: {
      id: '@ohif/mode-basic',
      routes: [
        {
          path: 'basic',
          layoutTemplate: () => 'layout',
          layoutInstance: {
            id: 'viewerLayout',
            props: { leftPanels: ['seriesList'], rightPanels: ['x'], rightPanelClosed: true },
          },
        },
      ],
      extensions: { '@ohif/extension-default': '^3.0.0' },
      toolbarButtons: [{ $reference: 'cornerstone.toolbarButtons' }],
      toolbarSections: [{ $reference: 'cornerstone.toolbarSections' }],
      onModeEnter(context) {
        enter(this, context);
      },
    },
  };
}

const settings = {
  id: 'tuberlens',
  extensionUrl: 'http://viewer.test/tuberlens/extension/index.js',
  panelId: 'tuberlens.panelModule.tubers',
  hangingProtocolId: 'tuberlens.axialT2Flair',
  toolbarButtonsCustomization: 'tuberlens.toolbarButtons',
  detectButtonId: 'DetectTubers',
  hotkey: { commandName: 'detectTubers', label: 'Detect tubers', keys: ['t'] },
};

test('the mode extends the host basic mode with its route, panels, protocol, button and hotkey', () => {
  const basic = basicMode();
  const mode = buildTuberLensMode(basic, settings);

  expect(mode).toMatchObject({
    id: 'tuberlens',
    routeName: 'tuberlens',
    displayName: 'TuberLens',
    hide: false,
  });
  expect(mode.modeModalities).toEqual(['MR']);
  expect(mode.hangingProtocol).toBe('tuberlens.axialT2Flair');
  expect(mode.extensions).toEqual({
    '@ohif/extension-default': '^3.0.0',
    [settings.extensionUrl]: '^0.1.0',
  });
  expect(mode.toolbarButtons).toEqual([
    { $reference: 'cornerstone.toolbarButtons' },
    { $reference: 'tuberlens.toolbarButtons' },
  ]);
  expect(mode.toolbarSections).toEqual([{ $reference: 'cornerstone.toolbarSections' }]);
  expect(mode.modeCustomizations).toEqual({
    'panelSegmentation.disableEditing': true,
    'ohif.hotkeyBindings': { $push: [settings.hotkey] },
  });

  const [route] = mode.routes;
  expect(route.path).toBe('tuberlens');
  expect(route.layoutTemplate).toBe(basic.modeInstance.routes[0].layoutTemplate);
  expect(route.layoutInstance.props).toEqual({
    leftPanels: ['seriesList'],
    rightPanels: [settings.panelId, SEGMENTATION_PANEL_ID],
    rightPanelClosed: false,
  });
  expect(basic.modeInstance.routes[0].layoutInstance.props.rightPanels).toEqual(['x']);
});

test('entering the mode runs the basic mode enter on the TuberLens instance, then appends the detect button', () => {
  const basic = basicMode();
  const mode = buildTuberLensMode(basic, settings);
  const updateSection = jest.fn();
  const context = { servicesManager: { services: { toolbarService: { updateSection } } } };

  mode.onModeEnter(context);

  expect(basic.enter).toHaveBeenCalledWith(mode, context);
  expect(updateSection).toHaveBeenCalledWith('primary', ['DetectTubers']);
});
