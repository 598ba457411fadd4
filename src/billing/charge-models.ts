/**
 * Charge models: how a charge turns aggregated units into an amount (in currency units, unrounded;
 * the fee rounds once). Keyed by Lago's `charge_model`; `standard` is what per-seat billing uses.
 * Graduated and volume plug in here: add their properties type to `ChargePropertiesByModel` and a
 * function to `chargeModels`, and the fee code needs no change.
 */
import { Dec } from './money';

/** `properties` of each supported model, as decimal strings (Lago's `"amount": "10"`). */
export interface ChargePropertiesByModel {
  standard: { amount: string };
}

export type ChargeModelName = keyof ChargePropertiesByModel;
export type ChargeProperties = ChargePropertiesByModel[ChargeModelName];

type ChargeModel<M extends ChargeModelName> = (units: Dec, properties: ChargePropertiesByModel[M]) => Dec;

export const chargeModels: { readonly [M in ChargeModelName]: ChargeModel<M> } = {
  /** Lago `ChargeModels::StandardService`: units × amount. */
  standard: (units, properties) => units.times(new Dec(properties.amount)),
};

export const CHARGE_MODEL_NAMES = Object.keys(chargeModels) as ChargeModelName[];

export function isChargeModelName(value: string): value is ChargeModelName {
  return Object.prototype.hasOwnProperty.call(chargeModels, value);
}

/** The amount of a charge model for some units (negative results are reset to 0, as Lago does). */
export function chargeAmount(model: ChargeModelName, units: Dec, properties: ChargeProperties): Dec {
  const amount = chargeModels[model](units, properties);
  return amount.isNegative() ? new Dec(0) : amount;
}
