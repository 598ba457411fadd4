/**
 * `npm run -s api-key`: prints the default organization's API key alone on stdout.
 * `npm run -s api-key -- --create NAME`: creates an organization NAME and prints its new key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../src/config';
import { connectDatabase } from '../src/store/database';
import { createOrganization } from '../src/store/organizations';

async function main(argv: string[]): Promise<number> {
  const config = loadConfig();
  const dataDir = resolve(config.PRORATA_DATA_DIR);
  const createAt = argv.indexOf('--create');
  if (createAt === -1) {
    const file = join(dataDir, 'default-api-key');
    if (!existsSync(file)) {
      console.error('no default API key yet: run `npm start` once');
      return 1;
    }
    process.stdout.write(readFileSync(file, 'utf8').trim() + '\n');
    return 0;
  }
  const name = argv[createAt + 1];
  if (!name) {
    console.error('usage: npm run -s api-key -- --create NAME');
    return 2;
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
    const { organization, apiKey } = await createOrganization(database.db, name);
    console.error(`organization ${organization.name} (${organization._id})`);
    process.stdout.write(apiKey + '\n');
  } finally {
    await database.close();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error((err as Error).message);
    process.exit(1);
  },
);
