import { isDuplicateKey } from '../../src/store/database';
import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import type { Db } from 'mongodb';
import { z } from 'zod';
import type { ApiDeps } from '../app';
import { organizationOf } from '../auth';
import { ApiError, notFound, validationErrors } from '../errors';
import { registerRoute } from '../openapi';
import { paginationMeta, paginationQuery } from '../pagination';
import { parseQuery, parseRoot } from '../validation';
import { serializePlan } from '../../src/contracts/lago/serializers/plan';
import {
  addDetail,
  hasDetails,
  parseLagoInput,
  type LagoErrorDetails,
} from '../../src/contracts/lago/error-details';
import {
  chargeProperties,
  chargeRuleErrors,
  planCreateInput,
  planUpdateInput,
  type ChargeInput,
  type PlanInterval,
} from '../../src/contracts/lago/plan';
import {
  findBillableMetricsByIds,
  findLiveBillableMetricsByIds,
  type BillableMetricDoc,
} from '../../src/store/billable-metrics';
import {
  findPlan,
  findPlanWithMetrics,
  insertPlan,
  listPlans,
  softDeletePlan,
  updatePlan,
  type ChargeDoc,
  type PlanDoc,
  type PlanFields,
} from '../../src/store/plans';

const ROOT = 'plan';

registerRoute({
  method: 'post',
  path: '/plans',
  summary: 'Create a plan with its charges',
  requestRoot: ROOT,
  requestSchema: planCreateInput,
  responses: {
    200: { description: 'The plan', root: ROOT },
    400: 'No `plan` root',
    404: '`billable_metrics_not_found` (a charge names an unknown metric) or `tax_not_found`',
    422: 'Invalid fields, a charge rule broken (e.g. `prorated`), or `code` already used',
  },
});
registerRoute({
  method: 'get',
  path: '/plans',
  summary: 'List the live plans, newest first',
  query: paginationQuery,
  responses: { 200: { description: 'One page of plans', root: 'plans', list: true } },
});
registerRoute({
  method: 'get',
  path: '/plans/{code}',
  summary: 'Find a plan by code',
  responses: { 200: { description: 'The plan', root: ROOT }, 404: '`plan_not_found`' },
});
registerRoute({
  method: 'put',
  path: '/plans/{code}',
  summary:
    'Update a plan (any subset of fields). `charges`, when sent, replaces the list: a charge whose `id` is an existing charge lago_id keeps it.',
  requestRoot: ROOT,
  requestSchema: planUpdateInput,
  responses: {
    200: { description: 'The plan', root: ROOT },
    400: 'No `plan` root',
    404: '`plan_not_found`, `billable_metrics_not_found` or `tax_not_found`',
    422: 'Invalid fields or charge rules',
  },
});
registerRoute({
  method: 'delete',
  path: '/plans/{code}',
  summary: 'Delete a plan (soft delete; the code can be reused)',
  responses: {
    200: { description: 'The plan, with `pending_deletion: true`', root: ROOT },
    404: '`plan_not_found`',
  },
});

/** Lago reports each charge as its own record: `charges[0].properties` errors are keyed `properties`. */
const FLATTENED = ['charges'];

function body<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  const parsed = parseLagoInput(schema, parseRoot(req, ROOT, z.unknown()), FLATTENED);
  if (!parsed.ok) throw validationErrors(parsed.details);
  return parsed.data;
}

/** prorata has no taxes: any tax code is unknown, as an unknown one is in Lago. */
function refuseTaxCodes(codes: readonly string[] | null | undefined): void {
  if (codes && codes.length > 0) throw notFound('tax');
}

/**
 * The charges of a plan from the request: metrics resolved (404 `billable_metrics_not_found`, as
 * Lago, when one is unknown, deleted or another organization's), codes defaulted to the metric code
 * (suffixed `_2`, `_3`... when the plan already has it), and Lago's charge rules applied.
 */
