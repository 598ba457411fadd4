import {
  MongoClient,
  type Collection,
  type Db,
  type Document,
  type Filter,
  type OptionalUnlessRequiredId,
} from 'mongodb';

export interface Database {
  /**
   * The database of the process's current client. It stays the same object when a stuck client is
   * replaced (`replaceStuckClient`), so take collections from it per operation, never keep one.
   */
  db: Db;
  /** The current client (replaced when stuck). */
  readonly client: MongoClient;
  close(): Promise<void>;
}

/**
 * Connections per process unless MONGODB_URI sets `maxPoolSize`: FerretDB (SQLite) deadlocks when
 * its 100 SQLite connections are all held by in-flight updates (each holds two), so the API, the
 * worker and a tool together stay below 50 commands at once. Raise it in the URI on real MongoDB.
 */
export const DEFAULT_MAX_POOL_SIZE = 16;

/** How often a long-running process checks that its client still reaches the database. */
export const CLIENT_CHECK_INTERVAL_MS = 5_000;
/** Consecutive failed pings (errors, not slow answers) before a new client is tried. */
export const CLIENT_STUCK_AFTER_CHECKS = 6;
/** A ping slower than this is "busy", never "failed": a loaded database must not cost its client. */
const CLIENT_PING_PATIENCE_MS = 30_000;
/** At most one replacement per this long. */
const CLIENT_REPLACEMENT_PAUSE_MS = 60_000;
/** A replaced client is closed this long after (its operations were failing anyway). */
const REPLACED_CLIENT_GRACE_MS = 10_000;

/** 'answered', 'failed' (the driver gave an error) or 'busy' (no answer within the patience). */
async function pingOutcome(db: Db): Promise<'answered' | 'failed' | 'busy'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      pingDatabase(db).then(() => 'answered' as const),
      new Promise<'busy'>((ok) => (timer = setTimeout(() => ok('busy'), CLIENT_PING_PATIENCE_MS))),
    ]);
  } catch {
    return 'failed';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One MongoClient per process. Short server-selection timeout so a dead database turns into a
 * quick 503 rather than a hung request.
 *
 * `replaceStuckClient` (the API and the worker): after FerretDB was stopped and restarted, the
 * driver (mongodb 7.9) sometimes never reconnected: every operation failed with the same
 * "connection N ... closed" error while a new client reached the same server at once (found by the
 * dependency-restart drill). So a process that runs for long checks its client every
 * `CLIENT_CHECK_INTERVAL_MS`; after `CLIENT_STUCK_AFTER_CHECKS` pings in a row that failed with
 * an error it opens a new client, and only if that one answers does it take its place (a database
 * that is really down keeps the old client, which reconnects by itself once it is back). A slow
 * ping never counts: under a loaded FerretDB the pool's queue delays it, and a first version that
 * counted slow pings replaced clients over and over (each new pool added load, each closed one
 * interrupted requests).
 */
export async function connectDatabase(
  uri: string,
  dbName: string,
  options: { replaceStuckClient?: boolean | { intervalMs: number; afterChecks: number } } = {},
): Promise<Database> {
  const open = async () => {
    const profiling = process.env.PRORATA_DB_PROFILE === '1';
    const client = new MongoClient(uri, {
      serverSelectionTimeoutMS: 5_000,
      connectTimeoutMS: 5_000,
      ...(/[?&]maxPoolSize=/i.test(uri) ? {} : { maxPoolSize: DEFAULT_MAX_POOL_SIZE }),
      ...(profiling ? { monitorCommands: true } : {}),
    });
    if (profiling) profileCommands(client);
    await client.connect();
    return { client, db: client.db(dbName) };
  };
  let current = await open();
  const db = new Proxy({} as Db, {
    get(_target, prop) {
      const value: unknown = Reflect.get(current.db, prop, current.db);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(current.db) : value;
    },
  });

  const { intervalMs, afterChecks } =
    typeof options.replaceStuckClient === 'object'
      ? options.replaceStuckClient
      : { intervalMs: CLIENT_CHECK_INTERVAL_MS, afterChecks: CLIENT_STUCK_AFTER_CHECKS };
  let failures = 0;
  let checking = false;
  let replacedAt = 0;
  const check = async () => {
    if (checking) return;
    checking = true;
    try {
      const outcome = await pingOutcome(current.client.db(dbName));
      if (outcome !== 'failed') {
        // Answered, or slow because the database is loaded: either way this client is not stuck.
        failures = 0;
        return;
      }
      if (++failures < afterChecks || Date.now() - replacedAt < CLIENT_REPLACEMENT_PAUSE_MS) return;
      const fresh = await open().catch(() => null);
      if (!fresh) return; // the database itself is unreachable: nothing to replace yet
      if ((await pingOutcome(fresh.db)) !== 'answered') {
        await fresh.client.close(true).catch(() => undefined);
        return;
      }
      const old = current.client;
      current = fresh;
      replacedAt = Date.now();
      console.warn(
        `[db] every ping through this MongoDB client failed ${failures} times in a row while a new ` +
          'client reaches the database: replaced the client',
      );
      failures = 0;
      setTimeout(() => void old.close(true).catch(() => undefined), REPLACED_CLIENT_GRACE_MS).unref();
    } finally {
      checking = false;
    }
  };
  const timer = options.replaceStuckClient ? setInterval(() => void check(), intervalMs) : null;
  timer?.unref();

  return {
    db,
    get client() {
      return current.client;
    },
    async close() {
      if (timer) clearInterval(timer);
      await current.client.close();
    },
  };
}

export async function pingDatabase(db: Db): Promise<void> {
  await db.command({ ping: 1 });
}

/**
 * A unique-index violation. MongoDB and FerretDB answer 11000 to inserts and upserts, but FerretDB
 * 1.24 (SQLite) answers an update that breaks a unique index with code 1 (InternalError) and
 * SQLite's "UNIQUE constraint failed" message.
 */
export function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: number; message?: string } | null;
  return e?.code === 11000 || (e?.code === 1 && /UNIQUE constraint failed/.test(e.message ?? ''));
}

