import type { RequestHandler } from 'express';
import { ApiError } from './errors';
import { organizationOf } from './auth';
import type { Config } from '../src/config';

/**
 * Requests per second per organization, by kind of request. Lago publishes 500 req/s for events and
 * 200 req/s for current usage; everything else (catalog, invoices, wallets) is administrative
 * traffic, 100 req/s is far above what a product sends and far below what one process serves.
 * 0 turns a limit off.
 */
export interface RateLimits {
  events: number;
  currentUsage: number;
  default: number;
  /**
   * API processes behind the load balancer. Each process enforces 1/processes of every limit in
   * memory: no database write per request (on FerretDB that would double the cost of ingesting an
   * event), at the price of being exact only when the balancer spreads an organization's requests
   * evenly (round robin does; see docs/operations.md, Security).
   */
  processes: number;
}

export const LAGO_RATE_LIMITS: RateLimits = { events: 500, currentUsage: 200, default: 100, processes: 1 };
export const NO_RATE_LIMITS: RateLimits = { events: 0, currentUsage: 0, default: 0, processes: 1 };

export function rateLimitsOf(config: Config): RateLimits {
  return {
    events: config.PRORATA_RATE_LIMIT_EVENTS,
    currentUsage: config.PRORATA_RATE_LIMIT_CURRENT_USAGE,
    default: config.PRORATA_RATE_LIMIT_DEFAULT,
    processes: config.PRORATA_API_PROCESSES,
  };
}

/** One line for the API's start log. */
export function describeRateLimits(limits: RateLimits): string {
  const show = (n: number) => (n > 0 ? `${n} req/s` : 'unlimited');
  return (
    `rate limits per organization: events ${show(limits.events)}, current usage ${show(limits.currentUsage)}, ` +
    `other ${show(limits.default)}, split over ${limits.processes} API process(es)`
  );
}

export type RateLimitKind = 'events' | 'current_usage' | 'default';

/** The limit a request counts against, from its path under /api/v1. */
export function rateLimitKind(path: string): RateLimitKind {
  if (path === '/events' || path.startsWith('/events/')) return 'events';
  if (/^\/customers\/[^/]+\/current_usage\/?$/.test(path)) return 'current_usage';
  return 'default';
}

function limitOf(limits: RateLimits, kind: RateLimitKind): number {
  return kind === 'events' ? limits.events : kind === 'current_usage' ? limits.currentUsage : limits.default;
}

interface Bucket {
  tokens: number;
  at: number;
}

export type Take = { ok: true; remaining: number } | { ok: false; retryAfterSeconds: number };

/**
 * Token buckets: each holds at most one second of its rate (a burst of `rate` requests) and refills
 * continuously, so a steady `rate` req/s always passes and a flood is cut to `rate` req/s. A full
 * bucket is the same as none, so idle ones are dropped: memory follows the organizations active in
 * the last seconds, not all of them.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep: number;

  constructor(private readonly now: () => number = Date.now) {
    this.lastSweep = now();
  }

  take(key: string, rate: number): Take {
    const now = this.now();
    this.sweep(now);
    const capacity = Math.max(rate, 1);
    const bucket = this.buckets.get(key) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true, remaining: Math.floor(bucket.tokens) };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rate)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 10_000) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) {
      // Idle for 10 s: refilled for any rate of at least one request per 10 s.
      if (now - bucket.at >= 10_000) this.buckets.delete(key);
    }
  }
}

export const tooManyRequests = () =>
  new ApiError(429, { status: 429, error: 'Too Many Requests', code: 'too_many_requests' });

/**
 * After authentication: counts the request against its organization's limit for its kind, and
 * answers 429 with `Retry-After` when the limit is reached. The `x-ratelimit-*` headers are the
 * ones lago-javascript-client's retry wrapper reads.
 */
export function rateLimit(limits: RateLimits, buckets = new TokenBuckets()): RequestHandler {
  return (req, res, next) => {
    const kind = rateLimitKind(req.path);
    const limit = limitOf(limits, kind);
    if (limit <= 0) return next();
    const share = limit / limits.processes;
    const taken = buckets.take(`${organizationOf(req)._id}:${kind}`, share);
    res.setHeader('x-ratelimit-limit', String(limit));
    if (taken.ok) {
      res.setHeader('x-ratelimit-remaining', String(Math.floor(taken.remaining * limits.processes)));
      res.setHeader('x-ratelimit-reset', '1');
      return next();
    }
    res.setHeader('x-ratelimit-remaining', '0');
    res.setHeader('x-ratelimit-reset', String(taken.retryAfterSeconds));
    res.setHeader('Retry-After', String(taken.retryAfterSeconds));
    next(tooManyRequests());
  };
}
