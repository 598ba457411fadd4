/**
 * The plan as billing sees it: camelCase domain types, mapped once from Lago's shapes at the edge
 * (src/contracts). Prices are decimal strings, the subscription fee integer minor units.
 */
import type { Interval } from './billing-period';
import type { ChargeModelName, ChargeProperties } from './charge-models';

export interface Charge {
  code: string;
  lagoId: string | null;
  billableMetricCode: string;
  chargeModel: ChargeModelName;
  /** Bill seats by the day (recurring unique counts only, SPEC section 1). */
  prorated: boolean;
  properties: ChargeProperties;
  invoiceDisplayName: string | null;
  /**
   * Billed when each seat is added (SPEC section 8, `in-advance-cycle.ts`): prorated standard
   * charges only. Absent (older workflow states) means in arrears.
   */
  payInAdvance?: boolean;
}

export interface Plan {
  code: string;
  interval: Interval;
  /** Subscription fee per period, integer minor units of `currency`. */
  amountCents: number;
  currency: string;
  /** Subscription fee billed at the start of each period instead of at its end (see subscription-fee.ts). */
  payInAdvance: boolean;
  charges: Charge[];
  /** Lago's `trial_period`, whole days without subscription fee (trial.ts). Absent: no trial. */
  trialPeriodDays?: number;
}
