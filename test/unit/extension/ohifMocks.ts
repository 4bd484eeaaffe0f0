import type {
  CornerstoneImage,
  CornerstoneLibraries,
} from '../../../extension/src/ohif/cornerstone';
import type {
  DisplaySet,
  Segmentation,
  SegmentationService,
  Services,
} from '../../../extension/src/ohif/types';

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
      setDisplaySetsForViewport: jest.fn(
        ({ displaySetInstanceUIDs: [uid] }: { displaySetInstanceUIDs: string[] }) => display(uid)
      ),
    },
    displaySetService: {
      ...pubSub('displaySets', ['DISPLAY_SETS_ADDED', 'DISPLAY_SETS_CHANGED']),
      getDisplaySetByUID: jest.fn((uid: string) =>
        displaySets.find(set => set.displaySetInstanceUID === uid)
      ),
      getActiveDisplaySets: jest.fn(() => displaySets),
    },
    cornerstoneViewportService: { getCornerstoneViewport: jest.fn(() => undefined) },
    segmentationService: mockSegmentationService(new Map()),
    panelService: { activatePanel: jest.fn() },
    uiNotificationService: { show: jest.fn() },
    hangingProtocolService: { addCustomAttribute: jest.fn() },
    toolbarService: { register: jest.fn() },
  } satisfies Services;
  /** Shows another display set in the active viewport and fires the grid event, as OHIF does. */
  function display(uid: string | undefined) {
    state.activeDisplaySetUID = uid;
    listeners.get('grid:GRID_STATE_CHANGED')?.forEach(callback => callback());
  }
  return {
    services,
    display,
    /** Adds a display set, as OHIF does when a series' metadata arrives, and fires the event. */
    addDisplaySet(set: DisplaySet) {
      displaySets.push(set);
      listeners.get('displaySets:DISPLAY_SETS_ADDED')?.forEach(callback => callback());
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

/** OHIF's segmentation service over a plain image cache: labelmap images are zero-filled Uint8Arrays. */
export function mockSegmentationService(cache: Map<string, CornerstoneImage>) {
  const segmentations = new Map<string, Segmentation>();
  return {
    EVENTS: {},
    subscribe: jest.fn(() => ({ unsubscribe: () => {} })),
    createLabelmapForDisplaySet: jest.fn(
      async (
        displaySet: DisplaySet,
        { segmentationId }: Parameters<SegmentationService['createLabelmapForDisplaySet']>[1]
      ) => {
        const referencedImageIds = displaySet.imageIds ?? [];
        const imageIds = referencedImageIds.map(imageId => `labelmap:${imageId}`);
        referencedImageIds.forEach((imageId, index) => {
          const { rows, columns } = cache.get(imageId) ?? { rows: 1, columns: 1 };
          cache.set(imageIds[index], grayscaleImage(new Uint8Array(rows * columns), rows, columns));
        });
        segmentations.set(segmentationId, {
          segmentationId,
          representationData: { Labelmap: { imageIds, referencedImageIds } },
        });
        return segmentationId;
      }
    ),
    addSegmentationRepresentation: jest.fn(async () => {}),
    setSegmentColor: jest.fn(),
    setStyle: jest.fn(),
    getSegmentation: jest.fn((id: string) => segmentations.get(id)),
    getSegmentations: jest.fn(() => [...segmentations.values()]),
    remove: jest.fn((id: string) => void segmentations.delete(id)),
  };
}

export function grayscaleImage(
  pixels: Uint8Array | Uint16Array | Int16Array | Float32Array,
  rows: number,
  columns: number,
  changes: Partial<CornerstoneImage> = {}
): CornerstoneImage {
  return {
    rows,
    columns,
    slope: 1,
    intercept: 0,
    voxelManager: { getScalarData: () => pixels },
    ...changes,
  };
}

/** The host's cornerstone over a plain image cache and per-image instance metadata. */
export function mockCornerstone(
  cache: Map<string, CornerstoneImage>,
  instances: Record<string, object> = {}
) {
  const triggerSegmentationDataModified = jest.fn();
  const setSegmentationRepresentationVisibility = jest.fn();
  const loadAndCacheImage = jest.fn(async (imageId: string) => {
    const image = cache.get(imageId);
    if (!image) throw new Error(`no image ${imageId}`);
    return image;
  });
  const libraries: CornerstoneLibraries = {
    cornerstone: {
      cache: { getImage: (imageId: string) => cache.get(imageId) },
      imageLoader: { loadAndCacheImage },
      metaData: {
        get: (module: string, imageId: string) =>
          module === 'instance' ? instances[imageId] : undefined,
      },
    },
    cornerstoneTools: {
      segmentation: {
        triggerSegmentationEvents: { triggerSegmentationDataModified },
        config: { visibility: { setSegmentationRepresentationVisibility } },
      },
    },
  };
  return {
    libraries,
    loadAndCacheImage,
    triggerSegmentationDataModified,
    setSegmentationRepresentationVisibility,
  };
}
