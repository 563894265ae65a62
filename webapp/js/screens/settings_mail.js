// The mailbox: the acknowledgement auto-reply, the sender rate, the team's own addresses
// forwarded to the inbox (with what to set up at their mail provider) and mail held back
// (/v1/mail/settings, /v1/mail/addresses, /v1/mail/held). Owners and admins change them.
import { call, get, post } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useCallback, useEffect, useState } from "../html.js";
import { formatDateTime, t } from "../i18n.js";
import { href } from "../router.js";
import { ErrorNote, Field, Loading, useTitle } from "../ui.js";
import { SettingsNav } from "./settings.js";
import { MANAGERS } from "./settings_api_keys.js";

function Acknowledgement({ settings, manager, onSaved }) {
  const ack = settings.acknowledgement;
  const [enabled, setEnabled] = useState(ack.enabled);
  const [subject, setSubject] = useState(ack.subject || "");
  const [body, setBody] = useState(ack.body || "");
  const [rate, setRate] = useState(String(settings.sender_rate_per_hour));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [saved, setSaved] = useState("");

  async function save(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setSaved("");
    try {
      onSaved(
        await call("PUT", "/v1/mail/settings", {
          body: {
            acknowledgement: { enabled, subject, body },
            sender_rate_per_hour: Number(rate),
          },
        }),
      );
      setSaved(t("settings.saved"));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
    setBusy(false);
  }

  return html`<form class="settings-form" onSubmit=${save} aria-busy=${busy}>
    <h2>${t("mail.acknowledgement")}</h2>
    <p class="muted">${t("mail.acknowledgement_lead")}</p>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <fieldset disabled=${!manager || busy}>
      <label class="check">
        <input type="checkbox" checked=${enabled} onChange=${(e) => setEnabled(e.currentTarget.checked)} />
        ${t("mail.acknowledgement_on")}
      </label>
      <${Field} label=${t("mail.ack_subject")} hint=${t("mail.ack_default_hint")} hintId="ack-subject-hint">
        <input name="ack_subject" maxlength="250" aria-describedby="ack-subject-hint" value=${subject}
          onInput=${(e) => setSubject(e.currentTarget.value)} />
      <//>
      <${Field}
        label=${t("mail.ack_body")}
        hint=${t("mail.placeholders", { list: ack.placeholders.join(", ") })}
        hintId="ack-body-hint"
      >
        <textarea name="ack_body" rows="6" maxlength="10000" aria-describedby="ack-body-hint"
          value=${body} onInput=${(e) => setBody(e.currentTarget.value)}></textarea>
      <//>
      <${Field} label=${t("mail.rate")} hint=${t("mail.rate_hint")} hintId="rate-hint">
        <input name="rate" type="number" min="1" max="10000" required aria-describedby="rate-hint"
          value=${rate} onInput=${(e) => setRate(e.currentTarget.value)} />
      <//>
      <div class="form-actions">
        <button type="submit" class="primary">${t("settings.save")}</button>
        <span role="status">${saved}</span>
      </div>
    </fieldset>
  </form>`;
}

function Forwarding({ settings, manager, onChanged }) {
  const [address, setAddress] = useState("");
  const [codes, setCodes] = useState({});
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [done, setDone] = useState("");

  async function run(action, message) {
    setBusy(true);
    setProblem(null);
    setDone("");
    try {
      await action();
      setDone(message);
      onChanged();
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
    setBusy(false);
  }
  const path = (a) => `/v1/mail/addresses/${encodeURIComponent(a)}`;
  const add = (event) => {
    event.preventDefault();
    const wanted = address.trim();
    return run(async () => {
      await post("/v1/mail/addresses", { address: wanted });
      setAddress("");
    }, t("mail.code_sent", { address: wanted }));
  };

  return html`<section class="settings-form" aria-labelledby="forwarding-heading" aria-busy=${busy}>
    <h2 id="forwarding-heading">${t("mail.forwarding")}</h2>
    <p>${t("mail.inbound", { address: settings.inbound_address })}</p>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    ${settings.forwarding.length
      ? html`<ul class="people" aria-label=${t("mail.forwarding")}>
          ${settings.forwarding.map(
            (f) => html`<li key=${f.address} class="stacked">
              <span class="person">
                <strong>${f.address}</strong>
                <span class="badge">${f.status === "confirmed" ? t("mail.confirmed") : t("mail.pending")}</span>
              </span>
              <p class="setup">${t("mail.setup", { address: f.address, forward_to: f.forward_to })}</p>
              <p><code>${f.forward_to}</code></p>
              ${f.status === "pending" && manager
                ? html`<form class="inline-form" onSubmit=${(e) => {
                    e.preventDefault();
                    run(() => post(`${path(f.address)}/confirm`, { code: (codes[f.address] || "").trim() }), t("mail.confirmed_now", { address: f.address }));
                  }}>
                    <p class="muted">
                      ${t("mail.pending_lead", { address: f.address })}
                      ${f.expires_at ? " " + t("mail.expires", { when: formatDateTime(f.expires_at) }) : ""}
                    </p>
                    <${Field} label=${t("mail.code_for", { address: f.address })}>
                      <input required maxlength="32" value=${codes[f.address] || ""}
                        onInput=${(e) => setCodes({ ...codes, [f.address]: e.currentTarget.value })} />
                    <//>
                    <button type="submit" class="secondary" disabled=${busy}>${t("mail.confirm")}</button>
                  </form>`
                : null}
              ${manager
                ? html`<button type="button" class="link" disabled=${busy}
                    aria-label=${t("mail.remove_named", { address: f.address })}
                    onClick=${() => run(() => call("DELETE", path(f.address)), t("mail.removed"))}>
                    ${t("mail.remove")}
                  </button>`
                : null}
            </li>`,
          )}
        </ul>`
      : html`<p class="muted">${t("mail.no_forwarding")}</p>`}
    ${manager
      ? html`<form class="invite-form" onSubmit=${add}>
          <${Field} label=${t("mail.add_address")}>
            <input type="email" name="forward_address" required value=${address}
              onInput=${(e) => setAddress(e.currentTarget.value)} />
          <//>
          <button type="submit" class="primary" disabled=${busy}>${t("mail.add")}</button>
        </form>`
      : null}
    <span role="status">${done}</span>
  </section>`;
}

function Held({ manager }) {
  const [held, setHeld] = useState(null);
  const [problem, setProblem] = useState(null);
  const load = useCallback(async () => {
    setProblem(null);
    try {
      setHeld((await get("/v1/mail/held")).held);
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }, []);
  useEffect(() => {
    load();
  }, [load]);
  const [released, setReleased] = useState(null);
  async function act(item, release) {
    try {
      if (release) {
        const answer = await post(`/v1/mail/held/${encodeURIComponent(item.id)}/release`, {});
        setReleased(answer.ticket_id);
      } else {
        await call("DELETE", `/v1/mail/held/${encodeURIComponent(item.id)}`);
      }
      load();
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }
  return html`<section class="settings-form" aria-labelledby="held-heading">
    <h2 id="held-heading">${t("mail.held")}</h2>
    <p class="muted">${t("mail.held_lead")}</p>
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${load} />` : null}
    ${released
      ? html`<p role="status"><a href=${href(`/tickets/${released}`)}>${t("mail.released")}</a></p>`
      : null}
    ${held === null
      ? html`<${Loading} />`
      : held.length
        ? html`<ul class="people" aria-label=${t("mail.held")}>
            ${held.map(
              (h) => html`<li key=${h.id}>
                <span class="person">
                  <strong>${h.subject}</strong>
                  <span class="muted">${h.sender} · ${formatDateTime(h.held_at)}</span>
                </span>
                ${manager
                  ? html`<span class="actions">
                      <button type="button" class="secondary" onClick=${() => act(h, true)}
                        aria-label=${t("mail.release_named", { subject: h.subject })}>${t("mail.release")}</button>
                      <button type="button" class="secondary" onClick=${() => act(h, false)}
                        aria-label=${t("mail.discard_named", { subject: h.subject })}>${t("mail.discard")}</button>
                    </span>`
                  : null}
              </li>`,
            )}
          </ul>`
        : html`<p class="empty">${t("mail.none_held")}</p>`}
  </section>`;
}

export function MailSettings({ me }) {
  useTitle(t("settings.mailbox"));
  const manager = MANAGERS.includes(me.role);
  const [settings, setSettings] = useState(null);
  const [problem, setProblem] = useState(null);
  const load = useCallback(async () => {
    setProblem(null);
    try {
      setSettings(await get("/v1/mail/settings"));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }, []);
  useEffect(() => {
    load();
  }, [load]);
  return html`<main id="main" class="settings-page">
    <h1>${t("settings.title")}</h1>
    <${SettingsNav} section="mailbox" />
    ${manager ? null : html`<p class="muted">${t("settings.managers_only")}</p>`}
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${load} />` : null}
    ${settings
      ? html`<${Acknowledgement} settings=${settings} manager=${manager} onSaved=${setSettings} />
          <${Forwarding} settings=${settings} manager=${manager} onChanged=${load} />
          <${Held} manager=${manager} />`
      : problem
        ? null
        : html`<${Loading} />`}
  </main>`;
}
