import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';

export interface OrganizationDoc {
  _id: string; // lago_id of the organization
  name: string;
  /** HMAC key for webhook signatures (Lago: organization.hmac_key). */
  hmac_key: string;
  created_at: Date;
}

export interface ApiKeyDoc {
  _id: string; // sha256 of the key: keys are never stored in clear
  organization_id: string;
  name: string;
  created_at: Date;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function organizations(db: Db) {
  return db.collection<OrganizationDoc>('organizations');
}

export function apiKeys(db: Db) {
  return db.collection<ApiKeyDoc>('api_keys');
}

/** Creates an organization and its first API key; returns the key in clear (shown once). */
export async function createOrganization(
  db: Db,
  name: string,
): Promise<{ organization: OrganizationDoc; apiKey: string }> {
  const organization: OrganizationDoc = {
    _id: randomUUID(),
    name,
    hmac_key: randomBytes(32).toString('hex'),
    created_at: new Date(),
  };
  await organizations(db).insertOne(organization);
  const apiKey = await createApiKey(db, organization._id, 'default');
  return { organization, apiKey };
}

export async function createApiKey(db: Db, organizationId: string, name: string): Promise<string> {
  const key = `prorata_${randomBytes(24).toString('hex')}`;
  await apiKeys(db).insertOne({
    _id: hashApiKey(key),
    organization_id: organizationId,
    name,
    created_at: new Date(),
  });
  return key;
}

export async function findOrganizationByApiKey(db: Db, key: string): Promise<OrganizationDoc | null> {
  const found = await apiKeys(db).findOne({ _id: hashApiKey(key) });
  if (!found) return null;
  return organizations(db).findOne({ _id: found.organization_id });
}
