import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where the worker may send an organization's webhooks. Any API key can register a webhook URL, and
 * every later billing event makes the worker POST to it: without a guard, a tenant can make the
 * server reach the Temporal frontend on 127.0.0.1, the database, or the cloud metadata service
 * (169.254.169.254). By default only public addresses over http(s) are reached.
 */
export interface WebhookDestinationPolicy {
  /** `PRORATA_WEBHOOK_ALLOW_PRIVATE=1`: any address (development, a receiver on loopback). */
  allowPrivate: boolean;
  /**
   * `PRORATA_WEBHOOK_ALLOWED_HOSTS`: host names or IP literals, compared with the URL's host (lower
   * case, no brackets), reachable even when they are or resolve to private addresses: an internal
   * receiver in production without opening every private address.
   */
  allowedHosts: readonly string[];
}

export const STRICT_DESTINATIONS: WebhookDestinationPolicy = { allowPrivate: false, allowedHosts: [] };
export const ANY_DESTINATION: WebhookDestinationPolicy = { allowPrivate: true, allowedHosts: [] };

/** One line for `npm start` and the API's start log. */
export function describeDestinationPolicy(policy: WebhookDestinationPolicy): string {
  if (policy.allowPrivate)
    return 'webhooks: any destination (PRORATA_WEBHOOK_ALLOW_PRIVATE=1, development only)';
  const hosts = policy.allowedHosts.length > 0 ? `, plus ${policy.allowedHosts.join(', ')}` : '';
  return `webhooks: public http(s) destinations only${hosts} (PRORATA_WEBHOOK_ALLOW_PRIVATE=1 lifts it)`;
}

/**
 * Addresses a webhook must not reach: this host, private networks, link-local (cloud metadata at
 * 169.254.169.254 and fd00:ec2::254 fall in link-local and unique-local), carrier-grade NAT,
 * documentation, benchmark, multicast and reserved ranges (IANA special-purpose registries).
 */
const refused = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
] as const) {
  refused.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback, and IPv4-compatible (deprecated) ::a.b.c.d
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique-local (fd00:ec2::254: AWS metadata over IPv6)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated, still routed by some stacks)
  ['ff00::', 8], // multicast
] as const) {
  refused.addSubnet(net, prefix, 'ipv6');
}

/** The IPv4 address an IPv6 address carries (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`), if any. */
function embeddedIpv4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return null;
  const hi = parseInt(hex[1]!, 16);
  const lo = parseInt(hex[2]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** True for an IP address no webhook may reach by default. */
export function isRefusedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return refused.check(address, 'ipv4');
  if (family !== 6) return true; // not an address: refuse rather than guess
  const v4 = embeddedIpv4(address);
  if (v4 !== null) return refused.check(v4, 'ipv4');
  return refused.check(address, 'ipv6');
}

export type DestinationCheck = { ok: true } | { ok: false; reason: string };

/** The URL's host as compared with the allowlist and resolved: lower case, IPv6 without brackets. */
export function normalizeHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
}

/** What can be decided without DNS: the scheme, a literal address, and the allowlist. */
export function checkDestinationUrl(
  raw: string,
  policy: WebhookDestinationPolicy,
): DestinationCheck & { url?: URL; host?: string; needsResolution?: boolean } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: `scheme ${url.protocol.slice(0, -1)} is not http or https` };
  }
  const host = normalizeHost(url.hostname);
  if (host === '') return { ok: false, reason: 'no host' };
  if (policy.allowPrivate || policy.allowedHosts.includes(host)) return { ok: true, url, host };
  if (isIP(host) !== 0) {
    return isRefusedAddress(host)
      ? { ok: false, reason: `${host} is a loopback, private, link-local or reserved address` }
      : { ok: true, url, host };
  }
  return { ok: true, url, host, needsResolution: true };
}

export type Resolved = { address: string; family: 4 | 6 };

/** Refuses the destination if any address the name resolves to is refused (no partial trust). */
export function checkResolvedAddresses(host: string, addresses: readonly Resolved[]): DestinationCheck {
  if (addresses.length === 0) return { ok: false, reason: `${host} resolves to no address` };
  const bad = addresses.find((a) => isRefusedAddress(a.address));
  return bad
    ? {
        ok: false,
        reason: `${host} resolves to ${bad.address}, a loopback, private, link-local or reserved address`,
      }
    : { ok: true };
}

export async function resolveHost(host: string): Promise<Resolved[]> {
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

/**
 * The check at registration (create and update of an endpoint): the scheme, a literal address, and
 * the addresses the name resolves to now. A name that does not resolve (yet) is accepted: DNS may
 * change either way, so the delivery checks again, on the address it connects to.
 */
export async function checkWebhookDestination(
  raw: string,
  policy: WebhookDestinationPolicy,
  timeoutMs = 2_000,
): Promise<DestinationCheck> {
  const first = checkDestinationUrl(raw, policy);
  if (!first.ok || !first.needsResolution) return first.ok ? { ok: true } : first;
  const host = first.host!;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((ok) => {
    timer = setTimeout(() => ok(null), timeoutMs);
  });
  const addresses = await Promise.race([resolveHost(host).catch(() => null), timeout]);
  clearTimeout(timer);
  if (addresses === null) return { ok: true };
  return checkResolvedAddresses(host, addresses);
}
