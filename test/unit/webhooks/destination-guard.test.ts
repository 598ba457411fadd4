import {
  ANY_DESTINATION,
  checkDestinationUrl,
  checkWebhookDestination,
  isRefusedAddress,
  STRICT_DESTINATIONS,
} from '../../../src/webhooks/destination-guard';

describe('webhook destination guard', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['0.0.0.0', true],
    ['10.1.2.3', true],
    ['100.64.0.1', true],
    ['169.254.169.254', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.168.1.1', true],
    ['224.0.0.1', true],
    ['255.255.255.255', true],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fd00:ec2::254', true],
    ['fc00::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::7f00:1', true],
    ['::a00:1', true],
    ['::ffff:a9fe:a9fe', true],
    ['64:ff9b::10.0.0.1', true],
    ['ff02::1', true],
    ['not an address', true],
    ['8.8.8.8', false],
    ['172.32.0.1', false],
    ['100.128.0.1', false],
    ['93.184.216.34', false],
    ['2606:4700:4700::1111', false],
    ['::ffff:8.8.8.8', false],
  ])('%s refused: %s', (address, refused) => {
    expect(isRefusedAddress(address)).toBe(refused);
  });

  it.each([
    ['http://127.0.0.1:7233/x', '127.0.0.1 is a loopback, private, link-local or reserved address'],
    [
      'http://169.254.169.254/latest',
      '169.254.169.254 is a loopback, private, link-local or reserved address',
    ],
    ['http://[::1]/', '::1 is a loopback, private, link-local or reserved address'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1 is a loopback, private, link-local or reserved address'],
    ['http://2130706433/', '127.0.0.1 is a loopback, private, link-local or reserved address'],
    ['http://0x7f.1/', '127.0.0.1 is a loopback, private, link-local or reserved address'],
    ['ftp://example.com/', 'scheme ftp is not http or https'],
    ['file:///etc/passwd', 'scheme file is not http or https'],
    ['gopher://example.com/', 'scheme gopher is not http or https'],
    ['not a url', 'not an absolute URL'],
  ])('refuses %s without resolving it: %s', (url, reason) => {
    expect(checkDestinationUrl(url, STRICT_DESTINATIONS)).toEqual({ ok: false, reason });
  });

  it('allows private addresses with the allowance, and allowlisted hosts only, never other schemes', () => {
    expect(checkDestinationUrl('http://127.0.0.1:7233/x', ANY_DESTINATION).ok).toBe(true);
    expect(checkDestinationUrl('ftp://127.0.0.1/', ANY_DESTINATION).ok).toBe(false);
    const policy = { allowPrivate: false, allowedHosts: ['hooks.internal', '10.0.0.5'] };
    expect(checkDestinationUrl('https://HOOKS.internal/x', policy).ok).toBe(true);
    expect(checkDestinationUrl('http://10.0.0.5/x', policy).ok).toBe(true);
    expect(checkDestinationUrl('http://10.0.0.6/x', policy).ok).toBe(false);
  });

  it('resolves names at registration: localhost is refused, a name that does not resolve is left to the delivery', async () => {
    expect(await checkWebhookDestination('http://localhost:3000/hooks', STRICT_DESTINATIONS)).toEqual({
      ok: false,
      reason: expect.stringMatching(/^localhost resolves to (127\.0\.0\.1|::1), a loopback/),
    });
    expect(await checkWebhookDestination('https://no-such-host.invalid/hooks', STRICT_DESTINATIONS)).toEqual({
      ok: true,
    });
    expect(await checkWebhookDestination('https://93.184.216.34/hooks', STRICT_DESTINATIONS)).toEqual({
      ok: true,
    });
  });
});
