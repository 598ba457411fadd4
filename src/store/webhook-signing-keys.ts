import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import type { Db } from 'mongodb';
import { organizations } from './organizations';

export interface WebhookSigningKey {
  publicKeyPem: string;
  privateKeyPem: string;
}

/**
 * The organization's RSA key pair for `jwt` webhook signatures, created on first use (the first
 * `jwt` delivery, or the public key asked for; never by a request that may be refused): most
 * organizations never need one, and a 2048-bit key takes tens of milliseconds to generate. Two concurrent first uses each generate a
 * pair; the conditional update keeps the first stored and both callers read it back.
 */
export async function ensureWebhookSigningKey(
  db: Db,
  organizationId: string,
): Promise<WebhookSigningKey | null> {
  const found = await organizations(db).findOne({ _id: organizationId });
  if (!found) return null;
  if (found.webhook_public_key_pem && found.webhook_private_key_pem) {
    return { publicKeyPem: found.webhook_public_key_pem, privateKeyPem: found.webhook_private_key_pem };
  }
  const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  await organizations(db).updateOne(
    { _id: organizationId, webhook_public_key_pem: { $exists: false } },
    { $set: { webhook_public_key_pem: publicKey, webhook_private_key_pem: privateKey } },
  );
  const stored = await organizations(db).findOne({ _id: organizationId });
  if (!stored?.webhook_public_key_pem || !stored.webhook_private_key_pem) return null;
  return { publicKeyPem: stored.webhook_public_key_pem, privateKeyPem: stored.webhook_private_key_pem };
}

/** Lago's form of the public key: Base64 of the PEM text. */
export const lagoPublicKey = (key: WebhookSigningKey) =>
  Buffer.from(key.publicKeyPem, 'utf8').toString('base64');
