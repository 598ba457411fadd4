import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { ApiDeps } from '../app';
import { organizationOf } from '../auth';
import { notFound, validationErrors } from '../errors';
import { registerRoute } from '../openapi';
import { findPage, paginationMeta, paginationQuery } from '../pagination';
import { parseQuery, parseRoot } from '../validation';
import { serializeSubscription } from '../../src/contracts/lago/serializers/subscription';
import { serializePlan } from '../../src/contracts/lago/serializers/plan';
import {
  subscriptionCreateInput,
  subscriptionListQuery,
  subscriptionStatusQuery,
  subscriptionUpdateInput,
} from '../../src/contracts/lago/subscription';
import { findPlanWithMetrics, plans } from '../../src/store/plans';
import { billingSnapshotOf } from '../../src/contracts/billing-snapshot';
import { currentBillingPeriod } from '../../src/billing/billing-period';
import { scheduleOf } from '../../src/billing/billing-cycle';
import { buildSubscriptionWorkflowInput } from '../../src/temporal/subscription-input';
import { upsertCustomer } from '../../src/store/customers';
import { changeSubscriptionPlan } from '../plan-change';
import {
  findSubscription,
  findSubscriptionWithStatus,
  insertSubscription,
  listSubscriptionPage,
  type SubscriptionStatus,
  subscriptions,
  type SubscriptionDoc,
} from '../../src/store/subscriptions';
import { subscriptionWorkflowId } from '../../src/temporal/ids';
import {
  startSubscriptionWorkflow,
  terminateSubscriptionWorkflow,
  changeSubscriptionEnd,
} from '../subscription-control';

const ROOT = 'subscription';

registerRoute({
  method: 'post',
  path: '/subscriptions',
  summary: 'Create a subscription (starts its workflow); creates the customer if missing',
  requestRoot: ROOT,
  requestSchema: subscriptionCreateInput,
  responses: {
    200: { description: 'The subscription', root: ROOT },
    404: '`plan_not_found`',
    422: 'Invalid fields',
  },
});
registerRoute({
  method: 'get',
  path: '/subscriptions/{external_id}',
  summary: 'Find a subscription (active unless `status` says otherwise)',
  query: subscriptionStatusQuery,
  responses: {
    200: { description: 'The subscription with its plan', root: ROOT },
    404: '`subscription_not_found`',
  },
});
registerRoute({
  method: 'get',
  path: '/subscriptions',
  summary: 'List subscriptions (active only unless `status[]` is given)',
  query: paginationQuery.extend(subscriptionListQuery.shape),
  responses: { 200: { description: 'One page of subscriptions', root: 'subscriptions', list: true } },
});
registerRoute({
  method: 'put',
  path: '/subscriptions/{external_id}',
  summary: 'Update `name` or `ending_at`',
  requestRoot: ROOT,
  requestSchema: subscriptionUpdateInput,
  responses: { 200: { description: 'The subscription', root: ROOT }, 404: '`subscription_not_found`' },
});
registerRoute({
  method: 'delete',
  path: '/subscriptions/{external_id}',
  summary: 'Terminate: bills the period up to now in a final invoice (pending ones are canceled)',
  query: subscriptionStatusQuery,
  responses: {
    200: { description: 'The terminated subscription', root: ROOT },
    404: '`subscription_not_found`',
  },
});

