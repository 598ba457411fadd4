import { isDuplicateKey } from '../../src/store/database';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { ApiDeps } from '../app';
import { organizationOf } from '../auth';
import { notFound, validationErrors } from '../errors';
import { registerRoute } from '../openapi';
import { paginationMeta, paginationQuery } from '../pagination';
import { parseQuery, parseRoot } from '../validation';
import { serializeBillableMetric } from '../../src/contracts/lago/serializers/billable-metric';
import {
  billableMetricCreateInput,
  billableMetricRuleErrors,
  billableMetricUpdateInput,
  weightedIntervalFor,
} from '../../src/contracts/lago/billable-metric';
import {
  addDetail,
  hasDetails,
  parseLagoInput,
  type LagoErrorDetails,
} from '../../src/contracts/lago/error-details';
import {
  findBillableMetric,
  insertBillableMetric,
  listBillableMetrics,
  softDeleteBillableMetric,
  updateBillableMetric,
  type NewBillableMetric,
} from '../../src/store/billable-metrics';
import { isMetricUsedByPlans, removeMetricCharges } from '../../src/store/plans';

const ROOT = 'billable_metric';

registerRoute({
  method: 'post',
  path: '/billable_metrics',
  summary: 'Create a billable metric',
  requestRoot: ROOT,
  requestSchema: billableMetricCreateInput,
  responses: {
    200: { description: 'The metric', root: ROOT },
    400: 'No `billable_metric` root',
    422: 'Invalid fields, or `code` already used by a live metric',
  },
});
registerRoute({
  method: 'get',
  path: '/billable_metrics',
  summary: 'List the live billable metrics, newest first',
  query: paginationQuery,
  responses: { 200: { description: 'One page of metrics', root: 'billable_metrics', list: true } },
});
registerRoute({
  method: 'get',
  path: '/billable_metrics/{code}',
  summary: 'Find a billable metric by code',
  responses: { 200: { description: 'The metric', root: ROOT }, 404: '`billable_metric_not_found`' },
});
registerRoute({
  method: 'put',
  path: '/billable_metrics/{code}',
  summary:
    'Update a billable metric (any subset of fields). While a plan charges it, only name and description change, as in Lago.',
  requestRoot: ROOT,
  requestSchema: billableMetricUpdateInput,
  responses: {
    200: { description: 'The metric', root: ROOT },
    400: 'No `billable_metric` root',
    404: '`billable_metric_not_found`',
    422: 'Invalid fields',
  },
});
registerRoute({
  method: 'delete',
  path: '/billable_metrics/{code}',
  summary: 'Delete a billable metric (soft delete; its charges leave every plan and the code can be reused)',
  responses: { 200: { description: 'The deleted metric', root: ROOT }, 404: '`billable_metric_not_found`' },
});

function body<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  const parsed = parseLagoInput(schema, parseRoot(req, ROOT, z.unknown()));
  if (!parsed.ok) throw validationErrors(parsed.details);
  return parsed.data;
}

const duplicateCode = () => validationErrors({ code: ['value_already_exist'] });

