/**
 * Shared point reads that are never stale: a caller gets the result of a read that started after it
 * asked. While a read of a key runs, callers of that key wait for the next one, which starts when it
 * ends and answers all of them; so concurrent callers cost about two reads per read's duration, not
 * one each, and a write committed before a caller asked (an API key revoked) is always seen.
 */
export class FreshReads<V> {
  private readonly reads = new Map<string, { running: Promise<V>; next: Promise<V> | null }>();

  constructor(private readonly read: (key: string) => Promise<V>) {}

  get(key: string): Promise<V> {
    const current = this.reads.get(key);
    if (!current) return this.start(key);
    // The running read may have started before this call: wait for the next one.
    const startNext = () => this.start(key);
    current.next ??= current.running.then(startNext, startNext);
    return current.next;
  }

  private start(key: string): Promise<V> {
    const entry: { running: Promise<V>; next: Promise<V> | null } = {
      running: this.read(key),
      next: null,
    };
    this.reads.set(key, entry);
    const done = () => {
      // Callers queued meanwhile start the next read (which replaces this entry); else forget it.
      if (this.reads.get(key) === entry && !entry.next) this.reads.delete(key);
    };
    entry.running.then(done, done);
    return entry.running;
  }
}
