/**
 * Prepaid-credit wallets (SPEC section 6): a balance kept both in credits (5 decimals, Lago's
 * `decimal(30,5)`) and in minor units of the wallet currency. `rate_amount` is the money value of one
 * credit. Wallet values are small: functions here return new wallets and never mutate.
 */
import type { FeeType } from './invoice';
import { Dec, minorUnitsOf, roundHalfUpToMinor } from './money';

/** Lago's `applies_to.fee_types` values (prorata bills no commitment fees, but keeps the restriction). */
export type WalletFeeType = FeeType | 'commitment';

/** Which fees a wallet may pay (Lago `applies_to`); both empty = every fee. */
export interface WalletAppliesTo {
  feeTypes: WalletFeeType[];
  billableMetricCodes: string[];
}

export interface Wallet {
  code: string;
  name: string | null;
  lagoId: string | null;
  status: 'active' | 'terminated';
  currency: string;
  /** Money per credit, decimal string (> 0). */
  rateAmount: string;
  /** 1..50, lower first. */
  priority: number;
  createdAt: number;
  expirationAt: number | null;
  terminatedAt: number | null;
  appliesTo: WalletAppliesTo;
  /** Settled credits, decimal string with at most 5 decimals. */
  creditsBalance: string;
  /** Settled balance in minor units. */
  balanceCents: number;
  consumedCredits: string;
}

export function newWallet(
  fields: Omit<Wallet, 'status' | 'terminatedAt' | 'creditsBalance' | 'balanceCents' | 'consumedCredits'>,
): Wallet {
  return {
    ...fields,
    status: 'active',
    terminatedAt: null,
    creditsBalance: '0',
    balanceCents: 0,
    consumedCredits: '0',
  };
}

/** Credits to minor units: `round_half_up(credits × rate)` to the currency's minor unit. */
export function creditsToCents(credits: Dec | string, rateAmount: string, currency: string): number {
  return roundHalfUpToMinor(new Dec(credits).times(new Dec(rateAmount)), currency);
}

/** Minor units to credits: `amount / rate`, rounded half up to 5 decimals (Lago's credit columns). */
export function centsToCredits(amountCents: number, rateAmount: string, currency: string): Dec {
  return new Dec(amountCents)
    .div(new Dec(10).pow(minorUnitsOf(currency)))
    .div(new Dec(rateAmount))
    .toDecimalPlaces(5, Dec.ROUND_HALF_UP);
}

/** A wallet that may pay an invoice of `currency` finalized at `at` (Lago: active, same currency, balance > 0). */
export function isWalletSpendable(wallet: Wallet, currency: string, at: number): boolean {
  return (
    wallet.status === 'active' &&
    wallet.currency === currency &&
    wallet.balanceCents > 0 &&
    wallet.createdAt <= at &&
    (wallet.expirationAt === null || wallet.expirationAt > at)
  );
}

/** The wallet terminated at `at` if it has expired by then (Lago's hourly TerminateWalletsJob, exactly). */
export function expireWallet(wallet: Wallet, at: number): Wallet {
  if (wallet.status !== 'active' || wallet.expirationAt === null || wallet.expirationAt > at) return wallet;
  return { ...wallet, status: 'terminated', terminatedAt: wallet.expirationAt };
}

/** A settled inbound top-up (granted, or paid once its invoice is paid). */
export function creditWallet(wallet: Wallet, credits: string, amountCents: number): Wallet {
  return {
    ...wallet,
    creditsBalance: new Dec(wallet.creditsBalance).plus(credits).toFixed(),
    balanceCents: wallet.balanceCents + amountCents,
  };
}

/**
 * The credits an outbound amount consumes: `amount / rate` to 5 decimals, but never more than the
 * balance, and the whole credit balance when the money balance reaches 0 (so the two balances
 * cannot drift apart and credits never go negative).
 */
export function creditsConsumedBy(wallet: Wallet, amountCents: number): Dec {
  const balance = new Dec(wallet.creditsBalance);
  if (amountCents >= wallet.balanceCents) return balance;
  const credits = centsToCredits(amountCents, wallet.rateAmount, wallet.currency);
  return Dec.min(credits, balance);
}

/** An outbound settled transaction (credits applied to an invoice). */
export function debitWallet(wallet: Wallet, amountCents: number): { wallet: Wallet; creditAmount: string } {
  if (!Number.isSafeInteger(amountCents) || amountCents < 0 || amountCents > wallet.balanceCents) {
    throw new RangeError(`wallet ${wallet.code} cannot pay ${amountCents} from ${wallet.balanceCents}`);
  }
  const credits = creditsConsumedBy(wallet, amountCents);
  return {
    wallet: {
      ...wallet,
      creditsBalance: new Dec(wallet.creditsBalance).minus(credits).toFixed(),
      balanceCents: wallet.balanceCents - amountCents,
      consumedCredits: new Dec(wallet.consumedCredits).plus(credits).toFixed(),
    },
    creditAmount: credits.toFixed(),
  };
}
