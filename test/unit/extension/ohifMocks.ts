import type { DisplaySet, Services } from '../../../extension/src/ohif/types';

/** Plain-object OHIF services, the way OHIF's own unit tests mock them, with a pub/sub that tests can fire. */
export function mockServices(displaySets: DisplaySet[] = [], activeDisplaySetUID?: string) {
  const listeners = new Map<string, Set<() => void>>();
  const pubSub = (prefix: string, events: string[]) => ({
    EVENTS: Object.fromEntries(events.map(event => [event, `${prefix}:${event}`])),
    subscribe: jest.fn((event: string, callback: () => void) => {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event)!.add(callback);
      return { unsubscribe: () => listeners.get(event)!.delete(callback) };
    }),
  });
  const state = { activeDisplaySetUID };
  const services = {
    viewportGridService: {
      ...pubSub('grid', ['ACTIVE_VIEWPORT_ID_CHANGED', 'GRID_STATE_CHANGED', 'VIEWPORTS_READY']),
      getActiveViewportId: jest.fn(() => (state.activeDisplaySetUID ? 'default' : undefined)),
      getDisplaySetsUIDsForViewport: jest.fn(() =>
        state.activeDisplaySetUID ? [state.activeDisplaySetUID] : []
      ),
    },
    displaySetService: {
      ...pubSub('displaySets', ['DISPLAY_SETS_ADDED', 'DISPLAY_SETS_CHANGED']),
      getDisplaySetByUID: jest.fn((uid: string) =>
        displaySets.find(set => set.displaySetInstanceUID === uid)
      ),
    },
    panelService: { activatePanel: jest.fn() },
    uiNotificationService: { show: jest.fn() },
    hangingProtocolService: { addCustomAttribute: jest.fn() },
    toolbarService: { register: jest.fn() },
  } satisfies Services;
  return {
    services,
    /** Shows another display set in the active viewport and fires the grid event, as OHIF does. */
    display(uid: string | undefined) {
      state.activeDisplaySetUID = uid;
      listeners.get('grid:GRID_STATE_CHANGED')?.forEach(callback => callback());
    },
    listenerCount: () => [...listeners.values()].reduce((sum, set) => sum + set.size, 0),
  };
}

export const AXIAL = [1, 0, 0, 0, 1, 0];

export function displaySet(
  uid: string,
  SeriesDescription: string,
  orientation = AXIAL,
  Modality = 'MR'
): DisplaySet {
  return {
    displaySetInstanceUID: uid,
    SeriesDescription,
    Modality,
    instances: [{ Modality, SeriesDescription, ImageOrientationPatient: orientation }],
  };
}