/**
 * The batch indexes an unordered insertMany refused, when every refusal is a duplicate key;
 * null when the error is anything else (the database is down, say).
 */
export function writeErrorIndexes(err: unknown): number[] | null {
  const writeErrors = (err as { writeErrors?: unknown } | null)?.writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  if (list.length === 0) return null;
  const indexes: number[] = [];
  for (const w of list as { index?: unknown; code?: unknown; errmsg?: unknown }[]) {
    if (typeof w.index !== 'number' || !isDuplicateKey({ code: w.code, message: w.errmsg })) return null;
    indexes.push(w.index);
  }
  return indexes;
}

/**
 * One unordered `insertMany` of `docs`, the documents SQLite refused as busy tried again (up to 20
 * times, after a short random pause): returns the indexes refused as duplicate keys (all the others
 * are stored). Throws on any other refusal, naming `what`.
 */
export async function insertManyKeepingDuplicates<T extends Document>(
  collection: Collection<T>,
  docs: OptionalUnlessRequiredId<T>[],
  what: string,
): Promise<Set<number>> {
  const duplicates = new Set<number>();
  let pending = docs.map((_, i) => i);
  for (let attempt = 1; pending.length > 0; attempt++) {
    const failed = new Map<number, unknown>();
    try {
      await collection.insertMany(
        pending.map((i) => docs[i]!),
        { ordered: false },
      );
    } catch (err) {
      const writeErrors = (err as { writeErrors?: { index: number; errmsg?: string; code?: number }[] })
        .writeErrors;
      if (!writeErrors) throw err;
      for (const w of [writeErrors].flat()) failed.set(w.index, { code: w.code, message: w.errmsg });
    }
    const retry: number[] = [];
    pending.forEach((i, k) => {
      const error = failed.get(k);
      if (error === undefined) return;
      if (isDuplicateKey(error)) duplicates.add(i);
      else if (isSqliteBusy(error) && attempt < 20)
        retry.push(i); // not written: try it again
      else throw Object.assign(new Error(`${what} insert failed`), { cause: error });
    });
    pending = retry;
    if (pending.length > 0) await new Promise((r) => setTimeout(r, 2 + Math.random() * 20));
  }
  return duplicates;
}

/**
 * Whether an unordered `insertMany` failed only on duplicate keys (every write error one, or the
 * error itself when it carries none): what was not a duplicate was stored.
 */
export function onlyDuplicateKeys(err: unknown): boolean {
  const writeErrors = (err as { writeErrors?: unknown } | null)?.writeErrors;
  const list = (Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : []) as {
    code?: number;
    errmsg?: string;
  }[];
  if (list.length === 0) return isDuplicateKey(err);
  return list.every((w) => isDuplicateKey({ code: w.code, message: w.errmsg }));
}

/**
 * Most `_id`s named by one `{_id: {$in: [...]}}` filter. FerretDB as built here
 * (scripts/ferretdb-id-in.patch) serves up to 10,000 strings from its _id index, as MongoDB does,
 * and writes what one update command modifies in one transaction: so settling a page of events
 * costs one command and one commit, not one per event.
 *
 * Never a bulk write of many statements instead: FerretDB 1.24 (SQLite) keeps one pooled SQLite
 * connection open for every statement of an update or delete command until the whole command ends,
 * and needs one more to write; its pool holds 100. One command of 100 statements never answered
 * (99 took 0.3 s; the stuck one held the write lock), nor did two concurrent commands of 50.
 */
