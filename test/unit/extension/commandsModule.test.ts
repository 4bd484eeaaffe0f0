import { detectTubers, getCommandsModule } from '../../../extension/src/commandsModule';
import { DETECT_COMMAND, PANEL_ID } from '../../../extension/src/id';
import { fakeDetection, modelStatusWith } from './fakeDetection';

test('detect opens the Tubers panel, where progress and results show, and runs on the displayed series', async () => {
  const fake = fakeDetection(2, { 'img:0': 0.8, 'img:1': 0.1 });
  const detection = fake.detection();
  await detectTubers(fake.mocks.services, detection);

  expect(fake.mocks.services.panelService.activatePanel).toHaveBeenCalledWith(PANEL_ID, true);
  expect(detection.current.phase).toBe('complete');
});

test('without a model, detect opens the panel and warns that nothing ran', async () => {
  const fake = fakeDetection(2, {});
  await detectTubers(fake.mocks.services, fake.detection(modelStatusWith({ installed: [] })));

  expect(fake.mocks.services.panelService.activatePanel).toHaveBeenCalledWith(PANEL_ID, true);
  expect(fake.mocks.services.uiNotificationService.show).toHaveBeenCalledWith({
    title: 'Tuber detection did not run',
    message: 'No tuber model is installed, so detection is unavailable.',
    type: 'warning',
  });
  expect(fake.engineRuns).toHaveLength(0);
});

test('a broken model index is reported as the reason, never as a result', async () => {
  const fake = fakeDetection(2, {});
  await detectTubers(fake.mocks.services, fake.detection(modelStatusWith({ models: [] })));
  const [[notification]] = fake.mocks.services.uiNotificationService.show.mock.calls;
  expect(notification).toMatchObject({ title: 'Tuber detection did not run', type: 'warning' });
  expect(notification.message).toMatch(/has no "installed" list/);
});

test('the commands module exposes detectTubers in the viewer context', async () => {
  const fake = fakeDetection(1, {});
  const module = getCommandsModule(fake.mocks.services, fake.detection());
  expect(module.defaultContext).toBe('VIEWER');
  await module.definitions[DETECT_COMMAND].commandFn();
  expect(fake.engineRuns).toHaveLength(1);
});
