import { rateLimitKind, TokenBuckets } from '../../../api/rate-limit';

describe('rate limit token buckets', () => {
  it('lets a burst of one second through, then the rate, and says when to retry', () => {
    let now = 1_000_000;
    const buckets = new TokenBuckets(() => now);
    const taken = Array.from({ length: 12 }, () => buckets.take('org-a:events', 10).ok);
    expect(taken.filter(Boolean)).toHaveLength(10);
    expect(buckets.take('org-a:events', 10)).toEqual({ ok: false, retryAfterSeconds: 1 });
    now += 250; // 2.5 tokens back
    expect([1, 2, 3].map(() => buckets.take('org-a:events', 10).ok)).toEqual([true, true, false]);
    // Another organization's bucket is its own.
    expect(buckets.take('org-b:events', 10)).toEqual({ ok: true, remaining: 9 });
  });

  it('waits several seconds under a limit below one request per second', () => {
    let now = 0;
    const buckets = new TokenBuckets(() => now);
    expect(buckets.take('k', 0.25).ok).toBe(true);
    expect(buckets.take('k', 0.25)).toEqual({ ok: false, retryAfterSeconds: 4 });
    now += 4_000;
    expect(buckets.take('k', 0.25).ok).toBe(true);
  });

  it('forgets buckets idle for 10 s, so memory follows the active organizations', () => {
    let now = 0;
    const buckets = new TokenBuckets(() => now);
    for (let i = 0; i < 1000; i++) buckets.take(`org-${i}:default`, 100);
    expect(buckets.size).toBe(1000);
    now += 10_000;
    buckets.take('org-new:default', 100);
    expect(buckets.size).toBe(1);
  });

  it.each([
    ['/events', 'events'],
    ['/events/batch', 'events'],
    ['/events/abc', 'events'],
    ['/customers/acme/current_usage', 'current_usage'],
    ['/customers/acme', 'default'],
    ['/customers/acme/past_usage', 'default'],
    ['/invoices', 'default'],
    ['/eventsx', 'default'],
  ])('%s counts against the %s limit', (path, kind) => {
    expect(rateLimitKind(path)).toBe(kind);
  });
});
