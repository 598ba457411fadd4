/**
 * `npm run -s api-key`: prints the default organization's API key alone on stdout.
 * `npm run -s api-key -- --create NAME`: creates an organization NAME and prints its new key.
 * `npm run -s api-key -- --create-key [--organization ORG_ID] [--name NAME]`: another key for the
 *   organization (the default one if not named) and prints it; for the default organization it also
 *   becomes the key `npm run -s api-key` prints.
 * `npm run -s api-key -- --list [--organization ORG_ID]`: ids, organizations, names, creation and
 *   revocation dates of the keys of the organization (the default one if not named); never a key.
 * `npm run -s api-key -- --revoke KEY_ID`: the key is refused (401) from the next request on, by
 *   every API process.
 * Keys go to stdout only when created (so `KEY=$(...)` captures them); everything else to stderr.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Db } from 'mongodb';
import { loadConfig } from '../src/config';
import { connectDatabase } from '../src/store/database';
import { createOrganization, organizations } from '../src/store/organizations';
import { API_KEY_ID, createApiKey, listApiKeys, revokeApiKey } from '../src/store/api-keys';
import { defaultOrganizationId, writeDefaultApiKey } from '../src/store/default-organization';

const USAGE = [
  'usage: npm run -s api-key                          print the default organization key',
  '       npm run -s api-key -- --create NAME         create an organization and print its key',
  '       npm run -s api-key -- --create-key [--organization ORG_ID] [--name NAME]',
  '       npm run -s api-key -- --list [--organization ORG_ID]',
  '       npm run -s api-key -- --revoke KEY_ID',
].join('\n');

/** The value after a flag; undefined when the flag is absent, null when its value is missing. */
function option(argv: string[], flag: string): string | null | undefined {
  const at = argv.indexOf(flag);
  if (at === -1) return undefined;
  const value = argv[at + 1];
  return value === undefined || value.startsWith('--') ? null : value;
}

type Command = (db: Db, argv: string[], keyFile: string) => Promise<number>;

async function organizationArgument(db: Db, argv: string[], keyFile: string): Promise<string | null> {
  const named = option(argv, '--organization');
  if (named === null) {
    console.error(USAGE);
    return null;
  }
  const id = named ?? (await defaultOrganizationId(db, keyFile));
  if (!id || !(await organizations(db).findOne({ _id: id }))) {
    console.error(named ? `no organization ${named}` : 'no default organization: pass --organization ORG_ID');
    return null;
  }
  return id;
}

const commands: Record<string, Command> = {
  async '--create'(db, argv) {
    const name = option(argv, '--create');
    if (!name) return usage();
    const { organization, apiKey } = await createOrganization(db, name);
    console.error(`organization ${organization.name} (${organization._id})`);
    process.stdout.write(apiKey + '\n');
    return 0;
  },
  async '--create-key'(db, argv, keyFile) {
    const organizationId = await organizationArgument(db, argv, keyFile);
    if (!organizationId) return 1;
    const name = option(argv, '--name');
    if (name === null) return usage();
    const { key, info } = await createApiKey(db, organizationId, name ?? 'api');
    if (option(argv, '--organization') === undefined) writeDefaultApiKey(keyFile, key);
    console.error(`key ${info.id} for organization ${organizationId}`);
    process.stdout.write(key + '\n');
    return 0;
  },
  async '--list'(db, argv, keyFile) {
    const organizationId = await organizationArgument(db, argv, keyFile);
    if (!organizationId) return 1;
    const keys = await listApiKeys(db, organizationId);
    const rows = keys.map((k) =>
      [
        k.id,
        k.organization_id,
        k.created_at.toISOString(),
        k.revoked_at ? `revoked ${k.revoked_at.toISOString()}` : 'active',
        k.name,
      ].join('  '),
    );
    process.stdout.write(
      [
        'id                organization                          created                   status  name',
        ...rows,
      ].join('\n') + '\n',
    );
    return 0;
  },
  async '--revoke'(db, argv) {
    const id = option(argv, '--revoke');
    if (!id || !API_KEY_ID.test(id)) {
      console.error('KEY_ID: the 16 hex digits `--list` shows');
      return 2;
    }
    const revoked = await revokeApiKey(db, id);
    if (!revoked) {
      console.error(`no key ${id}`);
      return 1;
    }
    console.error(
      `key ${revoked.id} of organization ${revoked.organization_id} revoked at ${revoked.revoked_at!.toISOString()}`,
    );
    return 0;
  },
};

function usage(): number {
  console.error(USAGE);
  return 2;
}

async function main(argv: string[]): Promise<number> {
  const config = loadConfig();
  const dataDir = resolve(config.PRORATA_DATA_DIR);
  const keyFile = join(dataDir, 'default-api-key');
  const named = Object.keys(commands).filter((c) => argv.includes(c));
  if (named.length > 1 || (named.length === 0 && argv.length > 0)) return usage();
  if (named.length === 0) {
    if (!existsSync(keyFile)) {
      console.error('no default API key yet: run `npm start` once');
      return 1;
    }
    process.stdout.write(readFileSync(keyFile, 'utf8').trim() + '\n');
    return 0;
  }
  const stackFile = join(dataDir, 'stack.json');
  const uri =
    config.MONGODB_URI ??
    (existsSync(stackFile)
      ? (JSON.parse(readFileSync(stackFile, 'utf8')) as { mongodbUri: string }).mongodbUri
      : undefined);
  if (!uri) {
    console.error('set MONGODB_URI, or run `npm start` first');
    return 1;
  }
  const database = await connectDatabase(uri, config.MONGODB_DB);
  try {
    return await commands[named[0]!]!(database.db, argv, keyFile);
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error((err as Error).message);
    process.exit(1);
  },
);
