import {
  parseModelCard,
  readModelAvailability,
  type FetchFunction,
} from '../../../extension/src/core/modelAvailability';
import { ModelStatus } from '../../../extension/src/modelStatus';

const MODELS = 'http://viewer.test/tuberlens/models/';

/** A fetch over a map of URL → JSON body (undefined: 404; an Error: network failure). */
function fakeFetch(files: Record<string, unknown>): FetchFunction & jest.Mock {
  return jest.fn(async (url: string) => {
    const body = files[url];
    if (body instanceof Error) throw body;
    if (body === undefined) return { ok: false, status: 404, json: async () => ({}) };
    return { ok: true, status: 200, json: async () => body };
  });
}

describe('readModelAvailability', () => {
  test('an empty index means no model is installed', async () => {
    const fetch = fakeFetch({ [`${MODELS}index.json`]: { installed: [] } });
    await expect(readModelAvailability(MODELS, fetch)).resolves.toEqual({
      state: 'missing',
      message: 'No tuber model is installed, so detection is unavailable.',
    });
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  test('reads the card of the first installed model, with or without a trailing slash', async () => {
    const fetch = fakeFetch({
      [`${MODELS}index.json`]: { installed: ['tuber-net'] },
      [`${MODELS}tuber-net/model-card.json`]: {
        name: 'tuber-net',
        version: '1.0.0',
        threshold: 0.5,
      },
    });
    const expected = {
      state: 'available',
      card: { name: 'tuber-net', version: '1.0.0' },
      modelUrl: `${MODELS}tuber-net/`,
    };
    await expect(readModelAvailability(MODELS, fetch)).resolves.toEqual(expected);
    await expect(readModelAvailability(MODELS.slice(0, -1), fetch)).resolves.toEqual(expected);
  });

  test('a missing index, a network failure, a malformed index or card are reported, not hidden', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{}, /index\.json answered HTTP 404/],
      [{ [`${MODELS}index.json`]: new Error('offline') }, /could not be read: offline/],
      [{ [`${MODELS}index.json`]: { models: [] } }, /has no "installed" list/],
      [
        { [`${MODELS}index.json`]: { installed: ['tuber-net'] } },
        /model-card\.json answered HTTP 404/,
      ],
      [
        {
          [`${MODELS}index.json`]: { installed: ['tuber-net'] },
          [`${MODELS}tuber-net/model-card.json`]: { name: 'tuber-net' },
        },
        /model card of tuber-net is unusable: it has no "version"/,
      ],
    ];
    for (const [files, message] of cases) {
      const availability = await readModelAvailability(MODELS, fakeFetch(files));
      expect(availability.state).toBe('invalid');
      expect(availability).toMatchObject({ message: expect.stringMatching(message) });
    }
  });
});

test('parseModelCard rejects what is not a card', () => {
  expect(() => parseModelCard(null)).toThrow('not a JSON object');
  expect(() => parseModelCard({ version: '1' })).toThrow('no "name"');
  expect(parseModelCard({ name: 'n', version: 'v', extra: 1 })).toEqual({
    name: 'n',
    version: 'v',
  });
});

describe('ModelStatus', () => {
  test('starts as checking, reads once, and tells its subscribers', async () => {
    const fetch = fakeFetch({ [`${MODELS}index.json`]: { installed: [] } });
    const status = new ModelStatus(MODELS, fetch);
    const seen: string[] = [];
    const unsubscribe = status.subscribe(availability => seen.push(availability.state));
    expect(status.current).toEqual({ state: 'checking' });

    const [first, second] = await Promise.all([status.check(), status.check()]);
    expect(first).toBe(second);
    expect(status.current.state).toBe('missing');
    expect(seen).toEqual(['missing']);
    expect(fetch).toHaveBeenCalledTimes(1);

    unsubscribe();
    await status.check();
    expect(seen).toEqual(['missing']);
  });
});
