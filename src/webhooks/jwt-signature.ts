import { createPublicKey, sign, verify } from 'node:crypto';

/**
 * Lago's `jwt` webhook signature: an RS256 JWT whose claims are `{"data": "<raw JSON body>", "iss":
 * "<API URL>"}`, sent in `X-Lago-Signature` with `X-Lago-Signature-Algorithm: jwt`. Receivers check
 * it with the public key from `GET /webhooks/json_public_key` (lago-api.md section 4.9). prorata
 * signs with a key pair per organization, so one organization's key cannot vouch for another's
 * webhooks.
 */
const HEADER = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));

function base64url(text: string | Buffer): string {
  return Buffer.from(text).toString('base64url');
}

export function jwtSignature(privateKeyPem: string, rawBody: string, issuer: string): string {
  const signingInput = `${HEADER}.${base64url(JSON.stringify({ data: rawBody, iss: issuer }))}`;
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), privateKeyPem).toString('base64url')}`;
}

/**
 * What a receiver does: check the RS256 signature with the public key, then that the token carries
 * exactly these bytes. Returns the issuer, or null when the token does not verify.
 */
export function verifyJwtSignature(publicKeyPem: string, rawBody: string, token: string): string | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [header, payload, signature] = parts as [string, string, string];
  try {
    const alg = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: string }).alg;
    if (alg !== 'RS256') return null;
    const key = createPublicKey(publicKeyPem);
    if (!verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'))) {
      return null;
    }
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      data?: string;
      iss?: string;
    };
    return claims.data === rawBody && typeof claims.iss === 'string' ? claims.iss : null;
  } catch {
    return null;
  }
}
