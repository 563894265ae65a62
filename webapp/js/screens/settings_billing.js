// Settings > Billing (/v1/billing): the workspace's plan and its state (a trial's days left; a
// failed payment, the grace period and read-only shown as a banner), seats used and paid,
// the next charge, the payment method and the backup card, the invoices, and cancelling (at
// the end of the period, or now with the unused days refunded) or resuming. Owners and
// admins see it; only owners act (the API refuses the others).
import { call, get, post } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useCallback, useEffect, useRef, useState } from "../html.js";
import { t } from "../i18n.js";
import { formatDate, formatMoney } from "../money.js";
import { currentRoute, navigate, queryParam } from "../router.js";
import { ErrorNote, Field, Loading, useTitle } from "../ui.js";
import { BackupCard, CardText } from "./billing_backup_card.js";
import { Invoices, PAYER_NAMES } from "./billing_invoices.js";
import { ChoosePlan } from "./billing_plans.js";
import { SettingsNav } from "./settings.js";

const DAY_MS = 24 * 3600 * 1000;
const STATUS_NAMES = {
  trialing: () => t("billing.status_trialing"),
  active: () => t("billing.status_active"),
  past_due: () => t("billing.status_past_due"),
  grace: () => t("billing.status_grace"),
  read_only: () => t("billing.status_read_only"),
  canceled: () => t("billing.status_canceled"),
};
const named = (names, value) => (names[value] ? names[value]() : value);
// After a checkout, the processor's webhook reaches the API a moment later: ask again meanwhile.
const SETTLE_TRIES = 30;
const SETTLE_EVERY_MS = 1000;

/** A paid subscription that is running (possibly behind on payment). */
const subscribed = (billing) =>
  Boolean(billing.processor) && billing.plan.id !== "free" && billing.status !== "canceled";

/** What an owner is told when the API refuses a billing action. */
function billingProblem(failure, billing) {
  if (failure.code === "plan_limit") {
    const details = failure.details && !Array.isArray(failure.details) ? failure.details : {};
    const limit = details.seats && details.seats.limit;
    const other = (details.allowed_by || []).find((way) => way.plan);
    const plan = other && (billing.plans || []).find((p) => p.id === other.plan);
    if (limit && plan) return t("billing.error_plan_limit_seats_plan", { count: limit, plan: plan.name });
    if (limit) return t("billing.error_plan_limit_seats", { count: limit });
    return t("billing.error_plan_limit");
  }
  if (failure.code === "seats_in_use" || failure.code === "seats_below_members") return t("billing.error_seats_in_use", { count: billing.seats.used });
  if (failure.code === "no_subscription") return t("billing.error_no_subscription");
  if (failure.code === "processor_not_configured") return t("billing.error_processor_not_configured");
  if (failure.code === "already_subscribed") return t("billing.error_already_subscribed");
  if (failure.status === 403) return t("billing.owners_only");
  return errorMessage(failure);
}

/** The notice of a processor's return (`?checkout=done`…), read once from the address: its
 * kind and message id (words chosen when shown, once the person's language is known). */
function returnNotice(route) {
  const checkout = queryParam(route, "checkout");
  const paypal = queryParam(route, "paypal");
  if (checkout === "done") return { kind: "done", id: "billing.checkout_done" };
  if (checkout === "canceled") return { kind: "canceled", id: "billing.checkout_canceled" };
  if (paypal === "canceled") return { kind: "canceled", id: "billing.paypal_canceled" };
  if (paypal === "failed") return { kind: "canceled", id: "billing.paypal_failed" };
  if (paypal) return { kind: "done", id: "billing.checkout_done" };
  return null;
}

/** The words of a notice (the ids are listed so that each is known to exist). */
function noticeText(notice) {
  const words = {
    "billing.checkout_done": () => t("billing.checkout_done"),
    "billing.checkout_canceled": () => t("billing.checkout_canceled"),
    "billing.paypal_canceled": () => t("billing.paypal_canceled"),
    "billing.paypal_failed": () => t("billing.paypal_failed"),
    "billing.checkout_active": () => t("billing.checkout_active", notice.params),
  };
  return words[notice.id] ? words[notice.id]() : "";
}

