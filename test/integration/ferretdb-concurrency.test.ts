/**
 * What prorata relies on from its MongoDB server under concurrency, checked on FerretDB: a sequence
 * never hands out the same value twice, whatever the number of connections racing for it. And what
 * it must not rely on: FerretDB may lose one of two concurrent updates of one document, so every
 * document prorata updates concurrently has a single writer (wallets vs wallet_ongoing).
 */
import { MongoClient } from 'mongodb';
import { startMongo, type TestMongo } from '../support/services';
import { ensureIndexes } from '../../src/store/indexes';
import { nextSequence } from '../../src/store/sequences';

describe('FerretDB under concurrent writers', () => {
  let mongo: TestMongo;
  const clients: MongoClient[] = [];
  beforeAll(async () => {
    mongo = await startMongo();
    await ensureIndexes(mongo.database.db);
    for (let i = 0; i < 4; i++) clients.push(await MongoClient.connect(mongo.uri));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await mongo?.stop();
  });

  it('hands out each sequence value once across connections (50 callers at once)', async () => {
    const dbName = mongo.database.db.databaseName;
    const values = await Promise.all(
      Array.from({ length: 50 }, (_, i) => nextSequence(clients[i % clients.length]!.db(dbName), 'probe')),
    );
    expect(new Set(values).size).toBe(50);
    expect(Math.max(...values)).toBe(50);
    expect(await nextSequence(mongo.database.db, 'probe')).toBe(51);
  }, 60_000);

  it('may lose one of two concurrent updates of one document (so prorata never relies on it)', async () => {
    const dbName = mongo.database.db.databaseName;
    const coll = (i: number) => clients[i % clients.length]!.db(dbName).collection<{ _id: string }>('probe');
    await coll(0).insertOne({ _id: 'd' });
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => coll(i).updateOne({ _id: 'd' }, { $set: { [`f${i}`]: i } })),
    );
    const kept = Object.keys((await coll(0).findOne({ _id: 'd' })) as object).length - 1;
    // MongoDB keeps all 100 fields; FerretDB 1.24 on SQLite kept 2 to 5 in our runs. Both pass: this
    // documents why the single-writer rule exists.
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(100);
  });
});
