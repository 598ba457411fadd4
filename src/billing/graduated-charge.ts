/**
 * Graduated prices (Lago `ChargeModels::GraduatedService` and `ProratedGraduatedService`), rules in
 * docs/tiered-seat-prices.md.
 *
 * Not prorated: each tier prices the units that fall inside it at its own per-unit amount, and each
 * tier reached adds its flat amount; the first tier is always reached (0 units still pay its flat
 * amount, as Lago does).
 *
 * Prorated (seats by the day): the units are not one number but a sequence of adds and removes in
 * time order. Each add raises the running seat count to `n` and is priced at the per-unit amount of
 * the tier holding `n`, for its own prorated ratio `ceil5(days / D)`; removes only lower the count.
 * Flat amounts are those of every tier up to the one holding the highest count reached.
 */
import { Dec } from './money';
import { tierIndexOf, type TierRange } from './tier-ranges';

/** Unrounded amount of a graduated price for `units` (not prorated). */
export function graduatedAmount(ranges: readonly TierRange[], units: Dec): Dec {
  let amount = new Dec(0);
  let below = new Dec(0);
  for (const range of ranges) {
    const top = range.toValue === null ? units : Dec.min(units, new Dec(range.toValue));
    // Units in this tier: those above the previous tier's upper bound, up to this one's. Measured
    // from the previous bound (not from `from_value`), so integer tiers (0-10, 11-20) hold 10 units
    // each and 10.5 units put 0.5 in the second tier, as Lago counts them.
    const inTier = Dec.max(top.minus(below), 0);
    amount = amount.plus(inTier.times(new Dec(range.perUnitAmount))).plus(new Dec(range.flatAmount));
    if (range.toValue === null || units.lte(new Dec(range.toValue))) break;
    below = new Dec(range.toValue);
  }
  return amount;
}

/**
 * One step of a prorated unit sequence: an add (`fullUnits` +1 for a seat) with its prorated ratio,
 * or a remove (`fullUnits` -1, `proratedUnits` 0 for a seat: its days are already in its add's
 * ratio). Lago's `event_aggregation` / `event_prorated_aggregation` pairs.
 */
export interface ProratedStep {
  fullUnits: Dec;
  proratedUnits: Dec;
}

/**
 * Unrounded amount of a prorated graduated price over steps in time order. A step of several units
 * (sum metrics; Lago's specs use them) spreads its prorated value evenly over the unit positions it
 * covers, each position priced at its tier: for a seat step that is the single position `n`.
 */
export function proratedGraduatedAmount(ranges: readonly TierRange[], steps: readonly ProratedStep[]): Dec {
  let count = new Dec(0);
  let highest = new Dec(0);
  let priced = new Dec(0);
  for (const step of steps) {
    if (step.fullUnits.isZero()) continue;
    const next = count.plus(step.fullUnits);
    const low = Dec.min(count, next);
    const high = Dec.max(count, next);
    const perPosition = step.proratedUnits.div(step.fullUnits.abs());
    let below = new Dec(0);
    for (const range of ranges) {
      const top = range.toValue === null ? high : Dec.min(high, new Dec(range.toValue));
      const inTier = Dec.max(top.minus(Dec.max(low, below)), 0);
      priced = priced.plus(inTier.times(perPosition).times(new Dec(range.perUnitAmount)));
      if (range.toValue === null || high.lte(new Dec(range.toValue))) break;
      below = new Dec(range.toValue);
    }
    count = next;
    if (count.gt(highest)) highest = count;
  }
  // Lago bills nothing when the units end negative (sum metrics only; a seat count cannot).
  if (count.isNegative()) return new Dec(0);
  let flat = new Dec(0);
  const lastTier = tierIndexOf(ranges, highest);
  for (let i = 0; i <= lastTier; i += 1) flat = flat.plus(new Dec((ranges[i] as TierRange).flatAmount));
  return Dec.max(priced, 0).plus(flat);
}
