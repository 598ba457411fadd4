import type { Collection, Db, Filter } from 'mongodb';
import {
  ID_RANGE_COMMENT,
  insertManyKeepingDuplicates,
  isDuplicateKey,
  onlyDuplicateKeys,
  retryWhileBusy,
} from './database';
import { nextSequence, sequenceTop, takeSequenceBlocks, type KnownTops } from './sequences';
import { stableUuid } from './stable-uuid';

/**
 * One row of a list read page by page (docs/scaling.md, "Lists"): `_id` =
 * `{list}:{stableUuid(scope)}:{9999999999999 - created_at ms, 13 digits}:{item _id}`, so a list is one
 * `_id` range, newest first, and a page is that range sorted by `_id` with skip and limit: the `_id`
 * index on MongoDB, the `id-range` pushdown on FerretDB (SQLite walks skip + limit index entries,
 * whatever the list's length). Item `_id`s are UUIDs or derived ids of plain ASCII.
 */
export interface ListEntryDoc {
  _id: string;
  item_id: string;
}

export type ListName =
  'events' | 'customers' | 'invoices' | 'subscriptions' | 'wallets' | 'wallet-transactions' | 'ongoing-usage';

const LATEST_MS = 9_999_999_999_999;

export function listEntries(db: Db) {
  return db.collection<ListEntryDoc>('list_entries');
}

/** The common start of one list's entry ids (ends with `:`). */
export function listPrefix(list: ListName, scope: string[]): string {
  return `${list}:${stableUuid(JSON.stringify([list, ...scope]))}:`;
}

export interface ListEntry {
  list: ListName;
  scope: string[];
  createdAt: Date;
  itemId: string;
}

function entryId(e: ListEntry): string {
  const inverted = String(LATEST_MS - e.createdAt.getTime()).padStart(13, '0');
  return `${listPrefix(e.list, e.scope)}${inverted}:${e.itemId}`;
}

/** Adds the entries (idempotent: an entry's `_id` follows from its item and creation time). */
export async function addListEntries(db: Db, entries: ListEntry[]): Promise<void> {
  if (entries.length === 0) return;
  // One unordered insert; entries already there (a retry) are refused one by one, the rest stored.
  const docs = entries.map((e) => ({ _id: entryId(e), item_id: e.itemId }));
  await retryWhileBusy(() => listEntries(db).insertMany(docs, { ordered: false })).catch((err) => {
    if (!onlyDuplicateKeys(err)) throw err;
  });
}

export async function removeListEntries(db: Db, entries: ListEntry[]): Promise<void> {
  for (const e of entries) await retryWhileBusy(() => listEntries(db).deleteOne({ _id: entryId(e) }));
}

/** The item ids of one page of a list, newest first. */
export async function readListPage(
  db: Db,
  list: ListName,
  scope: string[],
  page: { skip: number; limit: number },
): Promise<string[]> {
  return (await readListRows(db, list, scope, page)).map((r) => r.itemId);
}

/** The documents a page of item ids names, read by `_id` in the page's order (missing ones left out). */
export async function readItems<T extends { _id: string }>(
  collection: Collection<T>,
  ids: string[],
): Promise<T[]> {
  const docs = await Promise.all(ids.map((_id) => collection.findOne({ _id } as Filter<T>)));
  return docs.filter((d): d is NonNullable<typeof d> => d !== null) as T[];
}

interface ListRow {
  /** The entry's place in its list: `{inverted created_at}:{item id}` (newest first). */
  order: string;
  itemId: string;
}

async function readListRows(
  db: Db,
  list: ListName,
  scope: string[],
  page: { skip: number; limit: number },
): Promise<ListRow[]> {
  const prefix = listPrefix(list, scope);
  const docs = await listEntries(db)
    .find({ _id: { $gt: prefix, $lt: `${prefix.slice(0, -1)};` } })
    .sort({ _id: 1 })
    .skip(page.skip)
    .limit(page.limit)
    .comment(ID_RANGE_COMMENT)
    .toArray();
  return docs.map((d) => ({ order: d._id.slice(prefix.length), itemId: d.item_id }));
}

/**
 * One page of the union of several lists of the same kind (scopes differing in one part, such as a
 * status), newest first: each list's first `skip + limit` rows, merged. The cost follows the page's
 * position, never the lists' lengths. An item in two of the lists (moving between them) is given
 * once.
 */
