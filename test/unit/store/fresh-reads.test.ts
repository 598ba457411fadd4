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
