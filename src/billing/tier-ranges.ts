/**
 * Tiers of a graduated or volume price (Lago's `graduated_ranges` / `volume_ranges`), as billing
 * sees them: decimal strings, camelCase, already validated at the edge (src/contracts).
 *
 * One reading serves both models: a quantity `q` falls in the FIRST tier whose upper bound is null
 * or at least `q`. For the range lists Lago accepts (each `from_value` equal to the previous
 * `to_value`, "adjacent", or one more, "integer" tiers) this is where Lago puts it: with 0-5 and
 * 6-∞, the 5th seat is in the first tier and the 6th (and 5.5 units) in the second.
 */
import { Dec } from './money';

export interface TierRange {
  fromValue: string;
  /** Null on the last, open-ended tier. */
  toValue: string | null;
  perUnitAmount: string;
  flatAmount: string;
}

/** Index of the tier holding quantity `q` (the last tier when every bound is below it). */
export function tierIndexOf(ranges: readonly TierRange[], q: Dec): number {
  for (let i = 0; i < ranges.length; i += 1) {
    const to = (ranges[i] as TierRange).toValue;
    if (to === null || q.lte(new Dec(to))) return i;
  }
  return ranges.length - 1;
}
