/**
 * Volume prices (Lago `ChargeModels::VolumeService`), rules in docs/tiered-seat-prices.md: the
 * whole quantity is priced at the per-unit amount of the ONE tier holding the total, plus that
 * tier's flat amount. Prorated, the tier is chosen by the seats active at the end of the window
 * (Lago's `full_units_number`) and its per-unit amount applies to the prorated units.
 */
import { Dec } from './money';
import { tierIndexOf, type TierRange } from './tier-ranges';

/** Unrounded amount: `billedUnits × perUnit + flat` of the tier holding `tierUnits`. */
export function volumeAmount(ranges: readonly TierRange[], billedUnits: Dec, tierUnits: Dec): Dec {
  const range = ranges[tierIndexOf(ranges, tierUnits)] as TierRange;
  return billedUnits.times(new Dec(range.perUnitAmount)).plus(new Dec(range.flatAmount));
}
