/** @jest-environment jsdom */
import { sameOriginFetch } from '../../../extension/src/sameOriginFetch';

test('fetches from the page’s origin and refuses any other, before a request is made', async () => {
  const fetch = jest.fn(async () => ({ ok: true }) as Response);
  globalThis.fetch = fetch;

  await sameOriginFetch('/tuberlens/models/index.json');
  await sameOriginFetch(new URL('models/x/model.json', location.href));
  await sameOriginFetch({ url: `${location.origin}/models/x/weights.bin` } as Request);
  expect(fetch).toHaveBeenCalledTimes(3);

  await expect(sameOriginFetch('https://cdn.example.org/model.json')).rejects.toThrow(
    "TuberLens requests nothing outside this page's origin, so not https://cdn.example.org/model.json."
  );
  expect(fetch).toHaveBeenCalledTimes(3);
});
