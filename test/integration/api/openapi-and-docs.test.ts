import request from 'supertest';
import { startApiHarness, type ApiHarness } from './harness';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('GET /api/v1/openapi.json and GET /docs', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness();
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  const CATALOG_ROUTES = [
    ['post', '/billable_metrics'],
    ['get', '/billable_metrics'],
    ['get', '/billable_metrics/{code}'],
    ['put', '/billable_metrics/{code}'],
    ['delete', '/billable_metrics/{code}'],
    ['post', '/plans'],
    ['get', '/plans'],
    ['get', '/plans/{code}'],
    ['put', '/plans/{code}'],
    ['delete', '/plans/{code}'],
    ['post', '/customers'],
    ['get', '/customers'],
    ['get', '/customers/{external_id}'],
    ['delete', '/customers/{external_id}'],
    ['post', '/webhook_endpoints'],
    ['get', '/webhook_endpoints'],
    ['get', '/webhook_endpoints/{lago_id}'],
    ['put', '/webhook_endpoints/{lago_id}'],
    ['delete', '/webhook_endpoints/{lago_id}'],
  ] as const;

  it('serves an OpenAPI 3.1 document without authentication, built from the request schemas', async () => {
    const res = await request(h.app).get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body as Json;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: '/api/v1' }]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [method, path] of CATALOG_ROUTES) {
      expect(doc.paths[path]?.[method]).toBeDefined();
      expect(doc.paths[path][method].responses['401'].content['application/json'].schema).toEqual({
        $ref: '#/components/schemas/Unauthorized',
      });
    }
    const createPlan = doc.paths['/plans'].post as Json;
    const planSchema = createPlan.requestBody.content['application/json'].schema;
    expect(planSchema.required).toEqual(['plan']);
    expect(planSchema.properties.plan.required).toEqual(
      expect.arrayContaining([
        'name',
        'code',
        'interval',
        'amount_cents',
        'amount_currency',
        'pay_in_advance',
      ]),
    );
    const charge = planSchema.properties.plan.properties.charges.anyOf.find(
      (s: Json) => s.type === 'array',
    ).items;
    expect(charge.required).toEqual(['billable_metric_id', 'charge_model']);
    expect(charge.properties.charge_model.enum).toContain('standard');
    expect(createPlan.responses['422'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/ValidationErrors',
    });
    expect(createPlan.responses['200'].content['application/json'].schema.required).toEqual(['plan']);

    const listCustomers = doc.paths['/customers'].get as Json;
    expect(listCustomers.parameters.map((p: Json) => p.name)).toEqual(
      expect.arrayContaining(['page', 'per_page', 'external_id', 'currencies[]']),
    );
    expect(listCustomers.responses['200'].content['application/json'].schema.properties.meta).toEqual({
      $ref: '#/components/schemas/PaginationMeta',
    });
    expect(doc.paths['/customers/{external_id}'].get.parameters).toEqual([
      { name: 'external_id', in: 'path', required: true, schema: { type: 'string' } },
    ]);
    const operationIds = Object.values(doc.paths).flatMap((ops) =>
      Object.values(ops as Json).map((o: Json) => o.operationId),
    );
    expect(new Set(operationIds).size).toBe(operationIds.length);
  });

  it('serves a self-contained HTML page listing every route with its request root and fields', async () => {
    const res = await request(h.app).get('/docs');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    const html = res.text;
    for (const [method, path] of CATALOG_ROUTES) {
      expect(html).toContain(
        `<span class="method">${method.toUpperCase()}</span> <code>/api/v1${path}</code>`,
      );
    }
    expect(html).toContain('<h4>Body: <code>{"billable_metric": {...}}</code></h4>');
    expect(html).toContain('<li><strong>404</strong> <code>billable_metric_not_found</code></li>');
    expect(html).toContain('<code>charges[].billable_metric_id</code>');
    expect(html).toContain('<code>billing_configuration.invoice_grace_period</code>');
    expect(html).not.toMatch(/<script|<link|<img|src=|href="https?:|url\(/);
  });
});
