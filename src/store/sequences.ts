import type { Db } from 'mongodb';
import {
  findByIds,
  insertManyKeepingDuplicates,
  isDuplicateKey,
  retryWhileBusy,
  upsertRetryingDuplicate,
} from './database';

/**
 * The legacy counter document (before slots). The migration `sequence-tops-2` raised every hint to
 * its counter's value, so numbering continues where it was without reading these again.
 */
export interface LegacySequenceDoc {
  _id: string;
  value: number;
}

export const legacySequences = (db: Db) => db.collection<LegacySequenceDoc>('sequences');

/** One taken value of a named sequence. Its `_id` is unique, so two callers can never take the same. */
interface SequenceSlotDoc {
  _id: string; // `{name}#{value}`
  name: string;
  value: number;
}

/**
 * The highest value known to be taken, per name: a hint read by `_id`, so taking the next value
 * needs no query over the slots (FerretDB on SQLite scans the whole collection for any filter other
 * than `_id`). Only the unique slot insert guarantees a value is taken once; a hint that lags (a
 * crash, or two updates at once, which FerretDB does not apply atomically) costs a few more probes.
 */
export interface SequenceTopDoc {
  _id: string; // name
  value: number;
}

export const slots = (db: Db) => db.collection<SequenceSlotDoc>('sequence_slots');
export const sequenceTops = (db: Db) => db.collection<SequenceTopDoc>('sequence_tops');

export async function ensureSequenceIndexes(db: Db): Promise<void> {
  await slots(db).createIndex({ name: 1, value: -1 });
}

/**
 * Next value of a named counter (customer sequential ids, invoice numbers). Values are taken by
 * inserting `{name}#{value}`: the unique `_id` makes a value impossible to hand out twice, and a
 * caller that loses a race probes the next one. (A `$inc` counter would be simpler, but FerretDB
 * does not apply concurrent updates of one document atomically: 200 parallel `$inc`s handed out 11
 * distinct values in test/integration/ferretdb-concurrency.test.ts.) The first value tried comes
 * from `sequence_tops` (the migrations `sequence-tops-1` and `-2` wrote it for sequences older than
 * it). Gap-free while nothing crashes between taking a value and using it, as before.
 */
export async function nextSequence(db: Db, name: string): Promise<number> {
  const top = await sequenceTops(db).findOne({ _id: name });
  let value = (top?.value ?? 0) + 1;
  for (;;) {
    try {
      await slots(db).insertOne({ _id: `${name}#${value}`, name, value });
      break;
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      value += 1; // taken by a concurrent caller (or the hint lags): probe the next one
    }
  }
  await raiseSequenceTop(db, name, value);
  return value;
}

/**
 * Takes `n` consecutive values of a named counter at once and returns the first (for counts that
 * grow by a batch: events listed by one ingest write). The block is claimed by inserting the slot of
 * its first value, holding its last as `value`; a caller that loses the race reads that slot and
 * tries again after its last value. Blocks start only where one ended (or at the top, which is
 * always a block's end), so blocks never overlap. A counter is taken either by blocks or by
 * `nextSequence`, never both.
 */
export async function takeSequenceBlock(db: Db, name: string, n: number): Promise<number> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`a block of ${n} values`);
  let first = (await sequenceTop(db, name)) + 1;
  for (;;) {
    const slot = { _id: `${name}#${first}`, name, value: first + n - 1 };
    try {
      await retryWhileBusy(() => slots(db).insertOne(slot));
      break;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const taken = await slots(db).findOne({ _id: slot._id });
      first = (taken?.value ?? first) + 1; // the block that won ends there
    }
  }
  await raiseSequenceTop(db, name, first + n - 1);
  return first;
}

/** `$max` upsert of the hint; two first upserts at once: one inserts, the other updates on retry. */
export async function raiseSequenceTop(db: Db, name: string, value: number): Promise<void> {
  await upsertRetryingDuplicate(() =>
    sequenceTops(db).updateOne({ _id: name }, { $max: { value } }, { upsert: true }),
  );
}

/**
 * The highest value taken so far (0 when none), exact: the hint, then the slots after it read by
 * `_id` until one is missing (the hint lags after a crash, or when two raises ran at once, which
 * FerretDB does not apply atomically; counts read here must not). A block's slot holds its last
 * value, so the walk steps over whole blocks. One point read more than the hint when it is current.
 */
export async function sequenceTop(db: Db, name: string): Promise<number> {
  const hint = await sequenceTops(db).findOne({ _id: name });
  let top = hint?.value ?? 0;
  for (;;) {
    const next = await slots(db).findOne({ _id: `${name}#${top + 1}` });
    if (!next) return top;
    top = next.value;
  }
}

/**
 * A hint this many slots behind its counter's top is raised by `takeSequenceBlocks`, so a reader
 * (`sequenceTop`) walks at most that many slots after it per taker process, one point read each.
 * Eight: a flush that remembers its tops (`KnownTops`) reads nothing, and raising hints is then its
 * only cost beside the slots (issue #14: at 1,000 subscriptions, raising at four slots held
 * FerretDB's writer about as long as claiming the slots).
 */
const HINT_MAX_LAG = 8;
/** At most this many counters are remembered by a `KnownTops` (then it starts over). */
const KNOWN_TOPS_MAX = 100_000;

/**
 * What one process knows of counters it takes blocks of (`takeSequenceBlocks`): the last value of
 * the last block it claimed, and how many slots it claimed since it last raised or read the hint.
 * The next block is then claimed at that top + 1 without reading anything: blocks start only where
 * one ended, so if another taker claimed a block since, that slot is taken and the insert is refused
 * (the block is then taken as when it loses a race, by reading). Never a wrong value, only a
 * refused insert when stale. Only for counters that, while this process lives, are never reset.
 */