function StatusBanner({ billing, owner, onManage }) {
  let text = null;
  if (billing.status === "past_due") text = t("billing.banner_past_due");
  else if (billing.status === "grace") {
    text = t("billing.banner_grace", { date: billing.grace_ends_at ? formatDate(billing.grace_ends_at) : "" });
  } else if (billing.status === "read_only") text = t("billing.banner_read_only");
  if (!text) return null;
  return html`<div class=${`banner billing-banner billing-${billing.status}`} role="alert">
    <p>${text}</p>
    ${owner && billing.processor === "stripe"
      ? html`<button type="button" class="primary" onClick=${onManage}>${t("billing.update_payment")}</button>`
      : null}
  </div>`;
}

function Summary({ billing }) {
  const trialDays = billing.trial_ends_at
    ? Math.max(0, Math.ceil((new Date(billing.trial_ends_at) - Date.now()) / DAY_MS))
    : 0;
  const period = billing.period === "year" ? t("billing.yearly") : billing.period === "month" ? t("billing.monthly") : "";
  return html`<section aria-labelledby="billing-plan">
    <h2 id="billing-plan">${t("billing.current_plan")}</h2>
    <dl class="billing-facts">
      <div>
        <dt>${t("billing.plan")}</dt>
        <dd><strong>${billing.plan.id === "free" ? t("billing.plan_free") : billing.plan.name}</strong>${period ? ` · ${period}` : ""}</dd>
      </div>
      <div>
        <dt>${t("billing.status")}</dt>
        <dd>
          <span class=${`badge billing-status billing-${billing.status}`}>${named(STATUS_NAMES, billing.status)}</span>
          ${billing.status === "trialing" && billing.trial_ends_at
            ? html` <span>${t("billing.trial_days_left", { count: trialDays, date: formatDate(billing.trial_ends_at) })}</span>`
            : null}
          ${billing.status === "grace" && billing.grace_ends_at
            ? html` <span>${t("billing.grace_until", { date: formatDate(billing.grace_ends_at) })}</span>`
            : null}
        </dd>
      </div>
      <div>
        <dt>${t("billing.seats")}</dt>
        <dd>${t("billing.seats_used_paid", { used: billing.seats.used, paid: billing.seats.paid })}</dd>
      </div>
      <div>
        <dt>${t("billing.next_charge")}</dt>
        <dd>
          ${billing.next_charge
            ? t("billing.next_charge_text", {
                amount: formatMoney(billing.next_charge.amount),
                date: formatDate(billing.next_charge.at),
              })
            : t("billing.no_next_charge")}
        </dd>
      </div>
      ${billing.processor
        ? html`<div>
            <dt>${t("billing.processor")}</dt>
            <dd>${named(PAYER_NAMES, billing.processor)}</dd>
          </div>`
        : null}
    </dl>
  </section>`;
}

function SeatChanger({ billing, onChanged }) {
  const [seats, setSeats] = useState(String(billing.seats.paid));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  useEffect(() => setSeats(String(billing.seats.paid)), [billing.seats.paid]);

  async function save(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const changed = await call("PUT", "/v1/billing/seats", { body: { seats: Number.parseInt(seats, 10) } });
      onChanged(changed, t("billing.seats_saved", { count: changed.seats.paid }));
    } catch (failure) {
      setProblem(billingProblem(failure, billing));
    }
    setBusy(false);
  }

  return html`<section aria-labelledby="billing-seats"><form class="seat-changer" onSubmit=${save} aria-busy=${busy}>
    <h2 id="billing-seats">${t("billing.change_seats")}</h2>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <fieldset disabled=${busy}>
      <${Field} label=${t("billing.paid_seats")} hint=${t("billing.seats_hint", { count: billing.seats.used })}
        hintId="seats-hint" invalid=${Boolean(problem)}>
        <input type="number" name="seats" inputmode="numeric" required min="1"
          aria-describedby="seats-hint" aria-invalid=${problem ? "true" : undefined} value=${seats}
          onInput=${(e) => setSeats(e.currentTarget.value)} />
      <//>
      <div class="form-actions">
        <button type="submit" class="primary">${t("billing.save_seats")}</button>
      </div>
    </fieldset>
  </form></section>`;
}

