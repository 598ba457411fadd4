import { createHash, randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import { ID_RANGE_COMMENT } from './database';
import { organizations, type OrganizationDoc } from './organizations';

/**
 * API keys: several per organization, stored hashed (the key is shown once, when created), revoked
 * rather than deleted so that `--list` still shows when a key stopped working. Every request reads
 * its key by `_id`, the key's hash: a point read whatever the number of keys (FerretDB serves only
 * `_id` filters from an index), never cached: a request is answered by a read that started after it
 * arrived (shared by concurrent requests, `FreshReads` in api/auth.ts), so a revocation holds at
 * once in every API process.
 */
export interface ApiKeyDoc {
  _id: string; // sha256 of the key, hex: keys are never stored in clear
  organization_id: string;
  name: string;
  created_at: Date;
  /** Set by `npm run -s api-key -- --revoke KEY_ID`; the key is refused from then on. */
  revoked_at?: Date | null;
}

/** What may be shown about a key: never the key, nor its whole hash. */
export interface ApiKeyInfo {
  id: string;
  organization_id: string;
  name: string;
  created_at: Date;
  revoked_at: Date | null;
}

/**
 * A key's id: the first 16 hex digits of its hash. Derived, so keys created before ids existed have
 * one too; 64 bits of a hash of 192 random bits say nothing usable about the key.
 */
const KEY_ID_LENGTH = 16;
export const API_KEY_ID = /^[0-9a-f]{16}$/;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function apiKeys(db: Db) {
  return db.collection<ApiKeyDoc>('api_keys');
}

function info(doc: ApiKeyDoc): ApiKeyInfo {
  return {
    id: doc._id.slice(0, KEY_ID_LENGTH),
    organization_id: doc.organization_id,
    name: doc.name,
    created_at: doc.created_at,
    revoked_at: doc.revoked_at ?? null,
  };
}

/** A new key for the organization; returns it in clear (shown once) with its id. */
export async function createApiKey(
  db: Db,
  organizationId: string,
  name: string,
): Promise<{ key: string; info: ApiKeyInfo }> {
  const key = `prorata_${randomBytes(24).toString('hex')}`;
  const doc: ApiKeyDoc = {
    _id: hashApiKey(key),
    organization_id: organizationId,
    name,
    created_at: new Date(),
    revoked_at: null,
  };
  await apiKeys(db).insertOne(doc);
  return { key, info: info(doc) };
}

/** The key's record, revoked or not (null: never issued). */
export async function findApiKey(db: Db, key: string): Promise<ApiKeyDoc | null> {
  return apiKeys(db).findOne({ _id: hashApiKey(key) });
}

/** The organization a live key belongs to: two point reads by `_id`. */
export async function findOrganizationByApiKey(db: Db, key: string): Promise<OrganizationDoc | null> {
  const found = await findApiKey(db, key);
  if (!found || found.revoked_at) return null;
  return organizations(db).findOne({ _id: found.organization_id });
}

/** The keys of one organization, oldest first (served by the `organization_id` index on MongoDB). */
export async function listApiKeys(db: Db, organizationId: string): Promise<ApiKeyInfo[]> {
  const docs = await apiKeys(db).find({ organization_id: organizationId }).toArray();
  return docs
    .map(info)
    .sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || a.id.localeCompare(b.id));
}

/**
 * Revokes the key with this id; null when there is none. Revoking again keeps the first date. The id
 * is the first 16 hex digits of the `_id` (the key's hash): an `_id` range, hex sorting below 'g'.
 */
export async function revokeApiKey(db: Db, id: string): Promise<ApiKeyInfo | null> {
  if (!API_KEY_ID.test(id)) return null;
  const inRange = await apiKeys(db)
    .find({ _id: { $gte: id, $lt: `${id}g` } })
    .comment(ID_RANGE_COMMENT)
    .limit(2)
    .toArray();
  const matches = inRange.filter((d) => d._id.startsWith(id));
  if (matches.length !== 1) return null; // two keys sharing 64 bits of hash: refuse to guess
  const doc = matches[0]!;
  if (doc.revoked_at) return info(doc);
  const revoked = await apiKeys(db).findOneAndUpdate(
    { _id: doc._id },
    { $set: { revoked_at: new Date() } },
    { returnDocument: 'after' },
  );
  return revoked && info(revoked);
}