export class KnownTops {
  private readonly tops = new Map<string, { top: number; lag: number }>();

  get(name: string): { top: number; lag: number } | undefined {
    return this.tops.get(name);
  }

  set(name: string, top: number, lag: number): void {
    if (this.tops.size >= KNOWN_TOPS_MAX && !this.tops.has(name)) this.tops.clear();
    this.tops.set(name, { top, lag });
  }

  forget(name: string): void {
    this.tops.delete(name);
  }
}

/**
 * `takeSequenceBlock` for many counters at once (the event counts of one ingest flush), at a cost
 * that does not grow with how many: the tops not in `known` are read with one find per round of the
 * walk (by `_id: {$in}`), every block's slot is claimed by one unordered insert, and a counter's
 * hint is raised only once it lags `HINT_MAX_LAG` slots (so `sequenceTop` walks at most that many
 * more), all such hints a few per command (`raiseSequenceTops`). A slot refused as taken (a
 * concurrent taker won it, or `known` was stale) is taken again by `takeSequenceBlock`; one refused
 * as busy is tried again. Any other failure throws: the blocks not claimed are not counted, as after
 * a crash, and `known` forgets their counters.
 */
export async function takeSequenceBlocks(
  db: Db,
  blocks: ReadonlyMap<string, number>,
  known?: KnownTops,
): Promise<void> {
  const names = [...blocks.keys()];
  if (names.length === 0) return;
  for (const [name, n] of blocks)
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`a block of ${n} values for ${name}`);
  const tops = new Map<string, { top: number; lag: number }>();
  const unknown: string[] = [];
  for (const name of names) {
    const k = known?.get(name);
    if (k) tops.set(name, { ...k });
    else unknown.push(name);
  }
  for (const [name, t] of await sequenceTopsOf(db, unknown)) tops.set(name, t);
  const claimed = names.map((name) => {
    const { top } = tops.get(name)!;
    return { _id: `${name}#${top + 1}`, name, value: top + blocks.get(name)! };
  });
  for (const name of names) known?.forget(name); // remembered again once claimed
  // Slots a concurrent taker won: taken again one by one (each raises its hint).
  const lost = await insertManyKeepingDuplicates(slots(db), claimed, 'sequence slot');
  for (const i of lost) {
    const name = names[i]!;
    const first = await takeSequenceBlock(db, name, blocks.get(name)!);
    known?.set(name, first + blocks.get(name)! - 1, 0);
  }
  const lagging = claimed.filter((slot, i) => !lost.has(i) && tops.get(slot.name)!.lag + 1 >= HINT_MAX_LAG);
  await raiseSequenceTops(db, lagging);
  claimed.forEach((slot, i) => {
    if (lost.has(i)) return;
    const lag = tops.get(slot.name)!.lag + 1;
    known?.set(slot.name, slot.value, lag >= HINT_MAX_LAG ? 0 : lag);
  });
}

/**
 * Update statements per command of `raiseSequenceTops`. FerretDB 1.24 (SQLite) keeps the query of
 * every statement of an update command open until the whole command ends (a `defer` inside its loop
 * over the statements, internal/handler/msg_update.go), each holding one of the database's 100
 * connections, and a statement that matched a document leaves its query unfinished: a command of 100
 * such statements waited for a connection it held itself, and every other command on the database
 * waited behind it, for ever (the ingest benchmark hung at 100 subscriptions; a goroutine dump showed
 * the open queries). Sixteen per command leave room for several such commands at once.
 */
const HINTS_PER_COMMAND = 16;

/**
 * `raiseSequenceTop` of many hints, `HINTS_PER_COMMAND` unordered `$max` upserts per update command,
 * one command at a time (issue #14: an ingest flush over 1,000 subscriptions raised its hints by
 * 1,000 commands, queued behind each other on FerretDB's one writer). A statement refused (two first
 * upserts of a hint at once, or SQLite busy) is tried again on its own.
 */
export async function raiseSequenceTops(db: Db, tops: { name: string; value: number }[]): Promise<void> {
  for (let i = 0; i < tops.length; i += HINTS_PER_COMMAND) {
    const chunk = tops.slice(i, i + HINTS_PER_COMMAND);
    let refused: number[] = [];
    try {
      await sequenceTops(db).bulkWrite(
        chunk.map(({ name, value }) => ({
          updateOne: { filter: { _id: name }, update: { $max: { value } }, upsert: true },
        })),
        { ordered: false },
      );
    } catch (err) {
      const writeErrors = (err as { writeErrors?: unknown }).writeErrors;
      if (!writeErrors) throw err;
      refused = [writeErrors]
        .flat()
        .map((w) => (w as { index?: unknown }).index)
        .filter((k): k is number => typeof k === 'number');
      if (refused.length === 0) throw err;
    }
    for (const k of refused)
      await retryWhileBusy(() => raiseSequenceTop(db, chunk[k]!.name, chunk[k]!.value));
  }
}

/** `sequenceTop` of many counters, each with how many slots its hint lags (reads batched by round). */
async function sequenceTopsOf(db: Db, names: string[]): Promise<Map<string, { top: number; lag: number }>> {
  if (names.length === 0) return new Map();
  const hints = await findByIds(sequenceTops(db), names);
  const tops = new Map(names.map((name) => [name, { top: hints.get(name)?.value ?? 0, lag: 0 }]));
  let open = names;
  while (open.length > 0) {
    const found = await findByIds(
      slots(db),
      open.map((name) => `${name}#${tops.get(name)!.top + 1}`),
    );
    open = open.filter((name) => {
      const t = tops.get(name)!;
      const next = found.get(`${name}#${t.top + 1}`);
      if (!next) return false;
      t.top = next.value;
      t.lag++;
      return true;
    });
  }
  return tops;
}
