/**
 * Helpers of the end-to-end tests: a webhook receiver on 127.0.0.1 that keeps every delivery's
 * type and object, and polling until a condition holds.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  type: string;
  object: Record<string, unknown>;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const parsed = JSON.parse(body) as Record<string, unknown> & {
        webhook_type: string;
        object_type: string;
      };
      received.push({
        type: parsed.webhook_type,
        object: parsed[parsed.object_type] as Record<string, unknown>,
      });
      res.end('ok');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** Polls `probe` every 100 ms until it returns a truthy value, for at most `seconds`. */
export async function eventually<T>(
  probe: () => Promise<T | null | undefined | false>,
  seconds = 30,
): Promise<T> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 100));
  }
}
