/**
 * Shared point reads that are never stale: a caller gets the result of a read that started after it
 * asked. Up to `maxInFlight` reads of a key run at once, each started by a caller that found a free
 * place; callers that find none wait for the next read, which starts as soon as a running one ends
 * and answers all of them. So concurrent callers cost about `maxInFlight + 1` reads per read's
 * duration, not one each, and a write committed before a caller asked (an API key revoked, an event
 * acknowledged) is always seen.
 *
 * With one read in flight, a caller that arrives just after a read started waits for it and then for
 * a whole read: about 1.5 reads on average. With two, a caller mostly starts its own at once.
 */
export class FreshReads<V> {
  private readonly keys = new Map<string, { running: number; next: Deferred<V> | null }>();

  constructor(
    private readonly read: (key: string) => Promise<V>,
    private readonly maxInFlight = 1,
  ) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight ${maxInFlight}`);
  }

  get(key: string): Promise<V> {
    let state = this.keys.get(key);
    if (!state) this.keys.set(key, (state = { running: 0, next: null }));
    if (state.running < this.maxInFlight) return this.start(key, state);
    // Every place is taken by a read that may have started before this call: wait for the next one.
    state.next ??= deferred<V>();
    return state.next.promise;
  }

  private start(key: string, state: { running: number; next: Deferred<V> | null }): Promise<V> {
    state.running++;
    const running = this.read(key);
    const done = () => {
      state.running--;
      const waiting = state.next;
      if (waiting) {
        // Callers queued meanwhile share a read that starts now; later callers queue anew.
        state.next = null;
        this.start(key, state).then(waiting.resolve, waiting.reject);
      } else if (state.running === 0) this.keys.delete(key);
    };
    running.then(done, done);
    return running;
  }
}

interface Deferred<V> {
  promise: Promise<V>;
  resolve: (value: V) => void;
  reject: (reason: unknown) => void;
}

function deferred<V>(): Deferred<V> {
  let resolve!: (value: V) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<V>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}
