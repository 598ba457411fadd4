/**
 * prorata's billing core: pure, deterministic functions over plain JSON-able data (no I/O, no
 * clock, no randomness). Used by the subscription workflow, the API and `prorata simulate`.
 */
export * from './money';
export * from './local-time';
export * from './instant';
export * from './billing-period';
export * from './billable-metric';
export * from './tier-ranges';
export * from './graduated-charge';
export * from './volume-charge';
export * from './charge-models';
export * from './plan';
export * from './seat-ledger';
export * from './seat-days';
export * from './event-totals';
export * from './charge-fee';
export * from './in-advance-seats';
export * from './in-advance-cycle';
export * from './subscription-fee';
export * from './trial';
export * from './plan-change';
export * from './invoice';
export * from './current-usage';
export * from './wallet';
export * from './wallet-topup';
export * from './credit-allocation';
export * from './billing-cycle';
export * from './simulate';
export * from './lago-shapes';