/** Asks how to cancel (at the period's end by default, or now with the refund explained). */
function CancelDialog({ billing, onDone, onClose }) {
  const dialog = useRef(null);
  const [when, setWhen] = useState("period_end");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element && element.open && element.close();
  }, []);
  const end = billing.current_period_end ? formatDate(billing.current_period_end) : "";
  const payer = billing.processor === "paypal" ? t("billing.refund_to_paypal") : t("billing.refund_to_card");

  async function confirm(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const answer = await post("/v1/billing/cancel", { when });
      onDone(answer);
    } catch (failure) {
      setProblem(billingProblem(failure, billing));
      setBusy(false);
    }
  }

  return html`<dialog class="billing-dialog" ref=${dialog} aria-labelledby="cancel-title" onClose=${onClose}>
    <form onSubmit=${confirm} aria-busy=${busy}>
      <h2 id="cancel-title">${t("billing.cancel_title")}</h2>
      ${problem ? html`<${ErrorNote} message=${problem} />` : null}
      <fieldset disabled=${busy}>
        <legend>${t("billing.cancel_when")}</legend>
        <div class="cancel-choice">
          <label class="check">
            <input type="radio" name="when" value="period_end" checked=${when === "period_end"}
              aria-describedby="cancel-end-hint" onChange=${() => setWhen("period_end")} />
            ${end ? t("billing.cancel_at_end_on", { date: end }) : t("billing.cancel_at_end")}
          </label>
          <p class="hint" id="cancel-end-hint">${t("billing.cancel_at_end_hint", { plan: billing.plan.name })}</p>
        </div>
        <div class="cancel-choice">
          <label class="check">
            <input type="radio" name="when" value="now" checked=${when === "now"}
              aria-describedby="cancel-now-hint" onChange=${() => setWhen("now")} />
            ${t("billing.cancel_now")}
          </label>
          <p class="hint" id="cancel-now-hint">${t("billing.cancel_now_hint", { plan: billing.plan.name, payer })}</p>
        </div>
      </fieldset>
      <div class="form-actions">
        <button type="submit" class="primary danger" disabled=${busy}>
          ${when === "now" ? t("billing.confirm_cancel_now") : t("billing.confirm_cancel_at_end")}
        </button>
        <button type="button" class="secondary" disabled=${busy} onClick=${() => dialog.current.close()}>
          ${t("billing.keep_subscription")}
        </button>
      </div>
    </form>
  </dialog>`;
}

/** What the owner is told once the subscription is cancelled (with the refund, if any). */
function cancelledText(answer) {
  const billing = answer.billing;
  if (answer.refund && answer.refund.amount && answer.refund.amount.amount > 0) {
    const amount = formatMoney(answer.refund.amount);
    if (answer.refund.processor === "paypal") return t("billing.cancelled_refund_paypal", { amount });
    if (answer.refund.processor === "tappay") return t("billing.cancelled_refund_backup", { amount });
    return t("billing.cancelled_refund_card", { amount });
  }
  if (billing.cancel_at_period_end && billing.current_period_end) {
    return t("billing.cancelled_at_end", { date: formatDate(billing.current_period_end) });
  }
  return t("billing.cancelled_now");
}

