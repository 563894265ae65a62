// Settings > Billing: the workspace's invoices (/v1/billing/invoices), newest first, a page at a
// time ("Load more"), each with its number, date, period, amount, status, who took the payment,
// what was refunded and a link to the processor's own page of the invoice. On a narrow screen
// each invoice is a card (the table keeps its roles, so it is still read as a table).
import { get, withQuery } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useCallback, useEffect, useState } from "../html.js";
import { t } from "../i18n.js";
import { formatDate, formatMoney, formatPeriod } from "../money.js";
import { ErrorNote, Loading } from "../ui.js";

const PAGE = 10;
const INVOICE_STATUS_NAMES = {
  draft: () => t("billing.invoice_draft"),
  open: () => t("billing.invoice_open"),
  paid: () => t("billing.invoice_paid"),
  uncollectible: () => t("billing.invoice_uncollectible"),
  void: () => t("billing.invoice_void"),
};
export const PAYER_NAMES = {
  stripe: () => t("billing.paid_by_stripe"),
  tappay: () => t("billing.paid_by_tappay"),
  paypal: () => t("billing.paid_by_paypal"),
};
const named = (names, value) => (names[value] ? names[value]() : value || "—");

/** The processor's page of an invoice, only as an http(s) link. */
function hostedLink(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function InvoiceRow({ invoice }) {
  const link = invoice.hosted_url ? hostedLink(invoice.hosted_url) : null;
  const refunded = invoice.amount_refunded && invoice.amount_refunded.amount > 0;
  const number = invoice.number || invoice.id;
  return html`<tr role="row">
    <th role="rowheader" scope="row" data-label=${t("billing.invoice_number")}>${number}</th>
    <td role="cell" data-label=${t("billing.invoice_date")}>
      <time datetime=${invoice.created_at}>${formatDate(invoice.created_at)}</time>
    </td>
    <td role="cell" data-label=${t("billing.invoice_period")}>
      ${formatPeriod(invoice.period_start, invoice.period_end) || "—"}
    </td>
    <td role="cell" data-label=${t("billing.invoice_amount")} class="amount">${formatMoney(invoice.amount_due)}</td>
    <td role="cell" data-label=${t("billing.invoice_status")}>
      <span class=${`badge invoice-${invoice.status}`}>${named(INVOICE_STATUS_NAMES, invoice.status)}</span>
    </td>
    <td role="cell" data-label=${t("billing.invoice_paid_by")}>${named(PAYER_NAMES, invoice.paid_by)}</td>
    <td role="cell" data-label=${t("billing.invoice_refunded")} class="amount">
      ${refunded ? formatMoney(invoice.amount_refunded) : "—"}
    </td>
    <td role="cell" data-label=${t("billing.invoice_link")}>
      ${link
        ? html`<a href=${link} target="_blank" rel="noopener noreferrer"
            aria-label=${t("billing.invoice_view_named", { number })}>${t("billing.invoice_view")}</a>`
        : "—"}
    </td>
  </tr>`;
}

/** The invoices; `version` changes when something may have added one (a payment, a refund). */
export function Invoices({ version }) {
  const [invoices, setInvoices] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);

  const load = useCallback(async (after) => {
    setBusy(true);
    setProblem(null);
    try {
      const page = await get(withQuery("/v1/billing/invoices", { cursor: after, limit: PAGE }));
      setInvoices((shown) => (after && shown ? [...shown, ...page.invoices] : page.invoices));
      setCursor(page.next_cursor || null);
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
    setBusy(false);
  }, []);
  useEffect(() => {
    load(null);
  }, [load, version]);

  return html`<section aria-labelledby="billing-invoices">
    <h2 id="billing-invoices">${t("billing.invoices")}</h2>
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${() => load(cursor)} />` : null}
    ${invoices === null
      ? problem
        ? null
        : html`<${Loading} />`
      : invoices.length
        ? html`<table class="invoices" role="table" aria-labelledby="billing-invoices">
            <thead role="rowgroup">
              <tr role="row">
                <th role="columnheader" scope="col">${t("billing.invoice_number")}</th>
                <th role="columnheader" scope="col">${t("billing.invoice_date")}</th>
                <th role="columnheader" scope="col">${t("billing.invoice_period")}</th>
                <th role="columnheader" scope="col">${t("billing.invoice_amount")}</th>
                <th role="columnheader" scope="col">${t("billing.invoice_status")}</th>
                <th role="columnheader" scope="col">${t("billing.invoice_paid_by")}</th>
                <th role="columnheader" scope="col">${t("billing.invoice_refunded")}</th>
                <th role="columnheader" scope="col">${t("billing.invoice_link")}</th>
              </tr>
            </thead>
            <tbody role="rowgroup">
              ${invoices.map((invoice) => html`<${InvoiceRow} key=${invoice.id} invoice=${invoice} />`)}
            </tbody>
          </table>`
        : html`<p class="empty">${t("billing.no_invoices")}</p>`}
    ${cursor
      ? html`<div class="more">
          <button type="button" class="secondary" disabled=${busy} onClick=${() => load(cursor)}>
            ${t("billing.load_more")}
          </button>
        </div>`
      : null}
  </section>`;
}
