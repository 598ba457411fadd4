import {
  ISO_SECONDS,
  UNAUTHORIZED,
  UUID,
  as,
  missingRootError,
  notFoundError,
  startApiHarness,
  validationError,
  type ApiHarness,
} from './harness';
import { findCustomer, upsertCustomer } from '../../../src/store/customers';

const ACME = {
  external_id: 'acme',
  name: 'Acme Inc',
  email: 'billing@acme.test',
  currency: 'USD',
  timezone: 'UTC',
};

describe('customers API (/api/v1/customers)', () => {
  let h: ApiHarness;
  let a: ReturnType<typeof as>;
  let b: ReturnType<typeof as>;
  beforeAll(async () => {
    h = await startApiHarness();
    a = as(h.a, h.app);
    b = as(h.b, h.app);
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('creates the customer of lago-api.md and answers Lago’s exact object', async () => {
    const res = await a.post('/api/v1/customers', { customer: ACME });
    expect(res.status).toBe(200);
    const prefix = `ACM-${h.a.organization._id.slice(-4).toUpperCase()}`;
    expect(res.body).toEqual({
      customer: {
        lago_id: expect.stringMatching(UUID),
        billing_entity_code: 'default',
        external_id: 'acme',
        account_type: 'customer',
        name: 'Acme Inc',
        firstname: null,
        lastname: null,
        customer_type: null,
        sequential_id: 1,
        slug: `${prefix}-001`,
        created_at: expect.stringMatching(ISO_SECONDS),
        updated_at: expect.stringMatching(ISO_SECONDS),
        country: null,
        address_line1: null,
        address_line2: null,
        state: null,
        zipcode: null,
        email: 'billing@acme.test',
        city: null,
        url: null,
        phone: null,
        logo_url: null,
        legal_name: null,
        legal_number: null,
        currency: 'USD',
        tax_identification_number: null,
        timezone: 'UTC',
        applicable_timezone: 'UTC',
        net_payment_term: null,
        external_salesforce_id: null,
        finalize_zero_amount_invoice: 'inherit',
        billing_configuration: {
          invoice_grace_period: null,
          payment_provider: null,
          payment_provider_code: null,
          document_locale: null,
          subscription_invoice_issuing_date_anchor: null,
          subscription_invoice_issuing_date_adjustment: null,
        },
        shipping_address: {
          address_line1: null,
          address_line2: null,
          city: null,
          zipcode: null,
          state: null,
          country: null,
        },
        skip_invoice_custom_sections: false,
        metadata: [],
        taxes: [],
        integration_customers: [],
        applicable_invoice_custom_sections: [],
        error_details: [],
      },
    });
  });

  it('upserts by external_id: only the keys sent change, same lago_id, 200 both times', async () => {
    const before = (await a.get('/api/v1/customers/acme')).body.customer;
    const res = await a.post('/api/v1/customers', {
      customer: {
        external_id: 'acme',
        name: 'Acme Corp',
        timezone: 'Europe/Paris',
        country: 'fr',
        billing_configuration: { invoice_grace_period: 3 },
        shipping_address: { city: 'Lyon' },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.customer).toMatchObject({
      lago_id: before.lago_id,
      sequential_id: 1,
      slug: before.slug,
      name: 'Acme Corp',
      email: 'billing@acme.test',
      currency: 'USD',
      timezone: 'Europe/Paris',
      applicable_timezone: 'Europe/Paris',
      country: 'FR',
      created_at: before.created_at,
      billing_configuration: { invoice_grace_period: 3, document_locale: null },
      shipping_address: { city: 'Lyon', country: null },
    });
    const cleared = await a.post('/api/v1/customers', {
      customer: {
        external_id: 'acme',
        email: null,
        timezone: null,
        billing_configuration: { document_locale: 'fr' },
      },
    });
    expect(cleared.body.customer).toMatchObject({
      email: null,
      timezone: null,
      applicable_timezone: 'UTC',
      name: 'Acme Corp',
      billing_configuration: { invoice_grace_period: 3, document_locale: 'fr' },
    });
  });

  it('numbers customers per organization', async () => {
    const second = await a.post('/api/v1/customers', { customer: { external_id: 'globex_client' } });
    expect(second.body.customer.sequential_id).toBe(2);
    const first = await b.post('/api/v1/customers', { customer: { external_id: 'acme' } });
    expect(first.body.customer).toMatchObject({
      sequential_id: 1,
      slug: `GLO-${h.b.organization._id.slice(-4).toUpperCase()}-001`,
      name: null,
    });
  });

  it.each<[string, Record<string, unknown>, Record<string, string[]>]>([
    ['no external_id', { name: 'x' }, { external_id: ['value_is_mandatory'] }],
    ['a blank external_id', { external_id: ' ' }, { external_id: ['value_is_mandatory'] }],
    ['a numeric external_id', { external_id: 42 }, { external_id: ['value_is_invalid'] }],
    ['a NUL in external_id', { external_id: 'a\u0000' }, { external_id: ['value_is_invalid'] }],
    ['a NUL in the name', { external_id: 'x', name: 'A\u0000cme' }, { name: ['value_is_invalid'] }],
    ['an unknown time zone', { external_id: 'x', timezone: 'Mars/Base' }, { timezone: ['invalid_timezone'] }],
    ['a Rails-only zone name', { external_id: 'x', timezone: 'GMT+12' }, { timezone: ['invalid_timezone'] }],
    ['an offset as time zone', { external_id: 'x', timezone: '+02:00' }, { timezone: ['invalid_timezone'] }],
    ['an empty time zone', { external_id: 'x', timezone: '' }, { timezone: ['invalid_timezone'] }],
    ['an unknown currency', { external_id: 'x', currency: 'EURO' }, { currency: ['value_is_invalid'] }],
    ['an unknown country', { external_id: 'x', country: 'XX' }, { country: ['not_a_valid_country_code'] }],
    ['a bad email', { external_id: 'x', email: 'not-an-email' }, { email: ['invalid_email_format'] }],
    [
      'a grace period over a year',
      { external_id: 'x', billing_configuration: { invoice_grace_period: 366 } },
      {
        invoice_grace_period: ['value_is_out_of_range'],
      },
    ],
    [
      'a negative grace period',
      { external_id: 'x', billing_configuration: { invoice_grace_period: -1 } },
      {
        invoice_grace_period: ['value_is_out_of_range'],
      },
    ],
    [
      'a fractional grace period',
      { external_id: 'x', billing_configuration: { invoice_grace_period: 1.5 } },
      {
        invoice_grace_period: ['value_is_invalid'],
      },
    ],
    [
      'an unknown payment provider',
      { external_id: 'x', billing_configuration: { payment_provider: 'paypal' } },
      {
        payment_provider: ['value_is_invalid'],
      },
    ],
    [
      'a negative payment term',
      { external_id: 'x', net_payment_term: -3 },
      { net_payment_term: ['value_is_out_of_range'] },
    ],
    [
      'an unknown account type',
      { external_id: 'x', account_type: 'vendor' },
      { account_type: ['value_is_invalid'] },
    ],
    [
      'an unknown zero-amount option',
      { external_id: 'x', finalize_zero_amount_invoice: 'never' },
      {
        finalize_zero_amount_invoice: ['invalid_value'],
      },
    ],
    [
      'six metadata entries',
      {
        external_id: 'x',
        metadata: [1, 2, 3, 4, 5, 6].map((i) => ({ key: `k${i}`, value: 'v' })),
      },
      { metadata: ['invalid_count'] },
    ],
    [
      'a repeated metadata key',
      {
        external_id: 'x',
        metadata: [
          { key: 'k', value: '1' },
          { key: 'k', value: '2' },
        ],
      },
      {
        metadata: ['value_already_exist'],
      },
    ],
    [
      'a long metadata key',
      { external_id: 'x', metadata: [{ key: 'k'.repeat(21), value: 'v' }] },
      {
        metadata: ['value_is_too_long'],
      },
    ],
    [
      'a metadata value that is a nested list',
      { external_id: 'x', metadata: [{ key: 'k', value: [[1]] }] },
      {
        metadata: ['value_is_invalid'],
      },
    ],
    [
      'a metadata entry without value',
      { external_id: 'x', metadata: [{ key: 'k' }] },
      { metadata: ['value_is_mandatory'] },
    ],
  ])('refuses %s with 422', async (_case, customer, details) => {
    const res = await a.post('/api/v1/customers', { customer });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(validationError(details));
  });

  it('answers 404 to another billing entity and to tax codes, 400 without the root, 401 without a key', async () => {
    const entity = await a.post('/api/v1/customers', {
      customer: { external_id: 'x', billing_entity_code: 'eu' },
    });
    expect(entity.status).toBe(404);
    expect(entity.body).toEqual(notFoundError('billing_entity_not_found'));
    const taxed = await a.post('/api/v1/customers', { customer: { external_id: 'x', tax_codes: ['vat'] } });
    expect(taxed.body).toEqual(notFoundError('tax_not_found'));
    expect((await a.post('/api/v1/customers', { external_id: 'x' })).body).toEqual(
      missingRootError('customer'),
    );
    const anonymous = await as(null, h.app).post('/api/v1/customers', { customer: ACME });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual(UNAUTHORIZED);
    expect((await a.get('/api/v1/customers/nobody')).body).toEqual(notFoundError('customer_not_found'));
    expect((await a.delete('/api/v1/customers/nobody')).body).toEqual(notFoundError('customer_not_found'));
  });

  it('stores metadata whatever its text holds, and keeps an entry’s lago_id when its id is sent back', async () => {
    const hostile = [
      { key: 'a.b', value: 'dots.and$dollars', display_in_invoice: true },
      { key: '$x', value: 'NUL\u0000inside' },
      { key: 'nul\u0000key', value: '{"json": [[1]]}' },
    ];
    const res = await a.post('/api/v1/customers', { customer: { external_id: 'meta', metadata: hostile } });
    expect(res.status).toBe(200);
    expect(res.body.customer.metadata).toEqual(
      hostile.map((m) => ({
        lago_id: expect.stringMatching(UUID),
        key: m.key,
        value: m.value,
        display_in_invoice: m.display_in_invoice ?? false,
        created_at: expect.stringMatching(ISO_SECONDS),
      })),
    );
    const [first] = res.body.customer.metadata;
    const updated = await a.post('/api/v1/customers', {
      customer: {
        external_id: 'meta',
        metadata: [
          { id: first.lago_id, key: 'a.b', value: 'changed' },
          { key: 'new', value: 'n' },
        ],
      },
    });
    expect(updated.body.customer.metadata).toMatchObject([
      { lago_id: first.lago_id, key: 'a.b', value: 'changed', display_in_invoice: false },
      { key: 'new', value: 'n' },
    ]);
    const untouched = await a.post('/api/v1/customers', {
      customer: { external_id: 'meta', metadata: null },
    });
    expect(untouched.body.customer.metadata).toHaveLength(2);
    expect((await a.get('/api/v1/customers/meta')).body.customer.metadata).toEqual(
      updated.body.customer.metadata,
    );
  });

  it('ignores fields prorata does not use, whatever they hold', async () => {
    const res = await a.post('/api/v1/customers', {
      customer: {
        external_id: 'ignored',
        integration_customers: [[[1]], { 'a.b': { $c: 1 } }],
        invoice_custom_section_codes: [],
        unknown_field: { $where: 'x' },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.customer).not.toHaveProperty('unknown_field');
  });

  it('finds customers by external id, filters and paginates the list', async () => {
    for (const [id, currency] of [
      ['list_1', 'EUR'],
      ['list_2', 'EUR'],
      ['list_3', 'GBP'],
    ]) {
      await a.post('/api/v1/customers', { customer: { external_id: id, currency, name: `Name ${id}` } });
    }
    const one = await a.get('/api/v1/customers?external_id=list_2');
    expect(one.body.customers.map((c: { external_id: string }) => c.external_id)).toEqual(['list_2']);
    expect(one.body.meta).toEqual({
      current_page: 1,
      next_page: null,
      prev_page: null,
      total_pages: 1,
      total_count: 1,
    });
    const euros = await a.get('/api/v1/customers?currencies[]=EUR&currencies[]=GBP');
    expect(euros.body.meta.total_count).toBe(3);
    const search = await a.get('/api/v1/customers?search_term=NAME%20LIST_3');
    expect(search.body.customers.map((c: { external_id: string }) => c.external_id)).toEqual(['list_3']);
    const regexLike = await a.get(`/api/v1/customers?search_term=${encodeURIComponent('.*')}`);
    expect(regexLike.body.meta.total_count).toBe(0);
    const none = await a.get('/api/v1/customers?external_id=nobody');
    expect(none.body).toEqual({
      customers: [],
      meta: { current_page: 0, next_page: null, prev_page: null, total_pages: 0, total_count: 0 },
    });
    const total = (await a.get('/api/v1/customers')).body.meta.total_count as number;
    const page = await a.get('/api/v1/customers?per_page=2&page=2');
    expect(page.body.meta).toMatchObject({
      current_page: 2,
      prev_page: 1,
      total_pages: Math.ceil(total / 2),
      total_count: total,
    });
    expect(page.body.customers).toHaveLength(2);
    const bad = await a.get('/api/v1/customers?external_id[$ne]=x');
    expect(bad.status).toBe(422);
    expect(bad.body.error_details).toEqual({ external_id: ['value_is_invalid'] });
  });

  it('soft-deletes a customer: answers it, calls the hook, then 404; the external id can start over', async () => {
    const created = (
      await a.post('/api/v1/customers', { customer: { external_id: 'leaving', name: 'Gone' } })
    ).body.customer;
    h.customerDeletions.length = 0;
    const deleted = await a.delete('/api/v1/customers/leaving');
    expect(deleted.status).toBe(200);
    expect(deleted.body.customer).toMatchObject({
      lago_id: created.lago_id,
      external_id: 'leaving',
      name: 'Gone',
    });
    expect(h.customerDeletions).toEqual([[h.a.organization._id, 'leaving']]);
    expect((await a.get('/api/v1/customers/leaving')).body).toEqual(notFoundError('customer_not_found'));
    expect((await a.get('/api/v1/customers?external_id=leaving')).body.meta.total_count).toBe(0);
    const reborn = await a.post('/api/v1/customers', { customer: { external_id: 'leaving' } });
    expect(reborn.body.customer.lago_id).not.toBe(created.lago_id);
    expect(reborn.body.customer.name).toBeNull();
    expect(reborn.body.customer.sequential_id).toBeGreaterThan(created.sequential_id);
  });

  it('creates one customer when the same external id is posted concurrently', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        a.post('/api/v1/customers', { customer: { external_id: 'racy', name: `n${i}` } }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(new Set(answers.map((r) => r.body.customer.lago_id)).size).toBe(1);
    expect(
      await h.db
        .collection('customers')
        .countDocuments({ organization_id: h.a.organization._id, external_id: 'racy' }),
    ).toBe(1);
  });

  it('exports findCustomer and upsertCustomer for subscription creation', async () => {
    const { customer, created } = await upsertCustomer(h.db, h.a.organization._id, {
      external_id: 'from_subscription',
    });
    expect(created).toBe(true);
    expect(customer).toMatchObject({ external_id: 'from_subscription', timezone: null, currency: null });
    const again = await upsertCustomer(h.db, h.a.organization._id, { external_id: 'from_subscription' });
    expect(again).toMatchObject({ created: false, customer: { _id: customer._id } });
    expect((await findCustomer(h.db, h.a.organization._id, 'from_subscription'))?._id).toBe(customer._id);
    expect(await findCustomer(h.db, h.b.organization._id, 'from_subscription')).toBeNull();
  });

  it('isolates organizations', async () => {
    const acmeA = (await a.get('/api/v1/customers/acme')).body.customer;
    const acmeB = (await b.get('/api/v1/customers/acme')).body.customer;
    expect(acmeA.lago_id).not.toBe(acmeB.lago_id);
    expect((await b.get('/api/v1/customers/globex_client')).status).toBe(404);
    expect((await b.delete('/api/v1/customers/list_1')).status).toBe(404);
    expect((await a.get('/api/v1/customers/list_1')).status).toBe(200);
    const listB = (await b.get('/api/v1/customers')).body;
    expect(listB.customers.map((c: { lago_id: string }) => c.lago_id)).toEqual([acmeB.lago_id]);
    const listA = (await a.get('/api/v1/customers?per_page=1000')).body.customers as Array<{
      lago_id: string;
    }>;
    expect(listA.map((c) => c.lago_id)).not.toContain(acmeB.lago_id);
  });
});