export function subscriptionRoutes(deps: ApiDeps): Router {
  const router = Router();
  const db = deps.db;

  /** One subscription with its full plan (GET, create, update, delete). */
  async function render(doc: SubscriptionDoc) {
    const found = await findPlanWithMetrics(db, doc.organization_id, doc.plan_code);
    const plan = found?.plan ?? (await plans(db).findOne({ _id: doc.plan_id }));
    return serializeSubscription(
      doc,
      plan,
      found ? serializePlan(found.plan, found.billableMetrics) : undefined,
    );
  }

  router.post('/', async (req, res) => {
    const org = organizationOf(req);
    const input = parseRoot(req, ROOT, subscriptionCreateInput);
    const planWithMetrics = await findPlanWithMetrics(db, org._id, input.plan_code);
    if (!planWithMetrics) throw notFound('plan');
    const plan = planWithMetrics.plan;
    // Never bill a charge as zero because billing cannot price it yet: refuse the subscription.
    const snapshot = billingSnapshotOf(planWithMetrics);
    if (!snapshot.ok)
      throw validationErrors({ plan_code: [...new Set(snapshot.problems.map((p) => p.problem))] });
    const now = new Date();
    const subscriptionAt = input.subscription_at ? new Date(input.subscription_at) : now;
    const endingAt = input.ending_at ? new Date(input.ending_at) : null;
    if (endingAt && endingAt <= subscriptionAt) throw validationErrors({ ending_at: ['invalid_date'] });

    /**
     * A subscription with this external id is stored (a retried create, or a concurrent one that
     * won): the same create answers it; another plan is a plan change (api/plan-change.ts);
     * another customer is refused.
     */
    const answerStored = async (stored: SubscriptionDoc | null) => {
      if (!stored || stored.external_customer_id !== input.external_customer_id)
        throw validationErrors({ external_id: ['value_already_exist'] });
      if (stored.plan_code !== input.plan_code) {
        const changed = await changeSubscriptionPlan(deps, stored, planWithMetrics, input);
        return res.json({ subscription: await render(changed) });
      }
      // Make sure its workflow runs (USE_EXISTING), return it as it is.
      await startSubscriptionWorkflow(deps, stored);
      res.json({ subscription: await render(stored) });
    };
    const existing = await findSubscription(db, org._id, input.external_id);
    if (existing) return answerStored(existing);

    const { customer } = await upsertCustomer(db, org._id, { external_id: input.external_customer_id });
    const doc: SubscriptionDoc = {
      _id: randomUUID(),
      organization_id: org._id,
      external_id: input.external_id,
      external_customer_id: customer.external_id,
      customer_id: customer._id,
      plan_id: plan._id,
      plan_code: plan.code,
      name: input.name ?? null,
      status: subscriptionAt <= now ? 'active' : 'pending',
      billing_time: input.billing_time ?? 'calendar',
      subscription_at: subscriptionAt,
      started_at: subscriptionAt <= now ? subscriptionAt : null,
      ending_at: endingAt,
      terminated_at: null,
      canceled_at: null,
      created_at: now,
      updated_at: now,
      current_billing_period_started_at: null,
      current_billing_period_ending_at: null,
      active_units: {},
      workflow_id: subscriptionWorkflowId(org._id, input.external_id),
    };
    if (doc.status === 'active') {
      // Shown at once (the workflow projects the same period as it runs), from the terms its
      // workflow is started with; none while pending.
      const { terms } = buildSubscriptionWorkflowInput(doc, customer, planWithMetrics);
      const period = currentBillingPeriod(scheduleOf(terms), subscriptionAt.getTime(), now.getTime());
      doc.current_billing_period_started_at = new Date(period.startAt);
      doc.current_billing_period_ending_at = new Date(period.endAt);
    }
    if ((await insertSubscription(db, doc)) === 'exists')
      return answerStored(await findSubscription(db, org._id, input.external_id));
    await startSubscriptionWorkflow(deps, doc);
    const stored = (await subscriptions(db).findOne({ _id: doc._id })) ?? doc;
    res.json({ subscription: await render(stored) });
  });

  router.get('/:externalId', async (req, res) => {
    const org = organizationOf(req);
    const q = parseQuery(req, subscriptionStatusQuery);
    const doc = await findSubscriptionWithStatus(db, org._id, String(req.params.externalId), [
      q.status ?? 'active',
    ]);
    if (!doc) throw notFound('subscription');
    res.json({ subscription: await render(doc) });
  });

  router.get('/', async (req, res) => {
    const org = organizationOf(req);
    const q = parseQuery(req, paginationQuery.extend(subscriptionListQuery.shape));
    const statusParam = q['status[]'] ?? q.status;
    const statuses: SubscriptionStatus[] =
      statusParam === undefined ? ['active'] : Array.isArray(statusParam) ? statusParam : [statusParam];
    const filter: Record<string, unknown> = { organization_id: org._id, status: { $in: statuses } };
    if (q.external_customer_id) filter.external_customer_id = q.external_customer_id;
    if (q.plan_code) filter.plan_code = q.plan_code;
    // By organization or customer and status alone: list entries and counts read by `_id`.
    const { docs, meta } = q.plan_code
      ? await findPage(subscriptions(db), filter, q)
      : await listSubscriptionPage(
          db,
          org._id,
          { externalCustomerId: q.external_customer_id || undefined, statuses },
          { skip: (q.page - 1) * q.per_page, limit: q.per_page },
        ).then(({ docs, totalCount }) => ({ docs, meta: paginationMeta(q, totalCount) }));
    // List items carry the plan's amount but not the plan (Lago): the page's plans, by `_id`.
    const planIds = [...new Set(docs.map((d) => d.plan_id))];
    const pagePlans = await Promise.all(planIds.map((_id) => plans(db).findOne({ _id })));
    const planOf = new Map(pagePlans.flatMap((p) => (p ? [[p._id, p] as const] : [])));
    res.json({
      subscriptions: docs.map((d) => serializeSubscription(d, planOf.get(d.plan_id) ?? null)),
      meta,
    });
  });

  router.put('/:externalId', async (req, res) => {
    const org = organizationOf(req);
    const input = parseRoot(req, ROOT, subscriptionUpdateInput);
    const externalId = String(req.params.externalId);
    const doc =
      (await findSubscriptionWithStatus(db, org._id, externalId, ['active'])) ??
      (await findSubscriptionWithStatus(db, org._id, externalId, ['pending']));
    if (!doc) throw notFound('subscription');
    const set: Partial<SubscriptionDoc> = { updated_at: new Date() };
    if (input.name !== undefined) set.name = input.name;
    if (input.ending_at !== undefined) {
      const endingAt = input.ending_at === null ? null : new Date(input.ending_at);
      if (endingAt && endingAt <= doc.subscription_at)
        throw validationErrors({ ending_at: ['invalid_date'] });
      await changeSubscriptionEnd(deps, doc, endingAt);
      set.ending_at = endingAt;
    }
    await subscriptions(db).updateOne({ _id: doc._id }, { $set: set });
    res.json({ subscription: await render({ ...doc, ...set }) });
  });

  router.delete('/:externalId', async (req, res) => {
    const org = organizationOf(req);
    const q = parseQuery(req, subscriptionStatusQuery);
    const doc = await findSubscriptionWithStatus(db, org._id, String(req.params.externalId), [
      q.status ?? 'active',
    ]);
    if (!doc || (doc.status !== 'active' && doc.status !== 'pending')) throw notFound('subscription');
    // A pending downgrade ends with the subscription it replaces (terminate that one instead).
    if (doc.status === 'pending' && doc.previous_subscription_id)
      throw validationErrors({ status: ['pending_plan_change'] });
    const ended = await terminateSubscriptionWorkflow(deps, doc);
    res.json({ subscription: await render(ended) });
  });

  return router;
}
