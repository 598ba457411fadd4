import type { InvoiceDoc } from '../src/store/invoices';
import type { CustomerDoc } from '../src/store/customers';
import { minorToAmount, minorUnitsOf } from '../src/billing/money';

const esc = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** Integer minor units in currency units, exactly (`1355`, USD -> `13.55 USD`). */
function money(cents: number, currency: string): string {
  return `${minorToAmount(cents, currency).toFixed(minorUnitsOf(currency))} ${currency}`;
}

/** A plain, printable HTML rendering of a finalized invoice. */
export function renderInvoiceHtml(inv: InvoiceDoc, customer: CustomerDoc | null): string {
  const rows = inv.fees
    .map(
      (f) =>
        `<tr><td>${esc(f.fee_type === 'subscription' ? 'Subscription' : (f.invoice_display_name ?? f.charge_code))}</td>` +
        `<td>${esc(f.from_datetime)} – ${esc(f.to_datetime)}</td><td>${esc(f.units)}</td>` +
        `<td>${esc(f.prorated_units ?? '')}</td><td class="n">${esc(money(f.amount_cents, f.amount_currency))}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Invoice ${esc(inv.number)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:.4em;text-align:left}.n{text-align:right}</style></head>
<body><h1>Invoice ${esc(inv.number)}</h1>
<p>Issued ${esc(inv.issuing_date)} to ${esc(customer?.name ?? inv.external_customer_id)} (${esc(inv.external_customer_id)})</p>
<table><thead><tr><th>Item</th><th>Period</th><th>Units</th><th>Prorated units</th><th class="n">Amount</th></tr></thead>
<tbody>${rows}</tbody></table>
<p class="n">Subtotal ${esc(money(inv.sub_total_including_taxes_amount_cents, inv.currency))}<br>
Prepaid credits −${esc(money(inv.prepaid_credit_amount_cents, inv.currency))}<br>
<strong>Total ${esc(money(inv.total_amount_cents, inv.currency))}</strong></p></body></html>`;
}
