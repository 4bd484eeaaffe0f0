import type { DicomJson } from '../../../extension/src/core/dicomweb/dicomJson';
import { searchAll, type PageQuery } from '../../../extension/src/core/dicomweb/pagedSearch';

const study = (n: number): DicomJson => ({ '0020000D': { vr: 'UI', Value: [`1.2.${n}`] } });
const STUDIES = Array.from({ length: 7 }, (_, n) => study(n));

/** A search over `matches` that answers as a server honouring limit and offset does. */
function pagedArchive(matches: DicomJson[]) {
  return jest.fn(async ({ limit, offset }: PageQuery) => matches.slice(offset, offset + limit));
}

describe('searchAll', () => {
  test('asks page after page until an empty page, and keeps every match in order', async () => {
    const search = pagedArchive(STUDIES);
    expect(await searchAll(search, 3)).toEqual(STUDIES);
    expect(search.mock.calls.map(([page]) => page)).toEqual([
      { limit: 3, offset: 0 },
      { limit: 3, offset: 3 },
      { limit: 3, offset: 6 },
      { limit: 3, offset: 7 },
    ]);
  });

  test('reads to the end a server that caps its answers below the page size', async () => {
    const capped = pagedArchive(STUDIES);
    const search = jest.fn(({ offset }: PageQuery) => capped({ limit: 2, offset }));
    expect(await searchAll(search, 500)).toEqual(STUDIES);
    expect(search.mock.calls.map(([page]) => page.offset)).toEqual([0, 2, 4, 6, 7]);
  });

  test('ends when a server that ignores offset sends its first page again', async () => {
    const search = jest.fn(async ({ limit }: PageQuery) => STUDIES.slice(0, limit));
    expect(await searchAll(search, 3)).toEqual(STUDIES.slice(0, 3));
    expect(search).toHaveBeenCalledTimes(2);
  });

  test('an empty archive takes one request', async () => {
    const search = pagedArchive([]);
    expect(await searchAll(search)).toEqual([]);
    expect(search).toHaveBeenCalledTimes(1);
  });

  test('tells series of one study apart, and a match listed twice counts once', async () => {
    const series = (n: number): DicomJson => ({
      ...study(1),
      '0020000E': { vr: 'UI', Value: [`9.${n}`] },
    });
    const search = pagedArchive([series(1), series(2), series(2)]);
    expect(await searchAll(search, 2)).toEqual([series(1), series(2)]);
  });
});
