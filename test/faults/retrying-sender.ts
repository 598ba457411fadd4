/**
 * A client that sends events one by one like a careful product service: on a network error, a
 * timeout or a 5xx it sends the same event again (same `transaction_id`) until the API accepts it,
 * and on a 429 (the organization's rate limit) it does so after the answer's `Retry-After`.
 * Accepted means a 200, or a 422 `value_already_exist` on a retry (an earlier attempt was stored
 * though its answer was lost). A 422 `value_already_exist` on a first attempt, or any other 4xx, is
 * recorded as refused, and so is an event still not accepted after `giveUpAfterMs` or when the
 * drill aborts: the drills expect none.
 */
import type { SeatEventInput } from './seat-billing';

export interface SendReport {
  accepted: SeatEventInput[];
  refused: { event: SeatEventInput; status: number; body: unknown }[];
  /** Accepted by a 422 `value_already_exist` on a retry (stored by an attempt whose answer was lost). */
  acceptedAsDuplicate: number;
  attempts: number;
  /** How often each outcome was seen: HTTP status, `network` or `timeout`. */
  outcomes: Record<string, number>;
  /** Bodies of 5xx answers, by status (one sample each). */
  serverErrors: Record<string, unknown>;
}

export interface SendOptions {
  concurrency: number;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  /** An event not accepted after this long is given up (recorded as refused, status 0). */
  giveUpAfterMs?: number;
  /** Stops sending: the events not accepted yet are recorded as refused (status 0). */
  signal?: AbortSignal;
  /** Called after each accepted event with the running count. */
  onAccepted?: (count: number) => void;
  /** Called with every answer (HTTP status, `network` or `timeout`), its body, and when its attempt was sent. */
  onOutcome?: (outcome: string, body: unknown, sentAt: number) => void;
  /** Awaited before the event at this index is first sent (a drill holds part of the run back). */
  beforeSend?: (index: number) => Promise<void>;
}

function isValueAlreadyExist(body: unknown): boolean {
  const details = (body as { error_details?: { transaction_id?: unknown } } | null)?.error_details;
  return Array.isArray(details?.transaction_id) && details.transaction_id.includes('value_already_exist');
}

export async function sendWithRetries(
  baseUrl: string,
  apiKey: string,
  events: SeatEventInput[],
  options: SendOptions,
): Promise<SendReport> {
  const report: SendReport = {
    accepted: [],
    refused: [],
    acceptedAsDuplicate: 0,
    attempts: 0,
    outcomes: {},
    serverErrors: {},
  };
  const count = (outcome: string, body: unknown, sentAt: number) => {
    report.outcomes[outcome] = (report.outcomes[outcome] ?? 0) + 1;
    options.onOutcome?.(outcome, body, sentAt);
  };
  let next = 0;

  async function sendOne(event: SeatEventInput): Promise<void> {
    const giveUpAt = Date.now() + (options.giveUpAfterMs ?? 300_000);
    for (let attempt = 1; ; attempt++) {
      if (Date.now() > giveUpAt || options.signal?.aborted) {
        report.refused.push({ event, status: 0, body: options.signal?.aborted ? 'aborted' : 'gave up' });
        return;
      }
      report.attempts++;
      let status: number;
      let body: unknown;
      let retryAfterSeconds = 1;
      const sentAt = Date.now();
      try {
        const res = await fetch(`${baseUrl}/events`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ event }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
        status = res.status;
        retryAfterSeconds = Math.min(10, Math.max(1, Number(res.headers.get('retry-after')) || 1));
        const text = await res.text();
        body = text ? (JSON.parse(text) as unknown) : null;
      } catch (err) {
        const e = err as Error;
        count(
          e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timeout' : 'network',
          e.message,
          sentAt,
        );
        await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * attempt)));
        continue;
      }
      count(String(status), body, sentAt);
      if (status === 429) {
        await new Promise((r) => setTimeout(r, 1_000 * retryAfterSeconds));
        continue;
      }
      if (status === 200 || (status === 422 && attempt > 1 && isValueAlreadyExist(body))) {
        if (status === 422) report.acceptedAsDuplicate++;
        report.accepted.push(event);
        options.onAccepted?.(report.accepted.length);
        return;
      }
      if (status >= 500) {
        report.serverErrors[String(status)] ??= body;
        await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * attempt)));
        continue;
      }
      report.refused.push({ event, status, body });
      return;
    }
  }

  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < events.length) {
        const index = next++;
        await options.beforeSend?.(index);
        await sendOne(events[index]!);
      }
    }),
  );
  return report;
}
