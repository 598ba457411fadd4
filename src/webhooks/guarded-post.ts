import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import {
  checkDestinationUrl,
  checkResolvedAddresses,
  resolveHost,
  type Resolved,
  type WebhookDestinationPolicy,
} from './destination-guard';

export type PostOutcome =
  /** The endpoint answered (the last hop, after redirects). */
  | { kind: 'answered'; status: number; text: string; url: string }
  /** The destination (or a redirect's) is not allowed: nothing was sent there; retrying cannot help. */
  | { kind: 'refused'; reason: string; url: string }
  /** No answer: DNS failure, connection refused or reset, timeout. Worth retrying. */
  | { kind: 'failed'; error: string; url: string };

export interface GuardedPostOptions {
  headers: Record<string, string>;
  body: string;
  policy: WebhookDestinationPolicy;
  /** For the whole delivery, every hop included. */
  timeoutMs: number;
  maxRedirects?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Receivers' answers are stored as an excerpt; reading more than this only costs memory. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** A lookup that answers the address already checked, so the connection cannot be re-resolved elsewhere. */
function pinnedLookup(pinned: Resolved): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  }) as unknown as LookupFunction;
}

function send(
  url: URL,
  pinned: Resolved | null,
  options: GuardedPostOptions,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((ok, fail) => {
    const req = request(url, {
      method: 'POST',
      headers: { ...options.headers, 'Content-Length': String(Buffer.byteLength(options.body)) },
      signal,
      ...(pinned ? { lookup: pinnedLookup(pinned) } : {}),
    });
    req.once('response', ok);
    req.once('error', fail);
    req.end(options.body);
  });
}

async function readExcerpt(answer: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of answer as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_ANSWER_BYTES) {
      answer.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describe(err: unknown, timeoutMs: number): string {
  const e = err as Error & { code?: string };
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return `timeout after ${timeoutMs} ms`;
  return `${e.message}${e.code && !e.message.includes(e.code) ? ` (${e.code})` : ''}`;
}

/**
 * POSTs a webhook body through the destination guard: the scheme, the host and every address it
 * resolves to are checked before connecting, the connection goes to the address checked (a DNS
 * answer that changes between check and connect cannot redirect it), and each redirect is checked
 * the same way before it is followed. Redirects are followed with the same POST and body (the
 * signature covers the body, not the URL), up to `maxRedirects`.
 */
export async function guardedPost(target: string, options: GuardedPostOptions): Promise<PostOutcome> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const maxRedirects = options.maxRedirects ?? 3;
  let current = target;
  for (let hop = 0; ; hop++) {
    const check = checkDestinationUrl(current, options.policy);
    if (!check.ok) return { kind: 'refused', reason: check.reason, url: current };
    let pinned: Resolved | null = null;
    if (check.needsResolution) {
      let addresses: Resolved[];
      try {
        addresses = await resolveHost(check.host!);
      } catch (err) {
        return { kind: 'failed', error: describe(err, options.timeoutMs), url: current };
      }
      const resolved = checkResolvedAddresses(check.host!, addresses);
      if (!resolved.ok) return { kind: 'refused', reason: resolved.reason, url: current };
      pinned = addresses[0]!;
    }
    let answer: IncomingMessage;
    try {
      answer = await send(check.url!, pinned, options, signal);
    } catch (err) {
      return { kind: 'failed', error: describe(err, options.timeoutMs), url: current };
    }
    const status = answer.statusCode ?? 0;
    const location = answer.headers.location;
    if (REDIRECTS.has(status) && location && hop < maxRedirects) {
      answer.resume(); // discard the redirect's body
      try {
        current = new URL(location, current).toString();
      } catch {
        return { kind: 'answered', status, text: `redirect to an invalid location`, url: current };
      }
      continue;
    }
    try {
      return { kind: 'answered', status, text: await readExcerpt(answer), url: current };
    } catch (err) {
      return {
        kind: 'answered',
        status,
        text: `(unreadable answer: ${describe(err, options.timeoutMs)})`,
        url: current,
      };
    }
  }
}