async function buildCharges(
  db: Db,
  organizationId: string,
  inputs: readonly ChargeInput[],
  previous: readonly ChargeDoc[],
  details: LagoErrorDetails,
): Promise<{ charges: ChargeDoc[]; metrics: BillableMetricDoc[] }> {
  for (const input of inputs) refuseTaxCodes(input.tax_codes);
  const metricIds = [...new Set(inputs.map((c) => c.billable_metric_id))];
  const metrics = await findLiveBillableMetricsByIds(db, organizationId, metricIds);
  if (metrics.length !== metricIds.length) throw notFound('billable_metrics');
  const metricById = new Map(metrics.map((m) => [m._id, m]));
  const previousById = new Map(previous.map((c) => [c.lago_id, c]));

  const explicit = inputs.map((c) => (c.code?.trim() ? c.code : null));
  const used = new Set<string>();
  for (const code of explicit) {
    if (code === null) continue;
    if (used.has(code)) addDetail(details, 'code', 'value_already_exist');
    used.add(code);
  }

  const now = new Date();
  const charges = inputs.map((input, index): ChargeDoc => {
    const metric = metricById.get(input.billable_metric_id) as BillableMetricDoc;
    let code = explicit[index] ?? null;
    if (code === null) {
      code = metric.code;
      for (let n = 2; used.has(code); n++) code = `${metric.code}_${n}`;
      used.add(code);
    }
    const kept = input.id ? previousById.get(input.id) : undefined;
    const properties = chargeProperties(input.charge_model, input.properties);
    const charge: ChargeDoc = {
      lago_id: kept?.lago_id ?? randomUUID(),
      billable_metric_id: metric._id,
      code,
      invoice_display_name: input.invoice_display_name ?? null,
      charge_model: input.charge_model,
      pay_in_advance: input.pay_in_advance ?? false,
      invoiceable: input.invoiceable ?? true,
      regroup_paid_fees: input.regroup_paid_fees ?? null,
      prorated: input.prorated ?? false,
      min_amount_cents: input.min_amount_cents ?? 0,
      accepts_target_wallet: input.accepts_target_wallet ?? false,
      properties_json: JSON.stringify(properties),
      filters_json: JSON.stringify(input.filters ?? []),
      created_at: kept?.created_at ?? now,
      updated_at: now,
    };
    for (const [field, codes] of Object.entries(chargeRuleErrors({ ...charge, properties }, metric))) {
      for (const c of codes) addDetail(details, field, c);
    }
    return charge;
  });
  return { charges, metrics };
}

/** Lago bills charges monthly on yearly plans only; the flags are null on other intervals. */
const monthlyFlag = (interval: PlanInterval, requested: boolean | null | undefined) =>
  interval === 'yearly' ? (requested ?? false) : null;

const duplicateCode = () => validationErrors({ code: ['value_already_exist'] });

async function metricsOfPlans(db: Db, organizationId: string, plans: readonly PlanDoc[]) {
  const ids = [...new Set(plans.flatMap((p) => p.charges.map((c) => c.billable_metric_id)))];
  return findBillableMetricsByIds(db, organizationId, ids);
}

