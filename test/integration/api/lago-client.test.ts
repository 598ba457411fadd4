import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, getLagoError } from 'lago-javascript-client';
import { startApiHarness, type ApiHarness } from './harness';

/**
 * Lago's official JavaScript client, unchanged, against prorata: the catalog calls a per-seat
 * integration makes (metric, prorated plan, customer upsert, lookups, deletes) and its error helper.
 */
describe('lago-javascript-client 1.53.0 against the catalog API', () => {
  let h: ApiHarness;
  let server: Server;
  let lago: ReturnType<typeof Client>;
  beforeAll(async () => {
    h = await startApiHarness();
    server = h.app.listen(0, '127.0.0.1');
    await new Promise<void>((ok) => server.once('listening', () => ok()));
    const { port } = server.address() as AddressInfo;
    lago = Client(h.a.apiKey, { baseUrl: `http://127.0.0.1:${port}/api/v1` });
  }, 60_000);
  afterAll(async () => {
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
    await h?.stop();
  });

  it('creates a seat metric, a prorated per-seat plan, upserts and finds a customer, lists and deletes', async () => {
    const metric = await lago.billableMetrics.createBillableMetric({
      billable_metric: {
        name: 'Seats',
        code: 'seats',
        aggregation_type: 'unique_count_agg',
        field_name: 'user_id',
        recurring: true,
      },
    });
    expect(metric.status).toBe(200);
    expect(metric.data.billable_metric).toMatchObject({ code: 'seats', recurring: true });

    const plan = await lago.plans.createPlan({
      plan: {
        name: 'Per seat',
        code: 'per_seat',
        interval: 'monthly',
        amount_cents: 0,
        amount_currency: 'USD',
        pay_in_advance: false,
        charges: [
          {
            billable_metric_id: metric.data.billable_metric.lago_id,
            charge_model: 'standard',
            code: 'seat_fee',
            prorated: true,
            properties: { amount: '10' },
          },
        ],
      },
    });
    expect(plan.data.plan.charges?.[0]).toMatchObject({
      code: 'seat_fee',
      billable_metric_code: 'seats',
      prorated: true,
      properties: { amount: '10' },
    });

    const created = await lago.customers.createCustomer({
      customer: { external_id: 'acme', name: 'Acme Inc', currency: 'USD', timezone: 'Europe/Paris' },
    });
    const updated = await lago.customers.createCustomer({
      customer: { external_id: 'acme', email: 'billing@acme.test' },
    });
    expect(updated.data.customer.lago_id).toBe(created.data.customer.lago_id);
    expect(updated.data.customer).toMatchObject({
      name: 'Acme Inc',
      email: 'billing@acme.test',
      timezone: 'Europe/Paris',
    });

    const found = await lago.customers.findCustomer('acme');
    expect(found.data.customer).toMatchObject({ external_id: 'acme', applicable_timezone: 'Europe/Paris' });

    const plans = await lago.plans.findAllPlans({ page: 1, per_page: 10 });
    expect(plans.data.plans.map((p) => p.code)).toEqual(['per_seat']);
    expect(plans.data.meta).toMatchObject({ current_page: 1, total_count: 1 });

    const deletedPlan = await lago.plans.destroyPlan('per_seat');
    expect(deletedPlan.data.plan).toMatchObject({ code: 'per_seat', pending_deletion: true });
    const deletedCustomer = await lago.customers.destroyCustomer('acme');
    expect(deletedCustomer.data.customer.external_id).toBe('acme');
    const deletedMetric = await lago.billableMetrics.destroyBillableMetric('seats');
    expect(deletedMetric.data.billable_metric.code).toBe('seats');
    expect(h.customerDeletions).toEqual([[h.a.organization._id, 'acme']]);
  });

  it('throws Lago errors that getLagoError unwraps: 422 details, 404 codes, 401', async () => {
    const metric = await lago.billableMetrics.createBillableMetric({
      billable_metric: { name: 'Calls', code: 'calls', aggregation_type: 'count_agg' },
    });
    let thrown: unknown;
    try {
      await lago.plans.createPlan({
        plan: {
          name: 'Bad',
          code: 'bad',
          interval: 'monthly',
          amount_cents: 0,
          amount_currency: 'USD',
          pay_in_advance: false,
          charges: [
            {
              billable_metric_id: metric.data.billable_metric.lago_id,
              charge_model: 'standard',
              prorated: true,
            },
          ],
        },
      });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ status: 422 });
    expect(await getLagoError<typeof lago.plans.createPlan>(thrown)).toEqual({
      status: 422,
      error: 'Unprocessable Entity',
      code: 'validation_errors',
      error_details: { prorated: ['invalid_billable_metric_or_charge_model'] },
    });

    const missing = await lago.customers.findCustomer('nobody').catch((err: unknown) => err);
    expect(await getLagoError<typeof lago.customers.findCustomer>(missing)).toEqual({
      status: 404,
      error: 'Not Found',
      code: 'customer_not_found',
    });

    const { port } = server.address() as AddressInfo;
    const stranger = Client('not-a-key', { baseUrl: `http://127.0.0.1:${port}/api/v1` });
    const unauthorized = await stranger.plans.findAllPlans().catch((err: unknown) => err);
    expect(unauthorized).toMatchObject({ status: 401, error: { status: 401, error: 'Unauthorized' } });
  });

  it('manages webhook endpoints', async () => {
    const endpoint = await lago.webhookEndpoints.createWebhookEndpoint({
      webhook_endpoint: { webhook_url: 'https://hooks.acme.test/lago', signature_algo: 'hmac' },
    });
    expect(endpoint.data.webhook_endpoint).toMatchObject({ signature_algo: 'hmac', event_types: null });
    const all = await lago.webhookEndpoints.findAllWebhookEndpoints();
    expect(all.data.webhook_endpoints).toHaveLength(1);
    const jwt = await lago.webhookEndpoints.createWebhookEndpoint({
      webhook_endpoint: { webhook_url: 'https://other.test', signature_algo: 'jwt' },
    });
    expect(jwt.data.webhook_endpoint.signature_algo).toBe('jwt');
    const { data: key } = await lago.webhooks.fetchJsonPublicKey();
    expect(Buffer.from(key.webhook.public_key, 'base64').toString('utf8')).toContain('BEGIN PUBLIC KEY');
    await lago.webhookEndpoints.destroyWebhookEndpoint(jwt.data.webhook_endpoint.lago_id);
    await lago.webhookEndpoints.destroyWebhookEndpoint(endpoint.data.webhook_endpoint.lago_id);
  });
});
