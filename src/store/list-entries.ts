import type { Db } from 'mongodb';
import { ID_RANGE_COMMENT, isDuplicateKey, retryWhileBusy } from './database';
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

export type ListName = 'customers' | 'invoices';

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
  for (const e of entries) {
    await retryWhileBusy(() => listEntries(db).insertOne({ _id: entryId(e), item_id: e.itemId })).catch(
      (err) => {
        if (!isDuplicateKey(err)) throw err;
      },
    );
  }
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
  const prefix = listPrefix(list, scope);
  const docs = await listEntries(db)
    .find({ _id: { $gt: prefix, $lt: `${prefix.slice(0, -1)};` } })
    .sort({ _id: 1 })
    .skip(page.skip)
    .limit(page.limit)
    .comment(ID_RANGE_COMMENT)
    .toArray();
  return docs.map((d) => d.item_id);
}
