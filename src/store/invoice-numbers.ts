import type { Db } from 'mongodb';
import { nextSequence } from './sequences';

interface NumberClaimDoc {
  _id: string; // invoice id
  customer_sequence: number;
}

/**
 * The per-customer sequence number of one invoice (`{PREFIX}-{customer}-{sequence}`), allocated
 * once: a retried finalization reads its earlier claim instead of taking a new number. (A crash
 * between taking the number and the claim leaves a gap in the sequence, never a duplicate.)
 */
export async function claimInvoiceNumbers(
  db: Db,
  invoiceId: string,
  customerId: string,
): Promise<{ customerSequence: number }> {
  const claims = db.collection<NumberClaimDoc>('invoice_number_claims');
  const existing = await claims.findOne({ _id: invoiceId });
  if (existing) return { customerSequence: existing.customer_sequence };
  const customerSequence = await takeInvoiceNumber(db, customerId);
  try {
    await claims.insertOne({ _id: invoiceId, customer_sequence: customerSequence });
    return { customerSequence };
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
    const won = await claims.findOne({ _id: invoiceId });
    if (!won) throw err;
    return { customerSequence: won.customer_sequence };
  }
}

/**
 * A new per-customer sequence number, unclaimed: for an invoice inserted finalized with it in one
 * write, where the stored invoice itself is the claim (a retry finds it finalized and keeps its
 * number). A crash between this and that insert leaves a gap, as with a claim, never a duplicate.
 */
export async function takeInvoiceNumber(db: Db, customerId: string): Promise<number> {
  return nextSequence(db, `invoice:customer:${customerId}`);
}
