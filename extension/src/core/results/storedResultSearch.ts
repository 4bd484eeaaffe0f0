/** Finding the TuberLens results stored in a PACS. Framework-free. */
import { stringValue, type DicomJson } from '../dicomweb/dicomJson';
import type { DicomwebClient } from '../dicomweb/dicomwebClient';
import { searchAll } from '../dicomweb/pagedSearch';
import { readStoredResult, STORED_SERIES_PREFIX, type StoredResult } from './storedResult';

export type ResultArchive = Pick<DicomwebClient, 'searchSeries' | 'seriesMetadata'>;

export interface StoredResultSearch {
  results: StoredResult[];
  /** TuberLens SRs that could not be read, each with why. */
  unreadable: string[];
}

const TAG = { StudyInstanceUID: '0020000D', SeriesInstanceUID: '0020000E' } as const;

/**
 * The results stored in the PACS, of one study or of every study: a QIDO-RS search (a request per page)
 * finds the TuberLens SR series, then each one's WADO-RS metadata is read. An SR that cannot be read is
 * listed in `unreadable`, not thrown: the others still count.
 */
export async function findStoredResults(
  archive: ResultArchive,
  studyInstanceUID?: string
): Promise<StoredResultSearch> {
  const series = await searchAll(page =>
    archive.searchSeries(studyInstanceUID, {
      Modality: 'SR',
      SeriesDescription: `${STORED_SERIES_PREFIX}*`,
      ...page,
    })
  );
  const search: StoredResultSearch = { results: [], unreadable: [] };
  for (const read of await Promise.all(series.map(found => readSeries(archive, found)))) {
    search.results.push(...read.results);
    search.unreadable.push(...read.unreadable);
  }
  return search;
}

async function readSeries(archive: ResultArchive, series: DicomJson): Promise<StoredResultSearch> {
  const study = stringValue(series, TAG.StudyInstanceUID) ?? '';
  const uid = stringValue(series, TAG.SeriesInstanceUID) ?? '';
  const search: StoredResultSearch = { results: [], unreadable: [] };
  for (const instance of await archive.seriesMetadata(study, uid)) {
    try {
      search.results.push(readStoredResult(instance));
    } catch (error) {
      search.unreadable.push(`SR series ${uid}: ${error instanceof Error ? error.message : error}`);
    }
  }
  return search;
}
