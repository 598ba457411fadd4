import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db } from 'mongodb';
import { createOrganization } from './organizations';
import { createApiKey, findApiKey } from './api-keys';

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
    const found = await findApiKey(db, apiKey);
    if (found && !found.revoked_at) return { apiKey, created: false };
    // The default key was revoked: the organization stays the default one, with a new key.
    if (found) {
      const { key } = await createApiKey(db, found.organization_id, 'default');
      writeDefaultApiKey(keyFile, key);
      return { apiKey: key, created: false };
    }
  }
  const { apiKey } = await createOrganization(db, 'default');
  writeDefaultApiKey(keyFile, apiKey);
  return { apiKey, created: true };
}

export function writeDefaultApiKey(keyFile: string, apiKey: string): void {
  mkdirSync(dirname(keyFile), { recursive: true });
  writeFileSync(keyFile, `${apiKey}\n`, { mode: 0o600 });
}

/** The default organization's id, from the key in the file (revoked or not); null without one. */
export async function defaultOrganizationId(db: Db, keyFile: string): Promise<string | null> {
  if (!existsSync(keyFile)) return null;
  const found = await findApiKey(db, readFileSync(keyFile, 'utf8').trim());
  return found?.organization_id ?? null;
}
