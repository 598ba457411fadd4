/**
 * Applying prepaid credits to an invoice at finalization (SPEC section 6; Lago
 * `Credits::AppliedPrepaidCreditsService` and `AllocatePrepaidCreditsByWalletsService`):
 *
 * 1. wallets: active, of the invoice currency, balance > 0, not expired; by priority, then creation
 *    time (then code, so the order is total);
 * 2. buckets: the invoice's fees grouped by (fee type, billable metric), zero fees skipped, largest
 *    first (ties by fee type then metric code);
 * 3. for each wallet and each bucket it may pay:
 *    `take = min(bucket remaining, wallet balance remaining, invoice remaining)`;
 * 4. one outbound transaction per wallet that took something; their sum is
 *    `prepaid_credit_amount_cents`.
 *
 * Lago's "+1 cent per bucket" adjustment for taxes is not needed: without taxes the buckets add up
 * to the amount due exactly.
 */
import { amountDueBeforeCredits, type FeeType } from './invoice';
import { debitWallet, isWalletSpendable, type Wallet } from './wallet';

/** What credit allocation reads of a fee: its type, metric and amount. */
export interface CreditableFee {
  feeType: FeeType;
  amountCents: number;
  billableMetricCode?: string | null;
}

/**
 * What credit allocation reads of an invoice. A billing `Invoice` is one; the workflow passes the
 * stored (Lago-shaped) invoice through `creditableInvoice` (lago-shapes.ts).
 */
export interface CreditableInvoice {
  currency: string;
  subTotalIncludingTaxesAmountCents: number;
  fees: readonly CreditableFee[];
}

export interface CreditTake {
  walletCode: string;
  amountCents: number;
  /** Credits consumed, decimal string. */
  creditAmount: string;
}

export interface CreditAllocation {
  takes: CreditTake[];
  prepaidCreditAmountCents: number;
  /** The wallets after the takes (same order as given). */
  wallets: Wallet[];
}

interface Bucket {
  feeType: FeeType;
  billableMetricCode: string | null;
  remaining: number;
}

function bucketsOf(fees: readonly CreditableFee[]): Bucket[] {
  const buckets: Bucket[] = [];
  for (const fee of fees) {
    if (fee.amountCents <= 0) continue;
    const metric = fee.feeType === 'charge' ? (fee.billableMetricCode ?? null) : null;
    const bucket = buckets.find((b) => b.feeType === fee.feeType && b.billableMetricCode === metric);
    if (bucket) bucket.remaining += fee.amountCents;
    else buckets.push({ feeType: fee.feeType, billableMetricCode: metric, remaining: fee.amountCents });
  }
  const key = (b: Bucket): string => `${b.feeType}\u0000${b.billableMetricCode ?? ''}`;
  return buckets.sort(
    (a, b) => b.remaining - a.remaining || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0),
  );
}

/** Whether a wallet may pay a bucket (Lago: unrestricted, or a matching fee type or metric). */
export function walletCovers(wallet: Wallet, feeType: FeeType, billableMetricCode: string | null): boolean {
  const { feeTypes, billableMetricCodes } = wallet.appliesTo;
  if (feeTypes.length === 0 && billableMetricCodes.length === 0) return true;
  if (feeTypes.includes(feeType)) return true;
  return billableMetricCode !== null && billableMetricCodes.includes(billableMetricCode);
}

/** Wallets in the order they are spent. */
export function walletSpendingOrder(wallets: readonly Wallet[]): Wallet[] {
  return [...wallets].sort(
    (a, b) =>
      a.priority - b.priority ||
      a.createdAt - b.createdAt ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
}

/** Allocates credits to an invoice being finalized at `at`. Pure: returns the updated wallets. */
export function allocateCredits(
  invoice: CreditableInvoice,
  wallets: readonly Wallet[],
  at: number,
): CreditAllocation {
  const buckets = bucketsOf(invoice.fees);
  let invoiceRemaining = amountDueBeforeCredits(invoice);
  const updated = new Map<string, Wallet>();
  const takes: CreditTake[] = [];
  const candidates = walletSpendingOrder(wallets.filter((w) => isWalletSpendable(w, invoice.currency, at)));
  for (const wallet of candidates) {
    let walletRemaining = wallet.balanceCents;
    let taken = 0;
    for (const bucket of buckets) {
      if (walletRemaining <= 0 || invoiceRemaining <= 0) break;
      if (bucket.remaining <= 0 || !walletCovers(wallet, bucket.feeType, bucket.billableMetricCode)) continue;
      const take = Math.min(bucket.remaining, walletRemaining, invoiceRemaining);
      bucket.remaining -= take;
      walletRemaining -= take;
      invoiceRemaining -= take;
      taken += take;
    }
    if (taken > 0) {
      const debited = debitWallet(wallet, taken);
      updated.set(wallet.code, debited.wallet);
      takes.push({ walletCode: wallet.code, amountCents: taken, creditAmount: debited.creditAmount });
    }
  }
  return {
    takes,
    prepaidCreditAmountCents: takes.reduce((sum, take) => sum + take.amountCents, 0),
    wallets: wallets.map((w) => updated.get(w.code) ?? w),
  };
}

/** One wallet's share of the usage not yet invoiced (Lago's `ongoing_usage_balance_cents`). */
export interface OngoingUsageShare {
  walletCode: string;
  ongoingUsageBalanceCents: number;
}

/**
 * Spreads current usage not yet invoiced over the active wallets of its currency, the way credits
 * would be applied if it were invoiced now (same buckets, same order, same coverage rules), except
 * that a wallet's balance does not cap it: what no wallet can cover is charged to the last wallet
 * that may cover it, so that wallet's ongoing balance goes negative (Lago:
 * `ongoing_balance_cents = balance_cents - ongoing_usage_balance_cents` may go negative).
 * Wallets that are not active, or of another currency, get 0.
 */
export function allocateOngoingUsage(
  usage: { currency: string; fees: readonly CreditableFee[] },
  wallets: readonly Wallet[],
  at: number,
): OngoingUsageShare[] {
  const buckets = bucketsOf(usage.fees);
  const shares = new Map<string, number>(wallets.map((w) => [w.code, 0]));
  const candidates = walletSpendingOrder(
    wallets.filter(
      (w) =>
        w.status === 'active' &&
        w.currency === usage.currency &&
        (w.expirationAt === null || w.expirationAt > at),
    ),
  );
  for (const bucket of buckets) {
    const covering = candidates.filter((w) => walletCovers(w, bucket.feeType, bucket.billableMetricCode));
    if (covering.length === 0) continue;
    for (const wallet of covering) {
      const room = Math.max(0, wallet.balanceCents - (shares.get(wallet.code) ?? 0));
      const take = Math.min(room, bucket.remaining);
      shares.set(wallet.code, (shares.get(wallet.code) ?? 0) + take);
      bucket.remaining -= take;
    }
    if (bucket.remaining > 0) {
      const last = covering[covering.length - 1] as Wallet;
      shares.set(last.code, (shares.get(last.code) ?? 0) + bucket.remaining);
      bucket.remaining = 0;
    }
  }
  return wallets.map((w) => ({ walletCode: w.code, ongoingUsageBalanceCents: shares.get(w.code) ?? 0 }));
}
