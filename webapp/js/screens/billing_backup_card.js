// Settings > Billing: the backup card, charged through TapPay when Stripe cannot complete a
// charge. The card's number, expiry and security code are typed into TapPay's own fields
// (frames of TapPay's SDK, loaded from `billing.tappay.sdk_url` only when an owner adds a
// card): Helptal receives a one-time prime, never the number, and the API exchanges it.
import { call, post } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useEffect, useRef, useState } from "../html.js";
import { currentLanguage, t } from "../i18n.js";
import { ErrorNote, Field } from "../ui.js";

const BRANDS = {
  visa: "Visa",
  mastercard: "Mastercard",
  amex: "American Express",
  jcb: "JCB",
  unionpay: "UnionPay",
  discover: "Discover",
  diners: "Diners Club",
};

/** "Visa ending in 4242, expires 12/2030"; a PayPal account as such. */
export function CardText({ card }) {
  if (!card.last4) return html`<span>${t("billing.paypal_account")}</span>`;
  const brand = BRANDS[card.brand] || (card.brand ? card.brand[0].toUpperCase() + card.brand.slice(1) : "");
  const expiry = `${String(card.exp_month).padStart(2, "0")}/${card.exp_year}`;
  return html`<span>${t("billing.card_text", { brand, last4: card.last4, expiry })}</span>`;
}

let sdkLoading = null;

/** TapPay's SDK (window.TPDirect), loaded once from `url`. */
function loadTapPay(url) {
  if (window.TPDirect) return Promise.resolve(window.TPDirect);
  if (!sdkLoading) {
    sdkLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onload = () => (window.TPDirect ? resolve(window.TPDirect) : reject(new Error("no TPDirect")));
      script.onerror = () => reject(new Error("TapPay SDK not loaded"));
      document.head.appendChild(script);
    }).catch((failure) => {
      sdkLoading = null; // a later try loads it again
      throw failure;
    });
  }
  return sdkLoading;
}

/** A prime for the card typed into TapPay's fields (rejects with TapPay's message). */
function getPrime(tpdirect) {
  return new Promise((resolve, reject) => {
    tpdirect.card.getPrime((result) => {
      if (result && result.status === 0 && result.card && result.card.prime) resolve(result.card.prime);
      else reject(new Error((result && result.msg) || "getPrime failed"));
    });
  });
}

const CARD_FIELDS = [
  ["number", "tp-card-number", () => t("billing.card_number")],
  ["expirationDate", "tp-card-expiry", () => t("billing.card_expiry")],
  ["ccv", "tp-card-ccv", () => t("billing.card_ccv")],
];

