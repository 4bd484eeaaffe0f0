import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OrthancError, type OrthancCredentials } from './orthanc';

export interface StoredCredentials {
  credentials: OrthancCredentials;
  file: string;
  /** Whether they were generated just now (and so have never been shown). */
  created: boolean;
}

/** The PACS's Orthanc user, from <storageDir>/credentials.json; generated there (mode 0600) on first use. */
export async function pacsCredentials(storageDir: string): Promise<StoredCredentials> {
  const file = join(storageDir, 'credentials.json');
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text !== undefined)
    return { credentials: parseCredentials(text, file), file, created: false };
  const credentials = { user: 'tuberlens', password: randomBytes(18).toString('base64url') };
  await mkdir(storageDir, { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { credentials, file, created: true };
}

function parseCredentials(text: string, file: string): OrthancCredentials {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Reported below, as any other content that is not a user and a password.
  }
  const { user, password } = (json ?? {}) as Partial<OrthancCredentials>;
  if (typeof user !== 'string' || typeof password !== 'string' || password === '') {
    throw new OrthancError(
      `${file} must hold {"user": "…", "password": "…"}: fix it, or delete it to have new credentials generated.`
    );
  }
  return { user, password };
}