export function planRoutes(deps: ApiDeps): Router {
  const { db } = deps;
  const router = Router();

  router.post('/', async (req, res) => {
    const organizationId = organizationOf(req)._id;
    const input = body(req, planCreateInput);
    refuseTaxCodes(input.tax_codes);
    const details: LagoErrorDetails = {};
    if (await findPlan(db, organizationId, input.code)) addDetail(details, 'code', 'value_already_exist');
    const { charges, metrics } = await buildCharges(db, organizationId, input.charges ?? [], [], details);
    if (hasDetails(details)) throw validationErrors(details);
    const fields: PlanFields = {
      name: input.name,
      code: input.code,
      interval: input.interval,
      description: input.description ?? null,
      invoice_display_name: input.invoice_display_name ?? null,
      amount_cents: input.amount_cents,
      amount_currency: input.amount_currency,
      pay_in_advance: input.pay_in_advance,
      trial_period: input.trial_period ?? 0,
      bill_charges_monthly: monthlyFlag(input.interval, input.bill_charges_monthly),
      bill_fixed_charges_monthly: monthlyFlag(input.interval, input.bill_fixed_charges_monthly),
      metadata_json: input.metadata ? JSON.stringify(input.metadata) : null,
      charges,
    };
    try {
      const plan = await insertPlan(db, organizationId, fields);
      res.json({ plan: serializePlan(plan, metrics) });
    } catch (err) {
      if (isDuplicateKey(err)) throw duplicateCode();
      throw err;
    }
  });

  router.get('/', async (req, res) => {
    const organizationId = organizationOf(req)._id;
    const page = parseQuery(req, paginationQuery);
    const { items, totalCount } = await listPlans(db, organizationId, {
      skip: (page.page - 1) * page.per_page,
      limit: page.per_page,
    });
    const metrics = await metricsOfPlans(db, organizationId, items);
    res.json({ plans: items.map((p) => serializePlan(p, metrics)), meta: paginationMeta(page, totalCount) });
  });

  router.get('/:code', async (req, res) => {
    const found = await findPlanWithMetrics(db, organizationOf(req)._id, req.params.code);
    if (!found) throw notFound('plan');
    res.json({ plan: serializePlan(found.plan, found.billableMetrics) });
  });

  router.put('/:code', async (req, res) => {
    const organizationId = organizationOf(req)._id;
    const input = body(req, planUpdateInput);
    refuseTaxCodes(input.tax_codes);
    // Optimistic concurrency: a plan changed between read and write is read again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await findPlan(db, organizationId, req.params.code);
      if (!existing) throw notFound('plan');
      const details: LagoErrorDetails = {};
      const code = input.code ?? existing.code;
      if (code !== existing.code && (await findPlan(db, organizationId, code))) {
        addDetail(details, 'code', 'value_already_exist');
      }
      let charges = existing.charges;
      let metrics: BillableMetricDoc[] | null = null;
      if (input.charges) {
        ({ charges, metrics } = await buildCharges(
          db,
          organizationId,
          input.charges,
          existing.charges,
          details,
        ));
      }
      if (hasDetails(details)) throw validationErrors(details);
      const interval = input.interval ?? existing.interval;
      const fields: PlanFields = {
        name: input.name ?? existing.name,
        code,
        interval,
        description: input.description !== undefined ? input.description : existing.description,
        invoice_display_name:
          input.invoice_display_name !== undefined
            ? input.invoice_display_name
            : existing.invoice_display_name,
        amount_cents: input.amount_cents ?? existing.amount_cents,
        amount_currency: input.amount_currency ?? existing.amount_currency,
        pay_in_advance: input.pay_in_advance ?? existing.pay_in_advance,
        trial_period: input.trial_period !== undefined ? (input.trial_period ?? 0) : existing.trial_period,
        bill_charges_monthly: monthlyFlag(
          interval,
          input.bill_charges_monthly !== undefined
            ? input.bill_charges_monthly
            : existing.bill_charges_monthly,
        ),
        bill_fixed_charges_monthly: monthlyFlag(
          interval,
          input.bill_fixed_charges_monthly !== undefined
            ? input.bill_fixed_charges_monthly
            : existing.bill_fixed_charges_monthly,
        ),
        metadata_json:
          input.metadata !== undefined
            ? input.metadata
              ? JSON.stringify(input.metadata)
              : null
            : existing.metadata_json,
        charges,
      };
      let updated: PlanDoc | null;
      try {
        updated = await updatePlan(db, organizationId, existing._id, existing.revision, fields);
      } catch (err) {
        if (isDuplicateKey(err)) throw duplicateCode();
        throw err;
      }
      if (!updated) continue;
      await deps.onPlanUpdated?.(organizationId, updated.code);
      res.json({
        plan: serializePlan(updated, metrics ?? (await metricsOfPlans(db, organizationId, [updated]))),
      });
      return;
    }
    throw new ApiError(409, { status: 409, error: 'Conflict', code: 'plan_updated_concurrently' });
  });

  router.delete('/:code', async (req, res) => {
    const organizationId = organizationOf(req)._id;
    const existing = await findPlan(db, organizationId, req.params.code);
    if (!existing) throw notFound('plan');
    const deleted = await softDeletePlan(db, organizationId, existing._id);
    if (!deleted) throw notFound('plan');
    const metrics = await metricsOfPlans(db, organizationId, [deleted]);
    res.json({ plan: serializePlan(deleted, metrics, { pendingDeletion: true }) });
  });

  return router;
}
