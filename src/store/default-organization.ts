import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db } from 'mongodb';
import { createOrganization, findOrganizationByApiKey } from './organizations';

/**
 * The default organization of a local stack. Keys are stored hashed in MongoDB, so the default key
 * is also kept in clear in a local file (mode 0600) for `npm run -s api-key`.
 */
export async function ensureDefaultOrganization(
  db: Db,
  keyFile: string,
): Promise<{ apiKey: string; created: boolean }> {
  if (existsSync(keyFile)) {
    const apiKey = readFileSync(keyFile, 'utf8').trim();
    if (await findOrganizationByApiKey(db, apiKey)) return { apiKey, created: false };
  }
  const { apiKey } = await createOrganization(db, 'default');
  mkdirSync(dirname(keyFile), { recursive: true });
  writeFileSync(keyFile, `${apiKey}\n`, { mode: 0o600 });
  return { apiKey, created: true };
}
