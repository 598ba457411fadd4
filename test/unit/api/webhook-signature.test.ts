import { createHmac } from 'node:crypto';
import { buildWebhookEnvelope, webhookBody } from '../../../src/webhooks/envelope';
import { hmacSignature, verifyHmacSignature, webhookHeaders } from '../../../src/webhooks/signature';

describe('Lago webhook signature (hmac) and envelope', () => {
  it('signs like Lago: Base64(HMAC-SHA256(key, body)), checked against a known vector', () => {
    // RFC 4231-style public vector; also `openssl dgst -sha256 -hmac key -binary | base64`.
    expect(hmacSignature('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      '97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=',
    );
    // RFC 4231 test case 2.
    expect(Buffer.from(hmacSignature('Jefe', 'what do ya want for nothing?'), 'base64').toString('hex')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('signs the raw UTF-8 body with the organization key as UTF-8 text', () => {
    const body = '{"webhook_type":"customer.created","customer":{"name":"Zoë ✓"}}';
    const key = 'c0ffee-hmac-key';
    expect(hmacSignature(key, body)).toBe(
      createHmac('sha256', Buffer.from(key, 'utf8')).update(Buffer.from(body, 'utf8')).digest('base64'),
    );
  });

  it('verifies a signature only for the same key and the same bytes', () => {
    const body = webhookBody({
      organizationId: 'org',
      webhookType: 'plan.created',
      objectType: 'plan',
      object: { code: 'p' },
    });
    const signature = hmacSignature('k1', body);
    expect(verifyHmacSignature('k1', body, signature)).toBe(true);
    expect(verifyHmacSignature('k2', body, signature)).toBe(false);
    expect(verifyHmacSignature('k1', `${body} `, signature)).toBe(false);
    expect(verifyHmacSignature('k1', body, 'short')).toBe(false);
  });

  it('wraps the object under its object_type, as Lago’s envelope does', () => {
    const subscription = { external_id: 'acme_main', plan: { code: 'per_seat' } };
    expect(
      buildWebhookEnvelope({
        organizationId: '2f1c',
        webhookType: 'subscription.terminated',
        objectType: 'subscription',
        object: subscription,
      }),
    ).toEqual({
      webhook_type: 'subscription.terminated',
      object_type: 'subscription',
      organization_id: '2f1c',
      subscription,
    });
    expect(
      webhookBody({
        organizationId: 'o',
        webhookType: 'events.errors',
        objectType: 'events_errors',
        object: { invalid_code: [] },
      }),
    ).toBe(
      '{"webhook_type":"events.errors","object_type":"events_errors","organization_id":"o","events_errors":{"invalid_code":[]}}',
    );
    expect(() =>
      buildWebhookEnvelope({
        organizationId: 'o',
        webhookType: 'x',
        objectType: 'organization_id',
        object: {},
      }),
    ).toThrow(/overwrite/);
  });

  it('sends the four Lago headers', () => {
    expect(webhookHeaders('sig', 'invoice.created:1')).toEqual({
      'Content-Type': 'application/json',
      'X-Lago-Signature': 'sig',
      'X-Lago-Signature-Algorithm': 'hmac',
      'X-Lago-Unique-Key': 'invoice.created:1',
    });
  });
});
