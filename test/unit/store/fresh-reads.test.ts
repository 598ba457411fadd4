import { FreshReads } from '../../../src/store/fresh-reads';

describe('FreshReads', () => {
  it('answers every caller from a read that started after it asked, sharing reads among waiting callers', async () => {
    let stored = 'v1';
    const started: string[] = [];
    const finish: (() => void)[] = [];
    const reads = new FreshReads(async (key) => {
      const seen = stored;
      started.push(key);
      await new Promise<void>((r) => finish.push(r));
      return `${key}=${seen}`;
    });
    const first = reads.get('k');
    stored = 'v2'; // written after the first read started, before the next callers asked
    const later = [reads.get('k'), reads.get('k'), reads.get('k')];
    expect(started).toEqual(['k']);
    finish.shift()!();
    expect(await first).toBe('k=v1');
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['k', 'k']); // one read for the three that waited
    finish.shift()!();
    expect(await Promise.all(later)).toEqual(['k=v2', 'k=v2', 'k=v2']);
    // Nothing running: the next caller starts its own read at once.
    const alone = reads.get('k');
    expect(started).toHaveLength(3);
    finish.shift()!();
    expect(await alone).toBe('k=v2');
  });

  it('with two in flight, starts a second read at once and queues later callers for the next one', async () => {
    let stored = 'v1';
    const started: string[] = [];
    const finish: (() => void)[] = [];
    const reads = new FreshReads(async (key) => {
      const seen = stored;
      started.push(seen);
      await new Promise<void>((r) => finish.push(r));
      return `${key}=${seen}`;
    }, 2);
    const first = reads.get('k');
    stored = 'v2';
    const second = reads.get('k'); // a free place: its own read, which sees v2
    expect(started).toEqual(['v1', 'v2']);
    stored = 'v3'; // written after both reads started, before the next callers asked
    const later = [reads.get('k'), reads.get('k')];
    expect(started).toHaveLength(2); // both places taken: they wait
    finish.shift()!(); // the first read ends: the waiting callers' read starts
    expect(await first).toBe('k=v1');
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['v1', 'v2', 'v3']);
    const afterIt = reads.get('k'); // the waiting read started before this call: queued anew
    expect(started).toHaveLength(3);
    finish.shift()!();
    expect(await second).toBe('k=v2');
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['v1', 'v2', 'v3', 'v3']);
    finish.shift()!();
    finish.shift()!();
    expect(await Promise.all(later)).toEqual(['k=v3', 'k=v3']);
    expect(await afterIt).toBe('k=v3');
    // A failed read fails only its own callers; the key is free again afterwards.
    const failing = new FreshReads(async (key) => {
      if (key === 'bad') throw new Error('down');
      return key;
    }, 2);
    await expect(Promise.all([failing.get('bad'), failing.get('bad'), failing.get('bad')])).rejects.toThrow(
      'down',
    );
    expect(await failing.get('good')).toBe('good');
  });

  it('keeps keys apart and passes a failed read to its callers only', async () => {
    let fail = true;
    const reads = new FreshReads(async (key) => {
      if (key === 'bad' && fail) throw new Error('down');
      return key;
    });
    await expect(reads.get('bad')).rejects.toThrow('down');
    expect(await reads.get('good')).toBe('good');
    fail = false;
    expect(await reads.get('bad')).toBe('bad');
  });
});
