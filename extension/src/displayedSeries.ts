import type { DisplaySet, Services } from './ohif/types';

type DisplayedSeriesServices = Pick<Services, 'viewportGridService' | 'displaySetService'>;

/** Shows one image of the viewport's stack or volume. */
export function showImage(
  { cornerstoneViewportService }: Pick<Services, 'cornerstoneViewportService'>,
  viewportId: string,
  imageId: string
): void {
  const viewport = cornerstoneViewportService.getCornerstoneViewport(viewportId);
  viewport?.setViewReference({
    referencedImageId: imageId,
    FrameOfReferenceUID: viewport.getFrameOfReferenceUID(),
  });
}

/** The display set shown in the active viewport, if any. */
export function getDisplayedSeries({
  viewportGridService,
  displaySetService,
}: DisplayedSeriesServices): DisplaySet | undefined {
  const viewportId = viewportGridService.getActiveViewportId();
  if (!viewportId) return undefined;
  const [displaySetUID] = viewportGridService.getDisplaySetsUIDsForViewport(viewportId) ?? [];
  return displaySetUID ? displaySetService.getDisplaySetByUID(displaySetUID) : undefined;
}

/** Calls back whenever the displayed series may have changed; returns the unsubscribe function. */
export function onDisplayedSeriesChange(
  services: DisplayedSeriesServices,
  callback: () => void
): () => void {
  const { viewportGridService, displaySetService } = services;
  const subscriptions = [
    viewportGridService.subscribe(viewportGridService.EVENTS.ACTIVE_VIEWPORT_ID_CHANGED, callback),
    viewportGridService.subscribe(viewportGridService.EVENTS.GRID_STATE_CHANGED, callback),
    viewportGridService.subscribe(viewportGridService.EVENTS.VIEWPORTS_READY, callback),
    displaySetService.subscribe(displaySetService.EVENTS.DISPLAY_SETS_ADDED, callback),
    displaySetService.subscribe(displaySetService.EVENTS.DISPLAY_SETS_CHANGED, callback),
  ];
  return () => subscriptions.forEach(subscription => subscription.unsubscribe());
}
