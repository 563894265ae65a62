// AI for the workspace: off until an owner or admin turns it on, with a plain statement of
// what is then sent where; its features, the team's tone, what is redacted, who changed
// what, and (for owners and admins) this month's use and the log of provider calls
// (/v1/workspace/ai, /v1/workspace/ai/usage, /v1/workspace/ai/log).
import { call, get, withQuery } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useCallback, useEffect, useState } from "../html.js";
import { formatDateTime, formatNumber, t } from "../i18n.js";
import { ErrorNote, Field, Loading, useTitle } from "../ui.js";
import { SettingsNav } from "./settings.js";
import { MANAGERS } from "./settings_api_keys.js";

const FEATURES = ["triage", "drafts", "translation", "summaries", "auto_apply_triage"];
const FEATURE_TEXT = {
  triage: () => t("ai.feature_triage"),
  drafts: () => t("ai.feature_drafts"),
  translation: () => t("ai.feature_translation"),
  summaries: () => t("ai.feature_summaries"),
  auto_apply_triage: () => t("ai.feature_auto_apply_triage"),
  // Switched in Settings > Live chat (the answer bot), named here in the usage table.
  chat_answers: () => t("ai.feature_chat_answers"),
};
const featureText = (name) => (FEATURE_TEXT[name] ? FEATURE_TEXT[name]() : name);

function Usage() {
  const [usage, setUsage] = useState(null);
  const [log, setLog] = useState(null);
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    Promise.all([get("/v1/workspace/ai/usage"), get(withQuery("/v1/workspace/ai/log", { limit: 20 }))])
      .then(([u, l]) => {
        setUsage(u);
        setLog(l.calls);
      })
      .catch((failure) => setProblem(errorMessage(failure)));
  }, []);
  if (problem) return html`<${ErrorNote} message=${problem} />`;
  if (!usage) return html`<${Loading} />`;
  return html`<section class="settings-form" aria-labelledby="ai-usage-heading">
    <h2 id="ai-usage-heading">${t("ai.usage", { month: usage.month })}</h2>
    <p>
      ${t("ai.usage_total", {
        calls: formatNumber(usage.total_calls),
        input: formatNumber(usage.total_input_tokens),
        output: formatNumber(usage.total_output_tokens),
      })}
    </p>
    ${usage.features.length
      ? html`<table class="prefs">
          <thead><tr>
            <th scope="col">${t("ai.feature")}</th><th scope="col">${t("ai.calls")}</th>
            <th scope="col">${t("ai.failed")}</th><th scope="col">${t("ai.tokens")}</th>
          </tr></thead>
          <tbody>
            ${usage.features.map(
              (f) => html`<tr key=${f.feature + f.provider}>
                <th scope="row">${featureText(f.feature)} <span class="muted">(${f.provider})</span></th>
                <td>${formatNumber(f.calls)}</td><td>${formatNumber(f.failed_calls)}</td>
                <td>${formatNumber(f.input_tokens + f.output_tokens)}</td>
              </tr>`,
            )}
          </tbody>
        </table>`
      : null}
    <h3>${t("ai.log")}</h3>
    ${log.length
      ? html`<ul class="people" aria-label=${t("ai.log")}>
          ${log.map(
            (c) => html`<li key=${c.id}>
              <span class="person">
                <strong>${featureText(c.feature)}</strong>
                <span class="muted">${c.provider} · ${c.model} · ${formatDateTime(c.at)} · ${c.outcome}</span>
              </span>
              <span class="muted">${t("ai.call_tokens", { input: formatNumber(c.input_tokens), output: formatNumber(c.output_tokens) })}</span>
            </li>`,
          )}
        </ul>`
      : html`<p class="empty">${t("ai.no_calls")}</p>`}
  </section>`;
}

