import {
  CONTRAST_ATTRIBUTE,
  getHangingProtocolModule,
  PLANE_ATTRIBUTE,
  registerSeriesAttributes,
  seriesAttributesOf,
} from '../../../extension/src/hangingProtocolModule';
import { HANGING_PROTOCOL_ID } from '../../../extension/src/id';
import { displaySet, mockServices } from './ohifMocks';

test('registers contrast and plane attributes computed from a display set', () => {
  const { services } = mockServices();
  registerSeriesAttributes(services.hangingProtocolService);
  const callbacks = Object.fromEntries(
    services.hangingProtocolService.addCustomAttribute.mock.calls.map(([id, , callback]) => [
      id,
      callback,
    ])
  );
  const sagittalT2 = displaySet('1', 'SAG T2 FSE', [0, 1, 0, 0, 0, -1]);
  expect(callbacks[CONTRAST_ATTRIBUTE](sagittalT2)).toBe('T2');
  expect(callbacks[PLANE_ATTRIBUTE](sagittalT2)).toBe('sagittal');
  expect(callbacks[CONTRAST_ATTRIBUTE](displaySet('2', 'AX FLAIR'))).toBe('FLAIR');
  expect(callbacks[PLANE_ATTRIBUTE](displaySet('2', 'AX FLAIR'))).toBe('axial');
});

test('series attributes prefer the display set and fall back to its first instance', () => {
  expect(
    seriesAttributesOf({
      displaySetInstanceUID: 'x',
      instances: [{ Modality: 'MR', SeriesDescription: 'from instance', EchoTime: 100 }],
    })
  ).toMatchObject({ Modality: 'MR', SeriesDescription: 'from instance', EchoTime: 100 });
  expect(
    seriesAttributesOf({ displaySetInstanceUID: 'y', SeriesDescription: 'from set' })
      .SeriesDescription
  ).toBe('from set');
});

test('the protocol ranks axial FLAIR above axial T2 above T2/FLAIR above axial, requires MR images, and honours the URL', () => {
  const [{ name, protocol }] = getHangingProtocolModule();
  expect(name).toBe(HANGING_PROTOCOL_ID);
  expect(protocol.id).toBe(HANGING_PROTOCOL_ID);
  const rules = protocol.displaySetSelectors.tuberSeries.seriesMatchingRules;
  const weight = (attribute: string) => rules.find(rule => rule.attribute === attribute)!.weight;
  expect(
    rules.filter(rule => 'required' in rule && rule.required).map(rule => rule.attribute)
  ).toEqual(['numImageFrames', 'Modality']);
  expect(weight('isDisplaySetFromUrl')).toBeGreaterThan(
    weight(CONTRAST_ATTRIBUTE) + weight(PLANE_ATTRIBUTE)
  );
  expect(weight(CONTRAST_ATTRIBUTE)).toBeGreaterThan(weight(PLANE_ATTRIBUTE));
  const flairBonus = rules.find(
    rule => rule.attribute === CONTRAST_ATTRIBUTE && 'equals' in rule.constraint
  )!;
  expect(flairBonus.constraint).toEqual({ equals: { value: 'FLAIR' } });
  expect(flairBonus.weight).toBeGreaterThan(0);
  expect(flairBonus.weight).toBeLessThan(weight(PLANE_ATTRIBUTE));
  expect(protocol.stages[0].viewports[0].displaySets[0].id).toBe('tuberSeries');
});
