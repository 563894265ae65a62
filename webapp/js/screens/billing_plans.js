// Settings > Billing: choosing a paid plan. The owner picks monthly or yearly (prepaid), a plan
// (its price per seat), how many seats and who takes the payment (a card through Stripe, or
// PayPal); the API opens the processor's checkout and the browser goes there. The processor
// sends the owner back to this screen (`?checkout=done`, `?checkout=canceled`,
// `?paypal=canceled`).
import { post } from "../api.js";
import { html, useState } from "../html.js";
import { t } from "../i18n.js";
import { formatMoney } from "../money.js";
import { ErrorNote, Field } from "../ui.js";

export const FEATURE_NAMES = {
  ai_teammate: () => t("billing.feature_ai_teammate"),
  live_chat: () => t("billing.feature_live_chat"),
  booking: () => t("billing.feature_booking"),
  custom_domain: () => t("billing.feature_custom_domain"),
  sso: () => t("billing.feature_sso"),
  api_keys: () => t("billing.feature_api_keys"),
  integrations: () => t("billing.feature_integrations"),
};
const PERIODS = [
  ["month", () => t("billing.monthly")],
  ["year", () => t("billing.yearly")],
];
const PROCESSORS = [
  ["stripe", () => t("billing.pay_by_card")],
  ["paypal", () => t("billing.pay_by_paypal")],
];
const featureName = (f) => (FEATURE_NAMES[f] ? FEATURE_NAMES[f]() : f);

function PlanChoice({ plan, period, chosen, onChoose }) {
  const price = plan.prices && plan.prices[period];
  const id = `plan-${plan.id}`;
  return html`<li class=${chosen ? "plan-choice chosen" : "plan-choice"}>
    <label for=${id}>
      <input type="radio" id=${id} name="plan" value=${plan.id} checked=${chosen}
        aria-describedby=${`${id}-features`} onChange=${() => onChoose(plan.id)} />
      <span class="plan-name">${plan.name}</span>
      <span class="plan-price">
        ${price
          ? period === "year"
            ? t("billing.price_per_seat_year", { price: formatMoney(price) })
            : t("billing.price_per_seat_month", { price: formatMoney(price) })
          : ""}
      </span>
    </label>
    <p class="muted" id=${`${id}-features`}>
      ${plan.max_seats ? t("billing.up_to_seats", { count: plan.max_seats }) : t("billing.any_seats")}
      ${plan.features.length ? ` · ${plan.features.map(featureName).join(", ")}` : ""}
    </p>
  </li>`;
}

/** `describe(failure)`: what the owner is told when the API refuses. */
export function ChoosePlan({ billing, describe }) {
  const plans = billing.plans || [];
  const current = plans.find((p) => p.id === billing.plan.id);
  const [period, setPeriod] = useState(billing.period || "month");
  const [planId, setPlanId] = useState((current || plans[plans.length - 1] || {}).id || "");
  const [seats, setSeats] = useState(String(Math.max(billing.seats.used, 1)));
  const [processor, setProcessor] = useState("stripe");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const plan = plans.find((p) => p.id === planId);
  const count = Number.parseInt(seats, 10);
  const price = plan && plan.prices && plan.prices[period];
  const total = price && count > 0 ? { amount: price.amount * count, currency: price.currency } : null;

  async function start(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const answer = await post("/v1/billing/checkout", { plan: planId, period, seats: count, processor });
      window.location.assign(answer.url);
    } catch (failure) {
      setProblem(describe(failure));
      setBusy(false);
    }
  }

  if (!plans.length) return null;
  return html`<section class="choose-plan" aria-labelledby="billing-choose">
    <h2 id="billing-choose">${t("billing.choose_plan")}</h2>
    <form onSubmit=${start} aria-busy=${busy}>
      ${problem ? html`<${ErrorNote} message=${problem} />` : null}
      <fieldset disabled=${busy}>
        <legend>${t("billing.period")}</legend>
        <div class="choices">
          ${PERIODS.map(
            ([value, label]) => html`<label class="check" key=${value}>
              <input type="radio" name="period" value=${value} checked=${period === value}
                onChange=${() => setPeriod(value)} />
              ${label()}
            </label>`,
          )}
        </div>
      </fieldset>
      <fieldset disabled=${busy}>
        <legend>${t("billing.plan")}</legend>
        <ul class="plain plans">
          ${plans.map(
            (p) => html`<${PlanChoice} key=${p.id} plan=${p} period=${period} chosen=${p.id === planId}
              onChoose=${setPlanId} />`,
          )}
        </ul>
      </fieldset>
      <fieldset disabled=${busy}>
        <${Field} label=${t("billing.seats")} hint=${t("billing.checkout_seats_hint", { count: billing.seats.used })}
          hintId="checkout-seats-hint">
          <input type="number" name="seats" inputmode="numeric" required min="1"
            aria-describedby="checkout-seats-hint"
            value=${seats} onInput=${(e) => setSeats(e.currentTarget.value)} />
        <//>
        <p class="total" aria-live="polite">
          ${total
            ? period === "year"
              ? t("billing.total_year", { total: formatMoney(total) })
              : t("billing.total_month", { total: formatMoney(total) })
            : ""}
        </p>
      </fieldset>
      <fieldset disabled=${busy}>
        <legend>${t("billing.processor")}</legend>
        <div class="choices">
          ${PROCESSORS.filter(([value]) => value !== "paypal" || billing.paypal).map(
            ([value, label]) => html`<label class="check" key=${value}>
              <input type="radio" name="processor" value=${value} checked=${processor === value}
                onChange=${() => setProcessor(value)} />
              ${label()}
            </label>`,
          )}
        </div>
      </fieldset>
      <div class="form-actions">
        <button type="submit" class="primary" disabled=${busy || !plan}>${t("billing.continue_to_payment")}</button>
        <span class="muted">${processor === "paypal" ? t("billing.checkout_lead_paypal") : t("billing.checkout_lead_card")}</span>
      </div>
    </form>
  </section>`;
}
