/**
 * Group commit: writes asked for while an earlier one runs wait, then go together as the next one,
 * so concurrent callers cost one round of commands (one SQLite commit each) instead of one round
 * each. `add` resolves once its items are written, and rejects, with every item of its round, when
 * the round fails: only idempotent writes belong here (a caller retries its own items).
 */
export class GroupCommit<T> {
  private queue: { items: T[]; ok: () => void; fail: (err: unknown) => void }[] = [];
  private running = false;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    /** Most items in one round (a single caller's items are never split). */
    private readonly maxItems = 1_000,
  ) {}

  add(items: T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return new Promise<void>((ok, fail) => {
      this.queue.push({ items, ok, fail });
      this.pump();
    });
  }

  private pump(): void {
    if (this.running || this.queue.length === 0) return;
    let size = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || size + this.queue[n]!.items.length <= this.maxItems))
      size += this.queue[n++]!.items.length;
    const round = this.queue.splice(0, n);
    this.running = true;
    void this.write(round.flatMap((e) => e.items))
      .then(
        () => round.forEach((e) => e.ok()),
        (err: unknown) => round.forEach((e) => e.fail(err)),
      )
      .finally(() => {
        this.running = false;
        this.pump();
      });
  }
}
