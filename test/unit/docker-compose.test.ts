// docker compose cannot run here (no engine, no compose plugin): check the file's structure instead.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { customSearchAttributes } from '../../src/temporal/search-attributes';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

const root = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};

describe('docker-compose.yml', () => {
  it('defines Temporal, its UI, MongoDB 7, the worker and the API, each with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'api',
      'mongo',
      'temporal',
      'temporal-ui',
      'worker',
    ]);
    expect(compose.services.mongo?.image).toBe('mongo:7');
    for (const [name, svc] of Object.entries(compose.services)) {
      expect({ name, healthcheck: (svc.healthcheck?.test.length ?? 0) > 1 }).toEqual({
        name,
        healthcheck: true,
      });
    }
  });

  it('registers every custom search attribute the workflows use', () => {
    const args = compose.services.temporal?.command ?? [];
    for (const key of customSearchAttributes)
      expect(args).toContain(`--search-attribute=${key.name}=Keyword`);
  });

  it('points the worker and the API at the compose Temporal and MongoDB, and starts them after both are healthy', () => {
    for (const name of ['worker', 'api']) {
      const svc = compose.services[name];
      expect(svc?.environment).toMatchObject({
        TEMPORAL_ADDRESS: 'temporal:7233',
        MONGODB_URI: 'mongodb://mongo:27017/',
      });
      expect(svc?.depends_on).toMatchObject({
        temporal: { condition: 'service_healthy' },
        mongo: { condition: 'service_healthy' },
      });
    }
    expect(compose.services.worker?.command).toEqual(['node', 'dist/worker/main.js']);
    expect(compose.services.api?.command).toEqual(['node', 'dist/api/main.js']);
  });

  it('builds the image from a glibc Node base with the workflow bundle prebuilt', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const bases = dockerfile.split('\n').filter((l) => l.startsWith('FROM '));
    expect(bases.length).toBeGreaterThan(0);
    for (const line of bases) expect(line).toMatch(/^FROM node:20-bookworm-slim\b/);
    expect(dockerfile).toMatch(/npm run build/);
  });
});
