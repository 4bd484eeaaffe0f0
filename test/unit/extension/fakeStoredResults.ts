import type { StoredResult } from '../../../extension/src/core/results/storedResult';
import type { StoredResultSearch } from '../../../extension/src/core/results/storedResultSearch';
import type { DisplaySet } from '../../../extension/src/ohif/types';
import type { StoredResultHost } from '../../../extension/src/storedResults';

export const STUDY = '1.2.3';
export const FLAIR_SERIES = '1.2.3.1';

/** A stored result of the FLAIR series of STUDY: 4 slices, 2 of them at or above 0.5. */
export function storedResult(changes: Partial<StoredResult> = {}): StoredResult {
  return {
    studyInstanceUID: STUDY,
    seriesInstanceUID: FLAIR_SERIES,
    seriesDescription: 'AX FLAIR',
    contrast: 'FLAIR',
    model: { name: 'tuber-net', version: '1.0.0', sha256: 'ab'.repeat(32) },
    threshold: 0.5,
    probability: 0.91,
    positive: true,
    slices: [0.1, 0.6, 0.91, 0.2].map((probability, index) => ({
      sopInstanceUID: `${FLAIR_SERIES}.${index + 1}`,
      instanceNumber: index + 1,
      probability,
    })),
    createdAt: '2026-11-20T10:00:00.000Z',
    srSeriesInstanceUID: '1.2.3.90',
    srSopInstanceUID: '1.2.3.90.1',
    segSeriesInstanceUID: '1.2.3.91',
    segSopInstanceUID: '1.2.3.91.1',
    ...changes,
  };
}

/** The SEG display set OHIF makes of a stored result's SEG, referring to the displayed series. */
export function segDisplaySet(result: StoredResult, referencedDisplaySetInstanceUID: string) {
  return {
    displaySetInstanceUID: `seg-${result.segSeriesInstanceUID}`,
    SeriesInstanceUID: result.segSeriesInstanceUID,
    SeriesDescription: `TuberLens regions ${result.model.name} ${result.model.version}`,
    Modality: 'SEG',
    referencedDisplaySetInstanceUID,
  } satisfies DisplaySet;
}

/**
 * The PACS and the viewer, for the stored results, as plain objects: `search` is what the PACS holds
 * (an Error: the PACS fails), shown SEGs are recorded, and image ids are "<display set>:<SOP UID>".
 */
export function fakeStoredResultHost(search: StoredResultSearch | Error = noResults()) {
  const shownSegs: Array<{ seg: string; viewportId: string }> = [];
  const host = {
    findResults: jest.fn(async (_study: string) => {
      if (search instanceof Error) throw search;
      return search;
    }),
    showSeg: jest.fn(
      async (seg: DisplaySet, viewportId: string) =>
        void shownSegs.push({ seg: seg.displaySetInstanceUID, viewportId })
    ),
    imageIdOf: (displaySet: DisplaySet, sopInstanceUID: string) =>
      `${displaySet.displaySetInstanceUID}:${sopInstanceUID}`,
    showImage: jest.fn(),
  } satisfies StoredResultHost;
  return { host, shownSegs };
}

export function noResults(): StoredResultSearch {
  return { results: [], unreadable: [] };
}