export function AiSettings({ me }) {
  useTitle(t("settings.ai"));
  const manager = MANAGERS.includes(me.role);
  const [ai, setAi] = useState(null);
  const [tone, setTone] = useState(null);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState("");
  const [names, setNames] = useState({});
  useEffect(() => {
    get("/v1/members?limit=100")
      .then((page) => setNames(Object.fromEntries(page.members.map((m) => [m.id, m.name]))))
      .catch(() => {});
  }, []);
  // A change's actor is "user:<id>" (or an API key's): shown by name when it is a member.
  const actorName = (actor) => names[String(actor).replace(/^user:/, "")] || actor;

  const show = (answer) => {
    setAi(answer);
    setTone({ ...answer.tone, avoid: answer.tone.avoid.join("\n") });
  };
  const load = useCallback(async () => {
    setProblem(null);
    try {
      show(await get("/v1/workspace/ai"));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }, []);
  useEffect(() => {
    load();
  }, [load]);

  async function put(body) {
    setBusy(true);
    setProblem(null);
    setSaved("");
    try {
      show(await call("PUT", "/v1/workspace/ai", { body }));
      setSaved(t("settings.saved"));
    } catch (failure) {
      setProblem(errorMessage(failure));
      get("/v1/workspace/ai").then(show, () => {});
    }
    setBusy(false);
  }
  function saveDetails(event) {
    event.preventDefault();
    put({
      features: ai.features,
      redaction: ai.redaction,
      tone: {
        description: tone.description,
        sign_off: tone.sign_off,
        avoid: tone.avoid.split("\n").map((w) => w.trim()).filter(Boolean),
      },
    });
  }

  return html`<main id="main" class="settings-page">
    <h1>${t("settings.title")}</h1>
    <${SettingsNav} section="ai" />
    <h2>${t("settings.ai")}</h2>
    <div class="statement" id="ai-statement">
      <p>${t("ai.statement_off")}</p>
      <p>${t("ai.statement_on")}</p>
      <p>${t("ai.statement_redaction")}</p>
      <p>${t("ai.statement_log")}</p>
    </div>
    ${manager ? null : html`<p class="muted">${t("settings.managers_only")}</p>`}
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${load} />` : null}
    ${ai === null
      ? problem
        ? null
        : html`<${Loading} />`
      : html`${ai.configured ? null : html`<p class="warning">${t("ai.not_configured")}</p>`}
          <div class="switch-row">
            <label class="check">
              <input
                type="checkbox"
                role="switch"
                aria-describedby="ai-statement"
                checked=${ai.enabled}
                disabled=${!manager || busy}
                onChange=${(e) => {
                  const on = e.currentTarget.checked;
                  setAi({ ...ai, enabled: on });
                  put({ enabled: on });
                }}
              />
              ${t("ai.switch")}
            </label>
            <span role="status">${ai.enabled ? t("ai.is_on") : t("ai.is_off")} ${saved}</span>
          </div>
          <form class="settings-form" onSubmit=${saveDetails} aria-busy=${busy}>
            <fieldset disabled=${!manager || busy}>
              <legend>${t("ai.features")}</legend>
              ${FEATURES.map(
                (name) => html`<label class="check" key=${name}>
                  <input type="checkbox" checked=${Boolean(ai.features[name])}
                    onChange=${(e) => setAi({ ...ai, features: { ...ai.features, [name]: e.currentTarget.checked } })} />
                  ${featureText(name)}
                </label>`,
              )}
            </fieldset>
            <fieldset disabled=${!manager || busy}>
              <legend>${t("ai.redaction")}</legend>
              <p class="muted">${t("ai.redaction_lead")}</p>
              <label class="check">
                <input type="checkbox" checked=${ai.redaction.emails}
                  onChange=${(e) => setAi({ ...ai, redaction: { ...ai.redaction, emails: e.currentTarget.checked } })} />
                ${t("ai.redact_emails")}
              </label>
              <label class="check">
                <input type="checkbox" checked=${ai.redaction.phones}
                  onChange=${(e) => setAi({ ...ai, redaction: { ...ai.redaction, phones: e.currentTarget.checked } })} />
                ${t("ai.redact_phones")}
              </label>
            </fieldset>
            <fieldset disabled=${!manager || busy}>
              <legend>${t("ai.tone")}</legend>
              <${Field} label=${t("ai.tone_description")}>
                <textarea rows="3" maxlength="2000" value=${tone.description}
                  onInput=${(e) => setTone({ ...tone, description: e.currentTarget.value })}></textarea>
              <//>
              <${Field} label=${t("ai.sign_off")}>
                <input value=${tone.sign_off} onInput=${(e) => setTone({ ...tone, sign_off: e.currentTarget.value })} />
              <//>
              <${Field} label=${t("ai.avoid")} hint=${t("ai.avoid_hint")} hintId="avoid-hint">
                <textarea rows="3" aria-describedby="avoid-hint" value=${tone.avoid}
                  onInput=${(e) => setTone({ ...tone, avoid: e.currentTarget.value })}></textarea>
              <//>
              <div class="form-actions">
                <button type="submit" class="primary">${t("settings.save")}</button>
              </div>
            </fieldset>
          </form>
          ${ai.changes.length
            ? html`<section class="settings-form" aria-labelledby="ai-changes-heading">
                <h2 id="ai-changes-heading">${t("ai.changes")}</h2>
                <ul class="people" aria-label=${t("ai.changes")}>
                  ${ai.changes.map(
                    (c, i) => html`<li key=${i}>
                      <span class="person">
                        <strong>${actorName(c.actor)}</strong>
                        <span class="muted">${formatDateTime(c.at)} · ${c.enabled_before === c.enabled_after
                          ? c.changed.join(", ")
                          : c.enabled_after ? t("ai.turned_on") : t("ai.turned_off")}</span>
                      </span>
                    </li>`,
                  )}
                </ul>
              </section>`
            : null}
          ${manager ? html`<${Usage} />` : null}`}
  </main>`;
}
