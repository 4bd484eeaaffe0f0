/**
 * Whether a tuber model is installed at a URL, read from its model card.
 * Framework-free: the viewer panel, the command and the CLI ask the same question.
 */

export interface ModelCard {
  name: string;
  version: string;
}

export type ModelAvailability =
  | { state: 'checking' }
  | { state: 'missing'; message: string }
  | { state: 'invalid'; message: string }
  | { state: 'available'; card: ModelCard; /** The installed model's folder. */ modelUrl: string };

export type FetchFunction = (url: string) => Promise<Pick<Response, 'ok' | 'status' | 'json'>>;

export const MODEL_INDEX_FILE = 'index.json';
export const MODEL_CARD_FILE = 'model-card.json';

/**
 * Reads the models folder's index (`{ "installed": ["<folder>", …] }`) and the first installed model's card.
 * An index lists what is installed, so asking costs no failed request when nothing is.
 */
export async function readModelAvailability(
  modelsUrl: string,
  fetchFunction: FetchFunction
): Promise<ModelAvailability> {
  const base = modelsUrl.endsWith('/') ? modelsUrl : `${modelsUrl}/`;
  const index = await fetchJson(new URL(MODEL_INDEX_FILE, base).href, fetchFunction);
  if ('error' in index) return { state: 'invalid', message: index.error };
  const installed = (index.json as { installed?: unknown }).installed;
  if (!Array.isArray(installed) || installed.some(folder => typeof folder !== 'string')) {
    return {
      state: 'invalid',
      message: `The model index at ${base}${MODEL_INDEX_FILE} has no "installed" list of folders.`,
    };
  }
  if (installed.length === 0)
    return {
      state: 'missing',
      message: 'No tuber model is installed, so detection is unavailable.',
    };
  const card = await fetchJson(
    new URL(`${installed[0]}/${MODEL_CARD_FILE}`, base).href,
    fetchFunction
  );
  if ('error' in card) return { state: 'invalid', message: card.error };
  try {
    return {
      state: 'available',
      card: parseModelCard(card.json),
      modelUrl: new URL(`${installed[0]}/`, base).href,
    };
  } catch (error) {
    return {
      state: 'invalid',
      message: `The model card of ${installed[0]} is unusable: ${describe(error)}.`,
    };
  }
}

async function fetchJson(
  url: string,
  fetchFunction: FetchFunction
): Promise<{ json: unknown } | { error: string }> {
  try {
    const response = await fetchFunction(url);
    if (!response.ok) return { error: `${url} answered HTTP ${response.status}.` };
    return { json: await response.json() };
  } catch (error) {
    return { error: `${url} could not be read: ${describe(error)}.` };
  }
}

export function parseModelCard(json: unknown): ModelCard {
  if (typeof json !== 'object' || json === null) throw new Error('it is not a JSON object');
  const { name, version } = json as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') throw new Error('it has no "name"');
  if (typeof version !== 'string' || version === '') throw new Error('it has no "version"');
  return { name, version };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