export async function readMergedListPage(
  db: Db,
  list: ListName,
  scopes: string[][],
  page: { skip: number; limit: number },
): Promise<string[]> {
  if (scopes.length === 1) return readListPage(db, list, scopes[0]!, page);
  const rows = (
    await Promise.all(
      scopes.map((scope) => readListRows(db, list, scope, { skip: 0, limit: page.skip + page.limit })),
    )
  ).flat();
  rows.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  const seen = new Set<string>();
  const unique = rows.filter((r) => !seen.has(r.itemId) && seen.add(r.itemId));
  return unique.slice(page.skip, page.skip + page.limit).map((r) => r.itemId);
}

/*
 * Counted lists: a list whose items come and go (a subscription changing status, a wallet
 * transaction) keeps its length as two sequences, entries added and entries removed, each taken only
 * by the call whose insert or delete of the entry took effect, so retries and concurrent callers
 * count a move once. The length is their difference: two point reads (docs/scaling.md, "Lists").
 * Exact except after a crash between an entry's write and its sequence value.
 */
const countSequence = (way: 'in' | 'out', list: ListName, scope: string[]) =>
  `list-${way}:${listPrefix(list, scope).slice(0, -1)}`;

/** Adds an entry and counts it when this call added it; true when it did. */
export async function addCountedListEntry(db: Db, e: ListEntry): Promise<boolean> {
  try {
    await retryWhileBusy(() => listEntries(db).insertOne({ _id: entryId(e), item_id: e.itemId }));
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
  await nextSequence(db, countSequence('in', e.list, e.scope));
  return true;
}

/** Removes an entry and counts it when this call removed it; true when it did. */
export async function removeCountedListEntry(db: Db, e: ListEntry): Promise<boolean> {
  const { deletedCount } = await retryWhileBusy(() => listEntries(db).deleteOne({ _id: entryId(e) }));
  if (deletedCount !== 1) return false;
  await nextSequence(db, countSequence('out', e.list, e.scope));
  return true;
}

/** The number of entries of a counted list. */
export async function countedListLength(db: Db, list: ListName, scope: string[]): Promise<number> {
  const [added, removed] = await Promise.all([
    sequenceTop(db, countSequence('in', list, scope)),
    sequenceTop(db, countSequence('out', list, scope)),
  ]);
  return Math.max(0, added - removed);
}

/** Whether this entry is in its list (a point read). */
export async function hasListEntry(db: Db, e: ListEntry): Promise<boolean> {
  return (await listEntries(db).findOne({ _id: entryId(e) })) !== null;
}

/*
 * Bulk-counted lists, for items that never leave their list and arrive in batches (events): one
 * unordered insert of a batch's entries, and per list one block of its `list-bulk:` sequence for the
 * entries this call inserted (an entry already there, a retry's, is not counted again).
 */
const bulkCountSequence = (list: ListName, scope: string[]) =>
  `list-bulk:${listPrefix(list, scope).slice(0, -1)}`;

/** Adds the entries (idempotent) and counts, per list, those this call added. */
export async function addBulkCountedListEntries(db: Db, entries: ListEntry[]): Promise<void> {
  await countBulkListEntries(db, await insertBulkListEntries(db, entries));
}

/**
 * Adds the entries (idempotent); returns, per count sequence, how many this call added, for
 * `countBulkListEntries` (now, or later and coalesced: api/event-ingest.ts).
 */
export async function insertBulkListEntries(db: Db, entries: ListEntry[]): Promise<Map<string, number>> {
  const docs = entries.map((e) => ({ _id: entryId(e), item_id: e.itemId }));
  const duplicates = await insertManyKeepingDuplicates(listEntries(db), docs, 'list entry');
  const added = new Map<string, number>(); // count sequence name -> entries this call inserted
  entries.forEach((e, i) => {
    if (duplicates.has(i)) return; // written before: a retry's, counted then
    const name = bulkCountSequence(e.list, e.scope);
    added.set(name, (added.get(name) ?? 0) + 1);
  });
  return added;
}

/**
 * Counts entries `insertBulkListEntries` added: one sequence block per list, all claimed together
 * (`takeSequenceBlocks`: a few finds and one insert, whatever the number of lists; no find for the
 * lists whose tops `known` remembers).
 */
export async function countBulkListEntries(
  db: Db,
  added: ReadonlyMap<string, number>,
  known?: KnownTops,
): Promise<void> {
  await takeSequenceBlocks(db, added, known);
}

/** The number of entries of a bulk-counted list. */
export async function bulkCountedListLength(db: Db, list: ListName, scope: string[]): Promise<number> {
  return sequenceTop(db, bulkCountSequence(list, scope));
}
