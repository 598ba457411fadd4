import { GroupCommit } from '../../../src/store/group-commit';

describe('GroupCommit', () => {
  it('writes what is added while a round runs as the next round, each caller resolved after its round', async () => {
    const rounds: number[][] = [];
    let release: (() => void) | null = null;
    const group = new GroupCommit<number>(async (items) => {
      rounds.push(items);
      if (rounds.length === 1) await new Promise<void>((r) => (release = r));
    });
    const first = group.add([1]);
    const later = [group.add([2, 3]), group.add([]), group.add([4])];
    await Promise.resolve();
    expect(rounds).toEqual([[1]]);
    release!();
    await Promise.all([first, ...later]);
    expect(rounds).toEqual([[1], [2, 3, 4]]);
  });

  it('never splits a caller and keeps a round within its size unless one caller is larger', async () => {
    const rounds: number[][] = [];
    let release: (() => void) | null = null;
    const group = new GroupCommit<number>(async (items) => {
      rounds.push(items);
      if (rounds.length === 1) await new Promise<void>((r) => (release = r));
    }, 3);
    const all = [group.add([0]), group.add([1, 2]), group.add([3, 4]), group.add([5, 6, 7, 8])];
    release!();
    await Promise.all(all);
    expect(rounds).toEqual([[0], [1, 2], [3, 4], [5, 6, 7, 8]]);
  });

  it('rejects every caller of a failed round and goes on with the next', async () => {
    let calls = 0;
    let release: (() => void) | null = null;
    const group = new GroupCommit<string>(async (items) => {
      calls++;
      if (calls === 1) await new Promise<void>((r) => (release = r));
      if (items.includes('bad')) throw new Error('refused');
    });
    const first = group.add(['ok']);
    const failing = [group.add(['bad']), group.add(['also in the round'])];
    const settled = Promise.allSettled(failing);
    release!();
    await first;
    expect((await settled).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(group.add(['fine'])).resolves.toBeUndefined();
    expect(calls).toBe(3);
  });
});