export function billableMetricRoutes(deps: ApiDeps): Router {
  const { db } = deps;
  const router = Router();

  router.post('/', async (req, res) => {
    const organizationId = organizationOf(req)._id;
    const input = body(req, billableMetricCreateInput);
    const metric: NewBillableMetric = {
      name: input.name,
      code: input.code,
      description: input.description ?? null,
      aggregation_type: input.aggregation_type,
      field_name: input.field_name ?? null,
      recurring: input.recurring ?? false,
      weighted_interval: weightedIntervalFor(input.aggregation_type, input.weighted_interval),
      expression: input.expression?.trim() ? input.expression : null,
      rounding_function: input.rounding_function ?? null,
      rounding_precision: input.rounding_precision ?? null,
      filters: input.filters ?? [],
    };
    // Lago reports every model error of a save together, uniqueness included.
    const details: LagoErrorDetails = billableMetricRuleErrors(metric);
    if (await findBillableMetric(db, organizationId, metric.code))
      addDetail(details, 'code', 'value_already_exist');
    if (hasDetails(details)) throw validationErrors(details);
    try {
      const created = await insertBillableMetric(db, organizationId, metric);
      res.json({ billable_metric: serializeBillableMetric(created) });
    } catch (err) {
      if (isDuplicateKey(err)) throw duplicateCode();
      throw err;
    }
  });

  router.get('/', async (req, res) => {
    const organizationId = organizationOf(req)._id;
    const page = parseQuery(req, paginationQuery);
    const { items, totalCount } = await listBillableMetrics(db, organizationId, {
      skip: (page.page - 1) * page.per_page,
      limit: page.per_page,
    });
    res.json({
      billable_metrics: items.map((m) => serializeBillableMetric(m)),
      meta: paginationMeta(page, totalCount),
    });
  });

  router.get('/:code', async (req, res) => {
    const metric = await findBillableMetric(db, organizationOf(req)._id, req.params.code);
    if (!metric) throw notFound('billable_metric');
    res.json({ billable_metric: serializeBillableMetric(metric, { counts: false }) });
  });

  router.put('/:code', async (req, res) => {
    const organizationId = organizationOf(req)._id;
    const input = body(req, billableMetricUpdateInput);
    const existing = await findBillableMetric(db, organizationId, req.params.code);
    if (!existing) throw notFound('billable_metric');

    const changes: Partial<NewBillableMetric> = {};
    if (input.name !== undefined) changes.name = input.name;
    if (input.description !== undefined) changes.description = input.description;
    // Lago: once a plan charges the metric, only its name and description may change (the other
    // fields are ignored), so running subscriptions keep the aggregation they were sold.
    if (!(await isMetricUsedByPlans(db, organizationId, existing._id))) {
      if (input.code !== undefined) changes.code = input.code;
      if (input.aggregation_type !== undefined) changes.aggregation_type = input.aggregation_type;
      if (input.field_name !== undefined) changes.field_name = input.field_name;
      if (input.recurring !== undefined) changes.recurring = input.recurring ?? false;
      if (input.expression !== undefined)
        changes.expression = input.expression?.trim() ? input.expression : null;
      if (input.rounding_function !== undefined) changes.rounding_function = input.rounding_function;
      if (input.rounding_precision !== undefined) changes.rounding_precision = input.rounding_precision;
      if (input.filters !== undefined) changes.filters = input.filters ?? [];
      const aggregationType = changes.aggregation_type ?? existing.aggregation_type;
      changes.weighted_interval = weightedIntervalFor(
        aggregationType,
        input.weighted_interval !== undefined ? input.weighted_interval : existing.weighted_interval,
      );
    }

    const merged = { ...existing, ...changes };
    const details = billableMetricRuleErrors(merged);
    if (merged.code !== existing.code && (await findBillableMetric(db, organizationId, merged.code))) {
      addDetail(details, 'code', 'value_already_exist');
    }
    if (hasDetails(details)) throw validationErrors(details);
    try {
      const updated = await updateBillableMetric(db, organizationId, existing._id, changes);
      if (!updated) throw notFound('billable_metric');
      res.json({ billable_metric: serializeBillableMetric(updated) });
    } catch (err) {
      if (isDuplicateKey(err)) throw duplicateCode();
      throw err;
    }
  });

  router.delete('/:code', async (req, res) => {
    const organizationId = organizationOf(req)._id;
    const existing = await findBillableMetric(db, organizationId, req.params.code);
    if (!existing) throw notFound('billable_metric');
    const deleted = await softDeleteBillableMetric(db, organizationId, existing._id);
    if (!deleted) throw notFound('billable_metric');
    // Lago discards the metric's charges with it: the plans that charged it change.
    for (const plan of await removeMetricCharges(db, organizationId, deleted._id)) {
      await deps.onPlanUpdated?.(organizationId, plan.code);
    }
    res.json({ billable_metric: serializeBillableMetric(deleted) });
  });

  return router;
}
