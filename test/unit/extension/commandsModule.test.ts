import { detectTubers, getCommandsModule } from '../../../extension/src/commandsModule';
import { DETECT_COMMAND, PANEL_ID } from '../../../extension/src/id';
import { ModelStatus } from '../../../extension/src/modelStatus';
import { mockServices } from './ohifMocks';

const MODELS = 'http://viewer.test/tuberlens/models/';

function statusWith(files: Record<string, unknown>) {
  return new ModelStatus(MODELS, async url =>
    url in files
      ? { ok: true, status: 200, json: async () => files[url] }
      : { ok: false, status: 404, json: async () => ({}) }
  );
}

test('without a model, detect opens the Tubers panel and warns that nothing ran', async () => {
  const { services } = mockServices();
  await detectTubers(services, statusWith({ [`${MODELS}index.json`]: { installed: [] } }));

  expect(services.panelService.activatePanel).toHaveBeenCalledWith(PANEL_ID, true);
  expect(services.uiNotificationService.show).toHaveBeenCalledWith({
    title: 'Tuber detection did not run',
    message: 'No tuber model is installed, so detection is unavailable.',
    type: 'warning',
  });
});

test('a broken model index is reported as the reason, never as a result', async () => {
  const { services } = mockServices();
  await detectTubers(services, statusWith({}));
  const [[notification]] = services.uiNotificationService.show.mock.calls;
  expect(notification).toMatchObject({ title: 'Tuber detection did not run', type: 'warning' });
  expect(notification.message).toMatch(/index\.json answered HTTP 404/);
});

test('the commands module exposes detectTubers in the viewer context', async () => {
  const { services } = mockServices();
  const module = getCommandsModule(
    services,
    statusWith({ [`${MODELS}index.json`]: { installed: [] } })
  );
  expect(module.defaultContext).toBe('VIEWER');
  await module.definitions[DETECT_COMMAND].commandFn();
  expect(services.uiNotificationService.show).toHaveBeenCalledTimes(1);
});
