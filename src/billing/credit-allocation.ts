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
import { amountDueBeforeCredits, type FeeType, type Invoice } from './invoice';
import { debitWallet, isWalletSpendable, type Wallet } from './wallet';

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

function bucketsOf(invoice: Invoice): Bucket[] {
  const buckets: Bucket[] = [];
  for (const fee of invoice.fees) {
    if (fee.amountCents <= 0) continue;
    const metric = fee.feeType === 'charge' ? fee.billableMetricCode : null;
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
export function allocateCredits(invoice: Invoice, wallets: readonly Wallet[], at: number): CreditAllocation {
  const buckets = bucketsOf(invoice);
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
