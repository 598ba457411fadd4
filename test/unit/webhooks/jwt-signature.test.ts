import { generateKeyPairSync, verify } from 'node:crypto';
import { jwtSignature, verifyJwtSignature } from '../../../src/webhooks/jwt-signature';

const pair = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

describe('Lago jwt webhook signature (RS256)', () => {
  const keys = pair();
  const body = '{"webhook_type":"invoice.created","object_type":"invoice","invoice":{"total":"Zoë ✓"}}';

  it('is a compact RS256 JWT whose claims carry the raw body and the API URL, as Lago sends', () => {
    const token = jwtSignature(keys.privateKey, body, 'https://billing.example');
    const [header, payload, signature] = token.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString())).toEqual({
      data: body,
      iss: 'https://billing.example',
    });
    // Checked with node:crypto directly, as any JWT library does for RS256 (RSASSA-PKCS1-v1_5, SHA-256).
    expect(
      verify(
        'sha256',
        Buffer.from(`${header}.${payload}`),
        keys.publicKey,
        Buffer.from(signature!, 'base64url'),
      ),
    ).toBe(true);
    expect(verifyJwtSignature(keys.publicKey, body, token)).toBe('https://billing.example');
  });

  it('does not verify with another key, for other bytes, or once tampered with', () => {
    const token = jwtSignature(keys.privateKey, body, 'iss');
    expect(verifyJwtSignature(pair().publicKey, body, token)).toBeNull();
    expect(verifyJwtSignature(keys.publicKey, `${body} `, token)).toBeNull();
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ data: `${body} `, iss: 'iss' })).toString('base64url');
    expect(verifyJwtSignature(keys.publicKey, `${body} `, `${header}.${forged}.${signature}`)).toBeNull();
    const none = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    expect(verifyJwtSignature(keys.publicKey, body, `${none}.${token.split('.')[1]}.`)).toBeNull();
    expect(verifyJwtSignature(keys.publicKey, body, 'not.a.jwt')).toBeNull();
  });
});
