/**
 * fetch for everything TuberLens requests (the model index, card and weights): only from the page's own
 * origin, so that nothing about the study or the user leaves it, whatever the configuration says.
 */
export function sameOriginFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const url = new URL(
    typeof input === 'object' && 'url' in input ? input.url : String(input),
    location.href
  );
  if (url.origin !== location.origin) {
    return Promise.reject(
      new Error(`TuberLens requests nothing outside this page's origin, so not ${url.href}.`)
    );
  }
  return fetch(input, init);
}
