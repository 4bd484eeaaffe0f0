/**
 * QIDO-RS searches taken a page at a time: a server may cut an answer at a limit of its own, so a long
 * list is asked for in pages that stay within it. Framework-free.
 */
import { stringValue, type DicomJson } from './dicomJson';

/** QIDO-RS's paging parameters, to spread into a search's query. */
export interface PageQuery {
  limit: number;
  offset: number;
}

export const QIDO_PAGE_SIZE = 500;

/** Study, Series and SOP Instance UID: together they name a match at any QIDO-RS level. */
const UID_TAGS = ['0020000D', '0020000E', '00080018'] as const;

/**
 * Every match of a search, asked for up to `pageSize` at a time. The next page starts after the matches
 * received, so a server that caps its answers below `pageSize` is still read to the end. An empty
 * page ends the search; so does one that brings nothing new, which is how a server that ignores
 * `offset` (and sends its first page again) ends it rather than looping.
 */
export async function searchAll(
  search: (page: PageQuery) => Promise<DicomJson[]>,
  pageSize = QIDO_PAGE_SIZE
): Promise<DicomJson[]> {
  const matches = new Map<string, DicomJson>();
  for (let offset = 0; ;) {
    const page = await search({ limit: pageSize, offset });
    const before = matches.size;
    for (const match of page) matches.set(identity(match), match);
    if (page.length === 0 || matches.size === before) return [...matches.values()];
    offset += page.length;
  }
}

function identity(match: DicomJson): string {
  return UID_TAGS.map(tag => stringValue(match, tag) ?? '').join('/');
}
