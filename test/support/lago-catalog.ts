/**
 * The seed's catalog through Lago's official client: a recurring unique count of `user_id` and the
 * `team` plan at 0 with a prorated standard charge of $10 per seat per month.
 */
import type { Client } from 'lago-javascript-client';

/** The recurring unique count of `user_id`, code `seats`. */
export async function createSeatsMetric(lago: ReturnType<typeof Client>) {
  const { data } = await lago.billableMetrics.createBillableMetric({
    billable_metric: {
      name: 'Seats',
      code: 'seats',
      aggregation_type: 'unique_count_agg',
      field_name: 'user_id',
      recurring: true,
    },
  });
  return data;
}

export async function createSeatCatalog(lago: ReturnType<typeof Client>) {
  const metric = await createSeatsMetric(lago);
  const { data: plan } = await lago.plans.createPlan({
    plan: {
      name: 'Team',
      code: 'team',
      interval: 'monthly',
      amount_cents: 0,
      amount_currency: 'USD',
      pay_in_advance: false,
      charges: [
        {
          billable_metric_id: metric.billable_metric.lago_id,
          code: 'seat_fee',
          charge_model: 'standard',
          prorated: true,
          properties: { amount: '10' },
        },
      ],
    },
  });
  return { metric, plan };
}
