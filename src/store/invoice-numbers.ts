import type { Db } from 'mongodb';
import { nextSequence } from './sequences';

interface NumberClaimDoc {
  _id: string; // invoice id
  customer_sequence: number;
  organization_sequence: number;
}

/**
 * The sequence numbers of one invoice, allocated once: a retried finalization reads its earlier
 * claim instead of taking new numbers. (A crash between the counter increment and the claim leaves a
 * gap in the sequence, never a duplicate.)
 */
export async function claimInvoiceNumbers(
  db: Db,
  invoiceId: string,
  organizationId: string,
  customerId: string,
): Promise<{ customerSequence: number; organizationSequence: number }> {
  const claims = db.collection<NumberClaimDoc>('invoice_number_claims');
  const existing = await claims.findOne({ _id: invoiceId });
  if (existing)
    return {
      customerSequence: existing.customer_sequence,
      organizationSequence: existing.organization_sequence,
    };
  const customerSequence = await nextSequence(db, `invoice:customer:${customerId}`);
  const organizationSequence = await nextSequence(db, `invoice:organization:${organizationId}`);
  try {
    await claims.insertOne({
      _id: invoiceId,
      customer_sequence: customerSequence,
      organization_sequence: organizationSequence,
    });
    return { customerSequence, organizationSequence };
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
    const won = await claims.findOne({ _id: invoiceId });
    if (!won) throw err;
    return { customerSequence: won.customer_sequence, organizationSequence: won.organization_sequence };
  }
}
