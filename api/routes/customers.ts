import { Router } from 'express';
import { z } from 'zod';
import type { ApiDeps } from '../app';
import { organizationOf } from '../auth';
import { notFound, validationErrors } from '../errors';
import { registerRoute } from '../openapi';
import { paginationMeta, paginationQuery } from '../pagination';
import { parseQuery, parseRoot } from '../validation';
import { serializeCustomer } from '../../src/contracts/lago/serializers/customer';
import { CUSTOMER_FLATTENED_FIELDS, customerInput } from '../../src/contracts/lago/customer';
import { parseLagoInput } from '../../src/contracts/lago/error-details';
import { findCustomer, listCustomers, softDeleteCustomer, upsertCustomer } from '../../src/store/customers';

const ROOT = 'customer';

/** A query list: `currencies[]=USD&currencies[]=EUR` (or a single `currencies=USD`). */
const queryList = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((value) => (value === undefined ? undefined : Array.isArray(value) ? value : [value]));

export const customerListQuery = paginationQuery.extend({
  external_id: z.string().optional(),
  search_term: z.string().optional(),
  currencies: queryList,
  countries: queryList,
  account_type: queryList,
  customer_type: queryList,
});

registerRoute({
  method: 'post',
  path: '/customers',
  summary:
    'Create a customer, or update the one with this `external_id` (only the keys sent change; same lago_id)',
  requestRoot: ROOT,
  requestSchema: customerInput,
  responses: {
    200: { description: 'The customer', root: ROOT },
    400: 'No `customer` root',
    404: '`billing_entity_not_found` (only `default` exists) or `tax_not_found`',
    422: 'Invalid fields (e.g. `timezone`: `invalid_timezone`)',
  },
});
registerRoute({
  method: 'get',
  path: '/customers',
  summary: 'List the customers, newest first',
  query: customerListQuery,
  responses: { 200: { description: 'One page of customers', root: 'customers', list: true } },
});
registerRoute({
  method: 'get',
  path: '/customers/{external_id}',
  summary: 'Find a customer by external id',
  responses: { 200: { description: 'The customer', root: ROOT }, 404: '`customer_not_found`' },
});
registerRoute({
  method: 'delete',
  path: '/customers/{external_id}',
  summary: 'Delete a customer (soft delete; its subscriptions are terminated; the external id can be reused)',
  responses: { 200: { description: 'The deleted customer', root: ROOT }, 404: '`customer_not_found`' },
});

export function customerRoutes(deps: ApiDeps): Router {
  const { db } = deps;
  const router = Router();

  router.post('/', async (req, res) => {
    const organizationId = organizationOf(req)._id;
    const parsed = parseLagoInput(
      customerInput,
      parseRoot(req, ROOT, z.unknown()),
      CUSTOMER_FLATTENED_FIELDS,
    );
    if (!parsed.ok) throw validationErrors(parsed.details);
    const input = parsed.data;
    // One billing entity per organization, `default`; no taxes (an unknown code is a 404 in Lago).
    if (input.billing_entity_code != null && input.billing_entity_code !== 'default') {
      throw notFound('billing_entity');
    }
    if (input.tax_codes && input.tax_codes.length > 0) throw notFound('tax');
    const { customer } = await upsertCustomer(db, organizationId, input);
    res.json({ customer: serializeCustomer(customer) });
  });

  router.get('/', async (req, res) => {
    const organizationId = organizationOf(req)._id;
    const query = parseQuery(req, customerListQuery);
    const { items, totalCount } = await listCustomers(
      db,
      organizationId,
      {
        external_id: query.external_id,
        search_term: query.search_term,
        currencies: query.currencies,
        countries: query.countries,
        account_types: query.account_type,
        customer_types: query.customer_type,
      },
      { skip: (query.page - 1) * query.per_page, limit: query.per_page },
    );
    res.json({ customers: items.map(serializeCustomer), meta: paginationMeta(query, totalCount) });
  });

  router.get('/:external_id', async (req, res) => {
    const customer = await findCustomer(db, organizationOf(req)._id, req.params.external_id);
    if (!customer) throw notFound('customer');
    res.json({ customer: serializeCustomer(customer) });
  });

  router.delete('/:external_id', async (req, res) => {
    const organizationId = organizationOf(req)._id;
    const deleted = await softDeleteCustomer(db, organizationId, req.params.external_id);
    if (!deleted) throw notFound('customer');
    await deps.onCustomerDeleted?.(organizationId, deleted.external_id);
    res.json({ customer: serializeCustomer(deleted) });
  });

  return router;
}
