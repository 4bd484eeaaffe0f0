/** @jest-environment jsdom */
import { act, createElement, useEffect } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { ModelStatus } from '../../../extension/src/modelStatus';
import { hostComponent } from '../../../extension/src/ui/hostComponent';
import { INTENDED_USE, TubersPanel } from '../../../extension/src/ui/TubersPanel';
import { displaySet, mockServices } from './ohifMocks';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const MODELS = 'http://viewer.test/tuberlens/models/';
const noModel = () =>
  new ModelStatus(MODELS, async () => ({
    ok: true,
    status: 200,
    json: async () => ({ installed: [] }),
  }));

let container: HTMLDivElement;
let root: Root;

beforeEach(() => {
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
});

afterEach(async () => {
  await act(async () => root.unmount());
  container.remove();
});

const text = (testId: string) =>
  container.querySelector(`[data-cy="${testId}"]`)?.textContent ?? '';
const status = (testId: string) =>
  container.querySelector(`[data-cy="${testId}"]`)?.getAttribute('data-status');

test('states plainly that no model is installed, and shows the intended use', async () => {
  const { services } = mockServices();
  await act(async () =>
    root.render(createElement(TubersPanel, { services, modelStatus: noModel() }))
  );

  expect(status('tuberlens-model-status')).toBe('missing');
  expect(text('tuberlens-model-status')).toContain('No tuber model is installed');
  expect(text('tuberlens-series')).toContain('No series is displayed.');
  expect(text('tuberlens-intended-use')).toBe(INTENDED_USE);
});

test('follows the displayed series and warns about unsuitable input', async () => {
  const sets = [
    displaySet('t2', 'AX T2 FSE'),
    displaySet('pd', 'FSE PD AXIAL OBL', [1, 0, 0, 0, 0.99096, 0.134158]),
    displaySet('sag', 'SAG T2', [0, 1, 0, 0, 0, -1]),
    displaySet('ct', 'HEAD', [1, 0, 0, 0, 1, 0], 'CT'),
  ];
  const { services, display, listenerCount } = mockServices(sets, 't2');
  await act(async () =>
    root.render(createElement(TubersPanel, { services, modelStatus: noModel() }))
  );

  expect(text('tuberlens-series-description')).toBe('AX T2 FSE');
  expect(status('tuberlens-series')).toBe('suitable');
  expect(container.querySelectorAll('[data-cy="tuberlens-series-warning"]')).toHaveLength(0);

  const warningsFor = async (uid: string) => {
    await act(async () => display(uid));
    return [...container.querySelectorAll('[data-cy="tuberlens-series-warning"]')].map(
      node => node.textContent
    );
  };
  expect(await warningsFor('pd')).toEqual(['⚠ Not T2 or FLAIR by its description or timings.']);
  expect(await warningsFor('sag')).toEqual(['⚠ Not axial (plane: sagittal).']);
  expect(await warningsFor('ct')).toEqual(['⚠ Not MR (modality CT): the model is for MR only.']);
  expect(status('tuberlens-series')).toBe('unsuitable');

  await act(async () => root.unmount());
  expect(listenerCount()).toBe(0);
  root = createRoot(container);
});

test('the host-facing component mounts an inner React root with the bound props and unmounts it', async () => {
  const lifecycle: string[] = [];
  function Inner({ label }: { label: string }) {
    useEffect(() => {
      lifecycle.push(`mounted ${label}`);
      return () => void lifecycle.push(`unmounted ${label}`);
    }, [label]);
    return createElement('span', { 'data-cy': 'inner' }, label);
  }
  const Hosted = hostComponent(Inner, { label: 'tubers' }, 'tuberlens-panel');
  await act(async () => root.render(createElement(Hosted)));

  expect(
    container.querySelector('[data-cy="tuberlens-panel"] [data-cy="inner"]')?.textContent
  ).toBe('tubers');
  expect(lifecycle).toEqual(['mounted tubers']);

  await act(async () => root.render(createElement('p')));
  await act(async () => new Promise(resolve => setTimeout(resolve, 0)));
  expect(lifecycle).toEqual(['mounted tubers', 'unmounted tubers']);
});
