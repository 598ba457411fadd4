/**
 * The HTTP client of the load generators: `node:http` over kept-alive sockets. The benchmarks run
 * on the machine they measure, and `fetch` (with a timeout signal per request) took about 2 ms of
 * the bench process's CPU per request in `top` (28% of a core at 144 requests/s), more than the
 * MongoDB driver its baselines use; this client sends the same requests for less.
 */
import { Agent, request } from 'node:http';
import type { ApiCall } from './seats';

export function leanApiClient(baseUrl: string, apiKey: string): ApiCall {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const prefix = url.pathname.replace(/\/$/, '');
  const call = (method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: `${prefix}${path}`,
          method,
          agent,
          timeout: 60_000,
          headers: {
            Authorization: `Bearer ${apiKey}`,
            'Content-Type': 'application/json',
            ...(payload === undefined ? {} : { 'Content-Length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : null });
            } catch (err) {
              reject(err as Error);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 60 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  return call as ApiCall;
}