export function BillingSettings({ me }) {
  useTitle(t("settings.billing"));
  const manager = me.role === "owner" || me.role === "admin";
  const owner = me.role === "owner";
  const [billing, setBilling] = useState(null);
  const [problem, setProblem] = useState(null);
  const [notice, setNotice] = useState(() => returnNotice(currentRoute()));
  const [done, setDone] = useState("");
  const [cancelling, setCancelling] = useState(false);
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(0);
  const noteRef = useRef(null);
  const cancelButton = useRef(null);

  const load = useCallback(async () => {
    setProblem(null);
    try {
      const loaded = await get("/v1/billing");
      setBilling(loaded);
      return loaded;
    } catch (failure) {
      setProblem(errorMessage(failure));
      return null;
    }
  }, []);

  useEffect(() => {
    if (!manager) return undefined;
    let stopped = false;
    const returned = returnNotice(currentRoute());
    // The processor's answer is read once: the address loses it (a reload says nothing again).
    if (returned) {
      navigate("/settings/billing", { replace: true });
      setTimeout(() => noteRef.current && noteRef.current.focus(), 0);
    }
    (async () => {
      let loaded = await load();
      for (let i = 0; returned && returned.kind === "done" && loaded && !subscribed(loaded) && i < SETTLE_TRIES; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, SETTLE_EVERY_MS));
        if (stopped) return;
        loaded = await load();
      }
      if (returned && returned.kind === "done" && loaded && subscribed(loaded) && !stopped) {
        setNotice({ kind: "done", id: "billing.checkout_active", params: { plan: loaded.plan.name } });
        setVersion((v) => v + 1);
      }
    })();
    return () => {
      stopped = true;
    };
  }, [load, manager]);

  const changed = (next, message) => {
    setBilling(next);
    setProblem(null);
    setDone(message || "");
    setVersion((v) => v + 1);
  };
  const refused = (failure) => setProblem(billingProblem(failure, billing));

  async function openPortal() {
    setBusy(true);
    setProblem(null);
    try {
      window.location.assign((await post("/v1/billing/portal", {})).url);
    } catch (failure) {
      refused(failure);
      setBusy(false);
    }
  }

  async function resume() {
    setBusy(true);
    setProblem(null);
    try {
      changed(await post("/v1/billing/resume", {}), t("billing.resumed"));
    } catch (failure) {
      refused(failure);
    }
    setBusy(false);
  }

  const head = html`<h1>${t("settings.title")}</h1>
    <${SettingsNav} section="billing" />
    <h2 class="section-title">${t("settings.billing")}</h2>`;
  if (!manager) {
    return html`<main id="main" class="settings-page billing-page">${head}<p class="muted">${t("billing.managers_only")}</p></main>`;
  }
  const live = billing ? subscribed(billing) : false;
  return html`<main id="main" class="settings-page billing-page">
    ${head}
    <div tabindex="-1" ref=${noteRef} class="billing-notes">
      ${notice && notice.kind === "canceled" ? html`<p class="warning">${noticeText(notice)}</p>` : null}
      <p role="status" class=${(notice && notice.kind === "done") || done ? "statement" : ""}>
        ${done || (notice && notice.kind === "done" ? noticeText(notice) : "")}
      </p>
    </div>
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${billing ? undefined : load} />` : null}
    ${billing === null
      ? problem
        ? null
        : html`<${Loading} />`
      : html`
          <${StatusBanner} billing=${billing} owner=${owner} onManage=${openPortal} />
          ${owner ? null : html`<p class="muted owners-note">${t("billing.owners_only_note")}</p>`}
          <${Summary} billing=${billing} />
          ${live && billing.cancel_at_period_end
            ? html`<div class="statement billing-ending">
                <p>${t("billing.ends_on", { plan: billing.plan.name, date: formatDate(billing.current_period_end) })}</p>
                ${owner
                  ? html`<button type="button" class="primary" disabled=${busy} onClick=${resume}>${t("billing.resume")}</button>`
                  : null}
              </div>`
            : null}
          ${owner && live ? html`<${SeatChanger} billing=${billing} onChanged=${changed} />` : null}
          ${owner && !live ? html`<${ChoosePlan} billing=${billing} describe=${(failure) => billingProblem(failure, billing)} />` : null}
          <section aria-labelledby="billing-payment">
            <h2 id="billing-payment">${t("billing.payment_method")}</h2>
            ${billing.payment_method
              ? html`<p class="card-line"><${CardText} card=${billing.payment_method} /></p>`
              : html`<p class="empty">${t("billing.no_payment_method")}</p>`}
            ${owner && billing.processor === "stripe"
              ? html`<button type="button" class="secondary" disabled=${busy} onClick=${openPortal}>
                  ${t("billing.manage_payment")}
                </button>`
              : null}
            <${BackupCard} billing=${billing} me=${me} owner=${owner} onChanged=${changed} />
          </section>
          <${Invoices} version=${version} />
          ${owner && live && !billing.cancel_at_period_end
            ? html`<section aria-labelledby="billing-cancel">
                <h2 id="billing-cancel">${t("billing.cancel_title")}</h2>
                <p class="muted">${t("billing.cancel_lead")}</p>
                <button type="button" class="secondary danger" ref=${cancelButton} onClick=${() => setCancelling(true)}>
                  ${t("billing.cancel_subscription")}
                </button>
              </section>`
            : null}
          ${cancelling
            ? html`<${CancelDialog} billing=${billing}
                onClose=${() => {
                  setCancelling(false);
                  setTimeout(() => (cancelButton.current ? cancelButton.current.focus() : noteRef.current && noteRef.current.focus()), 0);
                }}
                onDone=${(answer) => {
                  changed(answer.billing, cancelledText(answer));
                  setCancelling(false);
                  setTimeout(() => noteRef.current && noteRef.current.focus(), 0);
                }} />`
            : null}
        `}
  </main>`;
}
