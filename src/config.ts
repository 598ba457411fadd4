import { z } from 'zod';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { normalizeHost, type WebhookDestinationPolicy } from './webhooks/destination-guard';

const flag = z
  .enum(['', '0', '1', 'false', 'true'], { error: 'expected 1 or 0' })
  .default('0')
  .transform((v) => v === '1' || v === 'true');
/** Requests per second per organization; 0 turns that limit off. */
const perSecond = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);

/** Every environment variable prorata reads, validated in one place. */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('prorata-billing'),
  MONGODB_URI: z.string().optional(),
  MONGODB_DB: z.string().default('prorata'),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().positive().default(40),
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().default(40),
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().nonnegative().default(1000),
  PRORATA_CACHE: z.string().default(join(homedir(), '.cache', 'prorata')),
  PRORATA_DATA_DIR: z.string().default('.data'),
  TEMPORAL_CLI_PATH: z.string().optional(),
  TEMPORAL_TEST_SERVER_PATH: z.string().optional(),
  FERRETDB_PATH: z.string().optional(),
  /** Development: webhooks may reach loopback and private addresses (a receiver on 127.0.0.1). */
  PRORATA_WEBHOOK_ALLOW_PRIVATE: flag,
  /** Comma-separated hosts webhooks may reach even when private (an internal receiver). */
  PRORATA_WEBHOOK_ALLOWED_HOSTS: z.string().default(''),
  /** The API's public URL: the `iss` of `jwt` webhook signatures (Lago's LAGO_API_URL). */
  PRORATA_API_URL: z.string().default('http://127.0.0.1:3000'),
  /** Lago's published limits: events 500 req/s, current usage 200 req/s. */
  PRORATA_RATE_LIMIT_EVENTS: perSecond(500),
  PRORATA_RATE_LIMIT_CURRENT_USAGE: perSecond(200),
  PRORATA_RATE_LIMIT_DEFAULT: perSecond(100),
  /** API processes behind the load balancer: each enforces its share of every limit. */
  PRORATA_API_PROCESSES: z.coerce.number().int().positive().default(1),
});

export type Config = z.infer<typeof envSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid environment: ${problems}`);
  }
  return parsed.data;
}

/** Paths of the locally built services (scripts/install-services.sh), unless overridden. */
export function servicePaths(config: Config): { temporal: string; testServer: string; ferretdb: string } {
  const bin = join(config.PRORATA_CACHE, 'bin');
  return {
    temporal: config.TEMPORAL_CLI_PATH ?? join(bin, 'temporal'),
    testServer: config.TEMPORAL_TEST_SERVER_PATH ?? join(bin, 'temporal-test-server'),
    ferretdb: config.FERRETDB_PATH ?? join(bin, 'ferretdb'),
  };
}

export function webhookDestinationPolicy(config: Config): WebhookDestinationPolicy {
  return {
    allowPrivate: config.PRORATA_WEBHOOK_ALLOW_PRIVATE,
    allowedHosts: config.PRORATA_WEBHOOK_ALLOWED_HOSTS.split(',')
      .map(normalizeHost)
      .filter((h) => h !== ''),
  };
}
