/**
 * API key lifecycle through the shipped `npm run -s api-key` command (dist/cli/api-key.js, built by
 * `npm test`) against FerretDB, and two API processes (two apps on the same database) answering
 * with those keys: several keys per organization, a list without secrets, and a revocation that
 * every process honours on its next request.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import type { Express } from 'express';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app';
import { ensureIndexes } from '../../src/store/indexes';
import { apiKeys, hashApiKey } from '../../src/store/api-keys';
import { ensureDefaultOrganization } from '../../src/store/default-organization';
import { createOrganization } from '../../src/store/organizations';
import { startMongo, type TestMongo } from '../support/services';

const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'api-key.js');

describe('API keys: several per organization, listed without secrets, revoked at once everywhere', () => {
  let mongo: TestMongo;
  let dataDir: string;
  let processes: Express[];
  beforeAll(async () => {
    mongo = await startMongo();
    await ensureIndexes(mongo.database.db);
    dataDir = mkdtempSync(join(tmpdir(), 'prorata-keys-'));
    const connection = Connection.lazy({ address: '127.0.0.1:1' });
    processes = [0, 1].map(() =>
      createApp({
        db: mongo.database.db,
        temporal: { client: new Client({ connection }), connection },
        taskQueue: 'unused',
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await mongo?.stop();
  });

  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
        env: { ...process.env, MONGODB_URI: mongo.uri, MONGODB_DB: mongo.dbName, PRORATA_DATA_DIR: dataDir },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const statusWith = (app: Express, key: string) =>
    request(app)
      .get('/api/v1/customers')
      .set('Authorization', `Bearer ${key}`)
      .then((r) => r.status);
  const everywhere = (key: string) => Promise.all(processes.map((app) => statusWith(app, key)));

  it('creates a second key, lists both without the secrets, and revokes one: 401 at once in every process', async () => {
    const { organization, apiKey: first } = await createOrganization(mongo.database.db, 'Acme');
    const created = await cli('--create-key', '--organization', organization._id, '--name', 'ci');
    expect(created.code).toBe(0);
    const second = created.stdout.trim();
    expect(second).toMatch(/^prorata_[0-9a-f]{48}$/);
    expect(await everywhere(first)).toEqual([200, 200]);
    expect(await everywhere(second)).toEqual([200, 200]);

    const listed = await cli('--list', '--organization', organization._id);
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(first);
    expect(listed.stdout).not.toContain(second);
    const rows = listed.stdout.trim().split('\n').slice(1);
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.split(/\s+/)[4])).toEqual(['default', 'ci']);
    expect(rows.every((r) => r.includes('active'))).toBe(true);
    const hashes = (
      await apiKeys(mongo.database.db).find({ organization_id: organization._id }).toArray()
    ).map((k) => k._id);
    for (const hash of hashes) expect(listed.stdout).not.toContain(hash);
    const firstId = rows[0]!.split(/\s+/)[0]!;
    expect(created.stderr).toContain(rows[1]!.split(/\s+/)[0]!);

    const revoked = await cli('--revoke', firstId);
    expect(revoked.code).toBe(0);
    expect(await everywhere(first)).toEqual([401, 401]);
    expect(await everywhere(second)).toEqual([200, 200]);
    const after = await cli('--list', '--organization', organization._id);
    expect(after.stdout).toMatch(new RegExp(`${firstId}.*revoked \\d{4}-\\d\\d-\\d\\dT`));
    expect(await cli('--revoke', 'ffffffffffffffff')).toMatchObject({
      code: 1,
      stderr: 'no key ffffffffffffffff\n',
    });
    expect(await cli('--revoke', second)).toMatchObject({ code: 2 });
    expect(await everywhere(second)).toEqual([200, 200]);
  }, 60_000); // four CLI processes: Node starts take seconds on a busy machine

  it('rotates the default organization key: --create-key becomes the printed key, the old one is revoked', async () => {
    const keyFile = join(dataDir, 'default-api-key');
    const { apiKey: old } = await ensureDefaultOrganization(mongo.database.db, keyFile);
    const fresh = (await cli('--create-key')).stdout.trim();
    expect((await cli()).stdout.trim()).toBe(fresh);
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(fresh);
    const id = hashApiKey(old).slice(0, 16);
    expect((await cli('--list')).stdout).toMatch(new RegExp(`^${id}  \\S+  \\S+  active  default$`, 'm'));
    expect((await cli('--revoke', id)).code).toBe(0);
    expect(await everywhere(old)).toEqual([401, 401]);
    expect(await everywhere(fresh)).toEqual([200, 200]);
    // The next start keeps the organization and its new key.
    expect(await ensureDefaultOrganization(mongo.database.db, keyFile)).toEqual({
      apiKey: fresh,
      created: false,
    });
  }, 60_000);
});