export const MAX_IDS_PER_COMMAND = 1_000;

/**
 * Runs `write` on `ids` in chunks of `MAX_IDS_PER_COMMAND`, one after another, each retried while
 * SQLite is busy (idempotent writes only: an update by `$set`, a delete).
 */
export async function writeByIds(ids: string[], write: (chunk: string[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < ids.length; i += MAX_IDS_PER_COMMAND) {
    const chunk = ids.slice(i, i + MAX_IDS_PER_COMMAND);
    await retryWhileBusy(() => write(chunk));
  }
}

/** Documents by `_id`, one find per `MAX_IDS_PER_COMMAND` ids (served from the _id index). */
export async function findByIds<T extends { _id: string }>(
  collection: Collection<T>,
  ids: readonly string[],
): Promise<Map<string, T>> {
  const found = new Map<string, T>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += MAX_IDS_PER_COMMAND) {
    const chunk = unique.slice(i, i + MAX_IDS_PER_COMMAND);
    const docs = (await collection.find({ _id: { $in: chunk } } as Filter<T>).toArray()) as T[];
    for (const doc of docs) found.set(doc._id, doc);
  }
  return found;
}

/**
 * FerretDB on SQLite (WAL) answers SQLITE_BUSY at once, without waiting, when another writer
 * committed while an update waited for the write lock. The write did not happen: it is tried again
 * after a short random pause (idempotent writes only), up to `attempts` times.
 */
export async function retryWhileBusy<T>(write: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (attempt >= attempts || !isSqliteBusy(err)) throw err;
      await new Promise((r) => setTimeout(r, 2 + Math.random() * 10 * Math.min(attempt, 5)));
    }
  }
}

export function isSqliteBusy(err: unknown): boolean {
  return /SQLITE_BUSY|database is locked/.test((err as { message?: string } | null)?.message ?? '');
}

/**
 * The comment that asks the patched FerretDB to push an `_id`-range query's sort and limit down to
 * SQLite (`id-range` in scripts/install-services.sh): the caller vouches that the `_id`s of the range
 * are plain ASCII (`[0-9a-z:-]`), whose JSON text sorts as the strings do. MongoDB ignores it.
 */
export const ID_RANGE_COMMENT = 'prorata:id-range';

/**
 * An upsert by `_id` that two callers may run at once for a new `_id`: both try to insert, one gets a
 * duplicate-key error (FerretDB does not retry it as MongoDB 4.2+ does); run once more, it updates.
 */
export async function upsertRetryingDuplicate<T>(upsert: () => Promise<T>): Promise<T> {
  try {
    return await upsert();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return upsert();
  }
}

/**
 * PRORATA_DB_PROFILE=1: every `PRORATA_DB_PROFILE_MS` (10 s unless set), this process's database
 * commands in that interval, per command and collection: how many, documents written, and
 * milliseconds from send to answer (issue #14's profiles: what each accepted event or invoice costs
 * the database), stamped with the time so that one benchmark row can be picked out. Logged to
 * stderr; quiet intervals print nothing.
 */
function profileCommands(client: MongoClient): void {
  const started = new Map<number, { key: string; docs: number; at: number }>();
  let totals = new Map<string, { commands: number; docs: number; ms: number }>();
  client.on('commandStarted', (e) => {
    const name = e.commandName;
    if (name === 'hello' || name === 'isMaster' || name === 'ping' || name === 'endSessions') return;
    const cmd = e.command as Record<string, unknown>;
    const docs =
      (cmd.documents as unknown[] | undefined)?.length ??
      (cmd.updates as unknown[] | undefined)?.length ??
      (cmd.deletes as unknown[] | undefined)?.length ??
      0;
    const target = name === 'getMore' ? String(cmd.collection) : String(cmd[name]);
    started.set(e.requestId, { key: `${name} ${target}`, docs, at: performance.now() });
  });
  const done = (e: { requestId: number }) => {
    const s = started.get(e.requestId);
    if (!s) return;
    started.delete(e.requestId);
    const t = totals.get(s.key) ?? { commands: 0, docs: 0, ms: 0 };
    t.commands++;
    t.docs += s.docs;
    t.ms += performance.now() - s.at;
    totals.set(s.key, t);
  };
  client.on('commandSucceeded', done);
  client.on('commandFailed', done);
  const intervalMs = Number(process.env.PRORATA_DB_PROFILE_MS ?? 10_000);
  setInterval(() => {
    if (totals.size === 0) return;
    const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
    totals = new Map();
    console.error(
      `[db-profile ${new Date().toISOString()}] ${rows.map(([k, t]) => `${k}: ${t.commands} cmds, ${t.docs} docs, ${Math.round(t.ms)} ms`).join('; ')}`,
    );
  }, intervalMs).unref();
}
