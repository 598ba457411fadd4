import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Lago's `hmac` webhook signature: `Base64(HMAC-SHA256(organization.hmac_key, raw_json_body))`,
 * sent in `X-Lago-Signature` with `X-Lago-Signature-Algorithm: hmac`. The key is used as the UTF-8
 * bytes of the stored string, as Ruby's OpenSSL::HMAC does.
 */
export function hmacSignature(hmacKey: string, rawBody: string): string {
  return createHmac('sha256', hmacKey).update(rawBody, 'utf8').digest('base64');
}

/** What a receiver does: recompute the signature of the raw body and compare in constant time. */
export function verifyHmacSignature(hmacKey: string, rawBody: string, signature: string): boolean {
  const expected = Buffer.from(hmacSignature(hmacKey, rawBody));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The headers of one delivery. */
export function webhookHeaders(
  signature: string,
  uniqueKey: string,
  algorithm: 'hmac' | 'jwt' = 'hmac',
): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'X-Lago-Signature': signature,
    'X-Lago-Signature-Algorithm': algorithm,
    'X-Lago-Unique-Key': uniqueKey,
  };
}
