import type { Collection, Db, Filter } from 'mongodb';
import { findByIds, isDuplicateKey, upsertRetryingDuplicate } from './database';
import { stableUuid } from './stable-uuid';

/**
 * A natural key (an organization's external id for a customer or a subscription) naming the `_id`
 * of the document it designates today. Lookups by natural key are then two reads by `_id`, which
 * every backend serves from an index (FerretDB on SQLite evaluates any other filter in Go over the
 * whole collection). Claiming a key is an insert: a unique `_id` is the one write FerretDB keeps
 * atomic under concurrency. See docs/scaling.md.
 */
export interface KeyDoc {
  _id: string;
  kind: KeyKind;
  organization_id: string;
  natural_key: string;
  target_id: string;
  created_at: Date;
}

export type KeyKind = 'customer' | 'subscription' | 'metric' | 'plan';

export function keys(db: Db) {
  return db.collection<KeyDoc>('keys');
}

export function keyId(kind: KeyKind, organizationId: string, naturalKey: string): string {
  return `${kind}:${stableUuid(JSON.stringify([kind, organizationId, naturalKey]))}`;
}

/** The `_id` the key names today, or null when nobody claimed it. */
export async function readKey(
  db: Db,
  kind: KeyKind,
  organizationId: string,
  naturalKey: string,
): Promise<string | null> {
  return (await readKeyDoc(db, kind, organizationId, naturalKey))?.target_id ?? null;
}

/** `readKey` of several keys by one read (`_id: {$in}`, served from the _id index), in order. */
export async function readKeys(
  db: Db,
  wanted: { kind: KeyKind; organizationId: string; naturalKey: string }[],
): Promise<(string | null)[]> {
  const ids = wanted.map((w) => keyId(w.kind, w.organizationId, w.naturalKey));
  const found = await findByIds(keys(db), ids);
  return ids.map((id) => found.get(id)?.target_id ?? null);
}

export async function readKeyDoc(
  db: Db,
  kind: KeyKind,
  organizationId: string,
  naturalKey: string,
): Promise<KeyDoc | null> {
  return keys(db).findOne({ _id: keyId(kind, organizationId, naturalKey) });
}

/**
 * Claims the key for `targetId` by inserting it. Returns the `_id` the key names after the call:
 * `targetId` when this call claimed it, the earlier claim's target otherwise.
 */
export async function claimKey(
  db: Db,
  kind: KeyKind,
  organizationId: string,
  naturalKey: string,
  targetId: string,
): Promise<string> {
  const _id = keyId(kind, organizationId, naturalKey);
  try {
    await keys(db).insertOne({
      _id,
      kind,
      organization_id: organizationId,
      natural_key: naturalKey,
      target_id: targetId,
      created_at: new Date(),
    });
    return targetId;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const found = await keys(db).findOne({ _id });
    // Released between our insert and this read: try once more from the start.
    return found ? found.target_id : claimKey(db, kind, organizationId, naturalKey, targetId);
  }
}

/** Releases the key if it still names `targetId` (a soft-deleted customer), so it can be claimed again. */
export async function releaseKey(
  db: Db,
  kind: KeyKind,
  organizationId: string,
  naturalKey: string,
  targetId: string,
): Promise<void> {
  await keys(db).deleteOne({ _id: keyId(kind, organizationId, naturalKey), target_id: targetId });
}

/**
 * Points the key at `targetId` whatever it named (repair: the document the key should name was
 * found by its indexed natural-key query). An upsert by `_id` alone.
 */
export async function pointKey(
  db: Db,
  kind: KeyKind,
  organizationId: string,
  naturalKey: string,
  targetId: string,
): Promise<void> {
  await upsertRetryingDuplicate(() =>
    keys(db).updateOne(
      { _id: keyId(kind, organizationId, naturalKey) },
      {
        $set: { target_id: targetId },
        $setOnInsert: {
          kind,
          organization_id: organizationId,
          natural_key: naturalKey,
          created_at: new Date(),
        },
      },
      { upsert: true },
    ),
  );
}

/** A catalog document named by a code that is unique among its organization's live documents. */
interface CodedDoc {
  _id: string;
  organization_id: string;
  code: string;
  deletion_key: string;
}

const LIVE_DELETION_KEY = '';

/**
 * The live document with this code (billable metrics, plans), by its key: two reads by `_id`. Writers
 * point the key before they insert or rename (`pointKey`) and release it after a delete, so a key
 * that is missing means no such code and costs nothing more; a key naming a document that is gone,
 * deleted or renamed (a crash or a lost race between the two writes) is repaired from the indexed
 * query, once.
 */
export async function findByCode<T extends CodedDoc>(
  db: Db,
  kind: 'metric' | 'plan',
  collection: Collection<T>,
  organizationId: string,
  code: string,
): Promise<T | null> {
  const targetId = await readKey(db, kind, organizationId, code);
  if (targetId === null) return null;
  const named = (await collection.findOne({ _id: targetId } as Filter<T>)) as T | null;
  if (
    named?.organization_id === organizationId &&
    named.code === code &&
    named.deletion_key === LIVE_DELETION_KEY
  )
    return named;
  const found = (await collection.findOne({
    organization_id: organizationId,
    code,
    deletion_key: LIVE_DELETION_KEY,
  } as Filter<T>)) as T | null;
  if (found) await pointKey(db, kind, organizationId, code, found._id);
  else await releaseKey(db, kind, organizationId, code, targetId);
  return found;
}
