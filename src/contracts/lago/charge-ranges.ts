/**
 * Lago's `graduated_ranges` / `volume_ranges` at the edge: validation with Lago's error codes
 * (`Charges::Validators::GraduatedService`, `VolumeService`, `Validators::RangeBoundsValidator`)
 * and the one mapping to billing's `TierRange`.
 *
 * Lago's bounds rule, per range in order: `from_value` equals the expected start or is one more
 * (first range: 0 or 1; after a graduated range: its `to_value`, after a volume range: its
 * `to_value + 1`); every range but the last has a `to_value` above its `from_value`; the last has
 * none. Amounts (`per_unit_amount`, `flat_amount`) are non-negative decimal strings.
 */
import type { TierRange } from '../../billing/tier-ranges';
import { Dec } from '../../billing/money';
import { addDetail, type LagoErrorDetails } from './error-details';
import { isNonNegativeDecimalString } from './fields';

export type TieredChargeModel = 'graduated' | 'volume';

const RANGES_KEY: Record<TieredChargeModel, 'graduated_ranges' | 'volume_ranges'> = {
  graduated: 'graduated_ranges',
  volume: 'volume_ranges',
};

/** A bound as an exact decimal string: JSON numbers (Lago's examples use them) or numeric strings. */
function boundOf(value: unknown): string | null {
  // A JSON number is read from its shortest text (0.1 stays "0.1"); exponents and negatives are out.
  const text = typeof value === 'number' ? String(value) : value;
  return typeof text === 'string' && /^\d{1,20}(\.\d{1,20})?$/.test(text) ? text : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Lago's error details for a tiered charge's properties (empty when valid). */
export function tierRangeErrors(
  model: TieredChargeModel,
  properties: Record<string, unknown>,
): LagoErrorDetails {
  const key = RANGES_KEY[model];
  const details: LagoErrorDetails = {};
  const ranges = properties[key];
  if (!Array.isArray(ranges) || ranges.length === 0) {
    addDetail(details, key, `missing_${key}`);
    return details;
  }
  let expectedFrom = new Dec(0);
  ranges.forEach((range: unknown, index) => {
    const fields = isRecord(range) ? range : {};
    if (!isNonNegativeDecimalString(fields.per_unit_amount))
      addDetail(details, 'per_unit_amount', 'invalid_amount');
    if (!isNonNegativeDecimalString(fields.flat_amount)) addDetail(details, 'flat_amount', 'invalid_amount');
    const from = boundOf(fields.from_value);
    const to = fields.to_value === null || fields.to_value === undefined ? null : boundOf(fields.to_value);
    const last = index === ranges.length - 1;
    const toMissing = fields.to_value === null || fields.to_value === undefined;
    const validFrom =
      from !== null && (new Dec(from).eq(expectedFrom) || new Dec(from).eq(expectedFrom.plus(1)));
    const validTo = last ? toMissing : to !== null && from !== null && new Dec(to).gt(new Dec(from));
    if (!isRecord(range) || !validFrom || !validTo) addDetail(details, key, `invalid_${key}`);
    const toValue = to === null ? new Dec(0) : new Dec(to);
    expectedFrom = model === 'graduated' ? toValue : toValue.plus(1);
  });
  return details;
}

/** Billing's tiers from properties that passed `tierRangeErrors`, or null when they did not. */
export function tierRangesOf(
  model: TieredChargeModel,
  properties: Record<string, unknown>,
): TierRange[] | null {
  if (Object.keys(tierRangeErrors(model, properties)).length > 0) return null;
  return (properties[RANGES_KEY[model]] as Record<string, unknown>[]).map((range) => ({
    fromValue: boundOf(range.from_value) as string,
    toValue:
      range.to_value === null || range.to_value === undefined ? null : (boundOf(range.to_value) as string),
    perUnitAmount: range.per_unit_amount as string,
    flatAmount: range.flat_amount as string,
  }));
}
