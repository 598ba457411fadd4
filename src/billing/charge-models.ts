/**
 * Charge models: how a charge turns aggregated units into an amount (in currency units, unrounded;
 * the fee rounds once). Keyed by Lago's `charge_model`: `standard` (per seat), `graduated` and
 * `volume` (tiered seat prices, docs/tiered-seat-prices.md).
 */
import { graduatedAmount, proratedGraduatedAmount, type ProratedStep } from './graduated-charge';
import { Dec } from './money';
import type { TierRange } from './tier-ranges';
import { volumeAmount } from './volume-charge';

/** `properties` of each supported model (camelCase; mapped from Lago's in src/contracts). */
export interface ChargePropertiesByModel {
  standard: { amount: string };
  graduated: { graduatedRanges: TierRange[] };
  volume: { volumeRanges: TierRange[] };
}

export type ChargeModelName = keyof ChargePropertiesByModel;
export type ChargeProperties = ChargePropertiesByModel[ChargeModelName];

/**
 * What a charge model may price. `billedUnits` is what the fee bills (prorated units for a prorated
 * charge, else `units`); `units` is never prorated (seats active at the end of the window);
 * `proratedSteps` is the per-add breakdown of a prorated seat charge (null when not prorated).
 */
export interface ChargeQuantity {
  billedUnits: Dec;
  units: Dec;
  proratedSteps: readonly ProratedStep[] | null;
}

type ChargeModel<M extends ChargeModelName> = (
  quantity: ChargeQuantity,
  properties: ChargePropertiesByModel[M],
) => Dec;

export const chargeModels: { readonly [M in ChargeModelName]: ChargeModel<M> } = {
  /** Lago `ChargeModels::StandardService`: units × amount. */
  standard: (quantity, properties) => quantity.billedUnits.times(new Dec(properties.amount)),
  /** Lago `GraduatedService`, or `ProratedGraduatedService` over the per-add breakdown. */
  graduated: (quantity, properties) =>
    quantity.proratedSteps === null
      ? graduatedAmount(properties.graduatedRanges, quantity.billedUnits)
      : proratedGraduatedAmount(properties.graduatedRanges, quantity.proratedSteps),
  /** Lago `VolumeService`: the tier is chosen by the full (not prorated) units. */
  volume: (quantity, properties) =>
    volumeAmount(properties.volumeRanges, quantity.billedUnits, quantity.units),
};

export const CHARGE_MODEL_NAMES = Object.keys(chargeModels) as ChargeModelName[];

export function isChargeModelName(value: string): value is ChargeModelName {
  return Object.prototype.hasOwnProperty.call(chargeModels, value);
}

/** The amount of a charge model (negative results are reset to 0, as Lago does). */
export function chargeAmount(
  model: ChargeModelName,
  quantity: ChargeQuantity,
  properties: ChargeProperties,
): Dec {
  const price = chargeModels[model] as ChargeModel<ChargeModelName>;
  const amount = (price as (q: ChargeQuantity, p: ChargeProperties) => Dec)(quantity, properties);
  return amount.isNegative() ? new Dec(0) : amount;
}
