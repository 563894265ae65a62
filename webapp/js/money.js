// Amounts of money as the API sends them (integer minor units with their currency) and calendar
// dates, written in the person's language.
import { currentLanguage } from "./i18n.js";

/** "$49.00" in English, "49,00 $US" in French, for {amount: 4900, currency: "usd"}. */
export function formatMoney(money) {
  if (!money) return "";
  const currency = String(money.currency || "").toUpperCase();
  let format;
  try {
    format = new Intl.NumberFormat(currentLanguage(), { style: "currency", currency });
  } catch {
    return `${money.amount} ${currency}`;
  }
  // Minor units: cents for most currencies, none for a few (JPY).
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(money.amount / 10 ** digits);
}

/** "14 March 2026" / "14 mars 2026". */
export function formatDate(iso) {
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: "long" }).format(new Date(iso));
}

/** "1 Mar 2026 – 1 Apr 2026", a billing period. */
export function formatPeriod(start, end) {
  const format = new Intl.DateTimeFormat(currentLanguage(), { dateStyle: "medium" });
  return start && end ? format.formatRange(new Date(start), new Date(end)) : "";
}
