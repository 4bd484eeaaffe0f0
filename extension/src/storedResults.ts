import type { StoredResultSearch } from './core/results/storedResultSearch';
import { newestResult, type ChosenResult } from './core/results/storedResultSummary';
import { getDisplayedSeries, onDisplayedSeriesChange } from './displayedSeries';
import type { DisplaySet, Services } from './ohif/types';
import { StateStore } from './stateStore';

/** What the stored results need from the viewer and the PACS; unit tests give plain objects. */
export interface StoredResultHost {
  /** The TuberLens results the PACS holds for a study. */
  findResults(studyInstanceUID: string): Promise<StoredResultSearch>;
  /** Shows a SEG display set as a segmentation layer of the viewport, through OHIF's own SEG support. */
  showSeg(seg: DisplaySet, viewportId: string): Promise<void>;
  /** The image of the display set that holds the instance, if any. */
  imageIdOf(displaySet: DisplaySet, sopInstanceUID: string): string | undefined;
  showImage(viewportId: string, imageId: string): void;
}

export type StoredResultPhase = 'none' | 'loading' | 'found' | 'failed';
export type StoredLayerPhase = 'waiting' | 'loading' | 'shown' | 'failed';

export interface StoredResultState {
  phase: StoredResultPhase;
  /** Why there is no result, or how looking for one failed. */
  message: string;
  /** The displayed series this state is about. */
  displaySetInstanceUID?: string;
  chosen?: ChosenResult;
  /** The result's stored DICOM SEG, as a layer of the displayed series. */
  layer?: { phase: StoredLayerPhase; message: string };
}

const NO_SERIES: StoredResultState = { phase: 'none', message: 'No series is displayed.' };

/**
 * The TuberLens result the PACS holds for the displayed series (`tuberlens batch --store`), shown as it
 * was stored, never run again: the newest one where there are several, and its DICOM SEG as a layer.
 */
export class StoredResults extends StateStore<StoredResultState> {
  /** One search per study: the series of a study share it. */
  private readonly searches = new Map<string, Promise<StoredResultSearch>>();

  constructor(
    private readonly services: Pick<Services, 'viewportGridService' | 'displaySetService'>,
    private readonly host: StoredResultHost
  ) {
    super(NO_SERIES);
  }

  /** Follows the displayed series; returns the unsubscribe function. */
  watchDisplayedSeries(): () => void {
    const follow = () => void this.follow();
    follow();
    return onDisplayedSeriesChange(this.services, follow);
  }

  /** The study closed: nothing of it stays. */
  close(): void {
    this.searches.clear();
    this.setState(NO_SERIES);
  }

  /** Shows a slice of the stored result in the viewport. */
  showSlice(sopInstanceUID: string): void {
    const series = getDisplayedSeries(this.services);
    const viewportId = this.services.viewportGridService.getActiveViewportId();
    const imageId = series && this.host.imageIdOf(series, sopInstanceUID);
    if (viewportId && imageId) this.host.showImage(viewportId, imageId);
  }

  private async follow(): Promise<void> {
    const series = getDisplayedSeries(this.services);
    if (series?.displaySetInstanceUID === this.state.displaySetInstanceUID) {
      if (series) this.showLayerWhenLoaded(series);
      return;
    }
    await this.lookUp(series);
  }

  private async lookUp(series: DisplaySet | undefined): Promise<void> {
    const study = series?.StudyInstanceUID;
    if (!series || !study) return this.setState(NO_SERIES);
    const { displaySetInstanceUID } = series;
    const message = 'Looking for a stored result in the PACS …';
    this.setState({ phase: 'loading', message, displaySetInstanceUID });
    let search: StoredResultSearch;
    try {
      search = await this.search(study);
    } catch (error) {
      this.searches.delete(study);
      return this.updateSeries(displaySetInstanceUID, {
        phase: 'failed',
        message: `The PACS could not be asked for a stored result: ${describe(error)}`,
      });
    }
    const chosen = newestResult(
      search.results.filter(result => result.seriesInstanceUID === series.SeriesInstanceUID)
    );
    if (!chosen) {
      return this.updateSeries(displaySetInstanceUID, {
        phase: 'none',
        message: noResultMessage(search),
      });
    }
    this.updateSeries(displaySetInstanceUID, {
      phase: 'found',
      message: '',
      chosen,
      layer: { phase: 'waiting', message: 'Its DICOM SEG is not loaded yet.' },
    });
    this.showLayerWhenLoaded(series);
  }

  private search(studyInstanceUID: string): Promise<StoredResultSearch> {
    let search = this.searches.get(studyInstanceUID);
    if (!search) {
      search = this.host.findResults(studyInstanceUID);
      this.searches.set(studyInstanceUID, search);
    }
    return search;
  }

  /** Shows the result's SEG once OHIF has made its display set, referring to the displayed series. */
  private showLayerWhenLoaded(series: DisplaySet): void {
    const { chosen, layer, displaySetInstanceUID } = this.state;
    const viewportId = this.services.viewportGridService.getActiveViewportId();
    if (!chosen || layer?.phase !== 'waiting' || !viewportId) return;
    const seg = this.services.displaySetService
      .getActiveDisplaySets()
      .find(
        displaySet =>
          displaySet.Modality === 'SEG' &&
          displaySet.SeriesInstanceUID === chosen.result.segSeriesInstanceUID &&
          displaySet.referencedDisplaySetInstanceUID === series.displaySetInstanceUID
      );
    if (!seg) return;
    const setLayer = (phase: StoredLayerPhase, message: string) =>
      this.updateSeries(displaySetInstanceUID, { layer: { phase, message } });
    setLayer('loading', 'Loading its DICOM SEG …');
    this.host.showSeg(seg, viewportId).then(
      () => setLayer('shown', `Its DICOM SEG is shown as the layer “${seg.SeriesDescription}”.`),
      error => setLayer('failed', `Its DICOM SEG could not be shown: ${describe(error)}`)
    );
  }

  /** Changes the state if it is still about the series. */
  private updateSeries(
    displaySetInstanceUID: string | undefined,
    changes: Partial<StoredResultState>
  ): void {
    if (this.state.displaySetInstanceUID === displaySetInstanceUID)
      this.setState({ ...this.state, ...changes });
  }
}

function noResultMessage({ unreadable }: StoredResultSearch): string {
  const none = 'The PACS holds no TuberLens result for this series.';
  return unreadable.length === 0
    ? none
    : `${none} ${unreadable.length} TuberLens SR(s) of this study could not be read: ${unreadable.join('; ')}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
