import { randomBytes, randomUUID } from 'node:crypto';
import { createApiKey } from './api-keys';
import type { Db } from 'mongodb';

export interface OrganizationDoc {
  _id: string; // lago_id of the organization
  name: string;
  /** HMAC key for webhook signatures (Lago: organization.hmac_key). */
  hmac_key: string;
  /** RSA key pair for `jwt` webhook signatures (src/store/webhook-signing-keys.ts), once needed. */
  webhook_public_key_pem?: string;
  webhook_private_key_pem?: string;
  created_at: Date;
}

export function organizations(db: Db) {
  return db.collection<OrganizationDoc>('organizations');
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
  const { key: apiKey } = await createApiKey(db, organization._id, 'default');
  return { organization, apiKey };
}