function BackupCardForm({ tappay, me, onSaved, onClose }) {
  const [ready, setReady] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [cardholder, setCardholder] = useState({
    name: (me.user && me.user.name) || "",
    email: (me.user && me.user.email) || "",
    phone: "",
  });
  const sdk = useRef(null);
  const form = useRef(null);

  useEffect(() => {
    let gone = false;
    loadTapPay(tappay.sdk_url)
      .then((tpdirect) => {
        if (gone) return;
        tpdirect.setupSDK(tappay.app_id, tappay.app_key, tappay.server_type);
        const fields = {};
        for (const [name, id] of CARD_FIELDS) fields[name] = { element: `#${id}` };
        fields.number.placeholder = "**** **** **** ****";
        fields.expirationDate.placeholder = currentLanguage() === "fr" ? "MM / AA" : "MM / YY";
        fields.ccv.placeholder = "CCV";
        tpdirect.card.setup({ fields, styles: { input: { "font-size": "16px" } } });
        sdk.current = tpdirect;
        setReady(true);
        // TapPay's frames (or inputs) are named after their field, for screen readers.
        setTimeout(() => {
          for (const [, id, label] of CARD_FIELDS) {
            const frame = document.querySelector(`#${id} iframe`);
            if (frame && !frame.title) frame.title = label();
            const input = document.querySelector(`#${id} input`);
            if (input && !input.labels?.length) input.setAttribute("aria-labelledby", `${id}-label`);
          }
        }, 0);
      })
      .catch(() => !gone && setProblem(t("billing.backup_card_unavailable")));
    setTimeout(() => form.current && form.current.querySelector("h3").focus(), 0);
    return () => {
      gone = true;
    };
  }, [tappay]);

  const update = (name) => (e) => setCardholder({ ...cardholder, [name]: e.currentTarget.value });

  async function save(event) {
    event.preventDefault();
    const tpdirect = sdk.current;
    if (!tpdirect) return;
    setProblem(null);
    const status = tpdirect.card.getTappayFieldsStatus ? tpdirect.card.getTappayFieldsStatus() : null;
    if (status && status.canGetPrime === false) {
      setProblem(t("billing.card_incomplete"));
      return;
    }
    setBusy(true);
    let prime;
    try {
      prime = await getPrime(tpdirect);
    } catch {
      setProblem(t("billing.card_refused"));
      setBusy(false);
      return;
    }
    try {
      const billing = await post("/v1/billing/backup-card", {
        prime,
        cardholder: {
          name: cardholder.name.trim(),
          email: cardholder.email.trim(),
          phone: cardholder.phone.trim(),
        },
      });
      onSaved(billing, t("billing.backup_card_saved"));
    } catch (failure) {
      if (failure.code === "card_refused") setProblem(t("billing.card_refused"));
      else if (failure.code === "processor_not_configured") setProblem(t("billing.backup_card_unavailable"));
      else setProblem(errorMessage(failure));
      setBusy(false);
    }
  }

  return html`<form class="backup-card-form" ref=${form} onSubmit=${save} aria-busy=${busy || !ready}>
    <h3 tabindex="-1">${t("billing.add_backup_card")}</h3>
    <p class="muted">${t("billing.backup_card_form_lead")}</p>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    ${ready ? null : problem ? null : html`<p role="status" class="muted">${t("billing.backup_card_loading")}</p>`}
    <div class="card-fields">
      ${CARD_FIELDS.map(
        ([name, id, label]) => html`<div class="field" key=${name}>
          <span class="label" id=${`${id}-label`}>${label()}</span>
          <div id=${id} class="tappay-field" role="group" aria-labelledby=${`${id}-label`}></div>
        </div>`,
      )}
    </div>
    <fieldset disabled=${busy}>
      <legend>${t("billing.cardholder")}</legend>
      <${Field} label=${t("billing.cardholder_name")}>
        <input name="name" required maxlength="100" autocomplete="cc-name" value=${cardholder.name} onInput=${update("name")} />
      <//>
      <${Field} label=${t("login.email")}>
        <input type="email" name="email" required autocomplete="email" value=${cardholder.email} onInput=${update("email")} />
      <//>
      <${Field} label=${t("billing.cardholder_phone")}>
        <input type="tel" name="phone" required minlength="4" maxlength="32" autocomplete="tel" value=${cardholder.phone} onInput=${update("phone")} />
      <//>
    </fieldset>
    <div class="form-actions">
      <button type="submit" class="primary" disabled=${busy || !ready}>${t("billing.save_backup_card")}</button>
      <button type="button" class="secondary" disabled=${busy} onClick=${onClose}>${t("common.cancel")}</button>
    </div>
  </form>`;
}

/** The backup card: what it is, and for owners adding one (when TapPay is set up) or removing it. */
export function BackupCard({ billing, me, owner, onChanged }) {
  const [adding, setAdding] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const addButton = useRef(null);
  const card = billing.backup_card;

  async function remove() {
    if (!window.confirm(t("billing.remove_backup_card_confirm"))) return;
    setBusy(true);
    setProblem(null);
    try {
      onChanged(await call("DELETE", "/v1/billing/backup-card"), t("billing.backup_card_removed"));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
    setBusy(false);
  }

  const close = () => {
    setAdding(false);
    setTimeout(() => addButton.current && addButton.current.focus(), 0);
  };
  return html`<div class="backup-card">
    <h3>${t("billing.backup_card")}</h3>
    <p class="muted">${t("billing.backup_card_lead")}</p>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    ${card
      ? html`<p class="card-line"><${CardText} card=${card} /></p>`
      : html`<p class="empty">${t("billing.no_backup_card")}</p>`}
    ${owner && card
      ? html`<button type="button" class="secondary danger" disabled=${busy} onClick=${remove}>
          ${t("billing.remove_backup_card")}
        </button>`
      : null}
    ${owner && !card && billing.tappay && !adding
      ? html`<button type="button" class="secondary" ref=${addButton} onClick=${() => setAdding(true)}>
          ${t("billing.add_backup_card")}
        </button>`
      : null}
    ${owner && !card && billing.tappay && adding
      ? html`<${BackupCardForm} tappay=${billing.tappay} me=${me} onClose=${close}
          onSaved=${(changed, message) => {
            setAdding(false);
            onChanged(changed, message);
          }} />`
      : null}
  </div>`;
}
