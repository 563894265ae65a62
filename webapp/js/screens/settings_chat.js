// Live chat: the chat bubble on the workspace's site (/v1/chat/settings): shown or not, its
// colour, side, greeting, team, office hours per weekday, the sites allowed to show it, what
// a visitor is asked before chatting, the answer bot, identity verification (a secret shown
// once), the public key (rotated after asking) and the script tag to paste. Owners and admins
// change them; agents read them.
import { call, get, post } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useCallback, useEffect, useState } from "../html.js";
import { t } from "../i18n.js";
import { ErrorNote, Loading, useTitle } from "../ui.js";
import { SettingsNav } from "./settings.js";
import { MANAGERS, ShownOnce } from "./settings_api_keys.js";

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_NAMES = {
  mon: () => t("chat.day_mon"),
  tue: () => t("chat.day_tue"),
  wed: () => t("chat.day_wed"),
  thu: () => t("chat.day_thu"),
  fri: () => t("chat.day_fri"),
  sat: () => t("chat.day_sat"),
  sun: () => t("chat.day_sun"),
};
const ASKED = ["off", "optional", "required"];
const ASKED_NAMES = {
  off: () => t("chat.ask_off"),
  optional: () => t("chat.ask_optional"),
  required: () => t("chat.ask_required"),
};

/** The form's values from the API's settings (lists as text where people type them). */
function fieldsOf(settings) {
  const weekly = {};
  for (const day of WEEKDAYS) {
    weekly[day] = ((settings.office_hours.weekly || {})[day] || []).map((s) => ({ ...s }));
  }
  return {
    enabled: settings.enabled,
    colour: settings.colour,
    position: settings.position,
    greeting_en: (settings.greeting || {}).en || "",
    greeting_fr: (settings.greeting || {}).fr || "",
    team_name: settings.team_name || "",
    team_photo_url: settings.team_photo_url || "",
    always_open: settings.office_hours.always_open,
    weekly,
    allowed_origins: (settings.allowed_origins || []).join("\n"),
    ask_name: settings.pre_chat_fields.name,
    ask_email: settings.pre_chat_fields.email,
    ai_answers: settings.ai_answers,
    identity_required: settings.identity_verification.required,
  };
}

/** The PUT body from the form's values (the answer bot's switch left as it is while the
 * workspace's AI is off: the API refuses turning it on then). */
export function bodyOf(fields, aiOff) {
  const body = {
    enabled: fields.enabled,
    colour: fields.colour,
    position: fields.position,
    greeting: { en: fields.greeting_en, fr: fields.greeting_fr },
    team_name: fields.team_name.trim(),
    team_photo_url: fields.team_photo_url.trim(), // empty: no photo
    office_hours: { always_open: fields.always_open, weekly: fields.weekly },
    allowed_origins: fields.allowed_origins
      .split(/[\n,]/)
      .map((o) => o.trim())
      .filter(Boolean),
    pre_chat_fields: { name: fields.ask_name, email: fields.ask_email },
    ai_answers: fields.ai_answers,
    identity_verification: { required: fields.identity_required },
  };
  if (aiOff) delete body.ai_answers;
  return body;
}

// The API's refusals that have words of their own here.
const REFUSALS = {
  identity_secret_missing: ["identity_verification", () => t("chat.identity_needs_secret")],
  ai_not_enabled: ["ai_answers", () => t("chat.ai_answers_need_ai")],
};

/** What the API said about each field, by its path ("colour", "office_hours.weekly.mon.0"). */
function fieldProblems(failure) {
  const found = {};
  const known = REFUSALS[failure && failure.code];
  if (known) found[known[0]] = known[1]();
  for (const detail of (failure && failure.details) || []) {
    const path = String(detail.field || "").replace(/^body\./, "");
    if (path && !found[path]) found[path] = detail.message || t("error.invalid_fields");
  }
  return found;
}

/** The first problem reported for `path` or anything under it. */
function problemAt(problems, path) {
  const hit = Object.keys(problems).find((p) => p === path || p.startsWith(`${path}.`));
  return hit ? problems[hit] : null;
}

/** A labelled control with the API's message about it below, tied by aria-describedby. */
function ChatField({ id, label, hint, problem, children }) {
  return html`<div class=${problem ? "field invalid" : "field"}>
    <label for=${id}><span class="label">${label}</span></label>
    ${children}
    ${hint ? html`<span class="hint" id=${`${id}-hint`}>${hint}</span>` : null}
    ${problem ? html`<span class="field-problem" id=${`${id}-problem`}>${problem}</span>` : null}
  </div>`;
}

const describedBy = (id, hint, problem) =>
  [hint ? `${id}-hint` : "", problem ? `${id}-problem` : ""].filter(Boolean).join(" ") || undefined;

function OfficeHours({ fields, setFields, problems, timeZone }) {
  const setDay = (day, slots) => setFields({ ...fields, weekly: { ...fields.weekly, [day]: slots } });
  return html`<fieldset class="office-hours">
    <legend>${t("chat.office_hours")}</legend>
    <p class="muted">${t("chat.time_zone", { zone: timeZone })}</p>
    <label class="check">
      <input type="checkbox" name="always_open" checked=${fields.always_open}
        onChange=${(e) => setFields({ ...fields, always_open: e.currentTarget.checked })} />
      ${t("chat.always_open")}
    </label>
    ${fields.always_open
      ? null
      : html`<p class="muted">${t("chat.office_hours_lead")}</p>
          <div class="weekdays">
            ${WEEKDAYS.map((day) => {
              const slots = fields.weekly[day];
              const name = DAY_NAMES[day]();
              const problem = problemAt(problems, `office_hours.weekly.${day}`);
              return html`<div key=${day} class="weekday" role="group" aria-labelledby=${`chat-day-${day}`}>
                <span class="day-name" id=${`chat-day-${day}`}>${name}</span>
                <div class="slots">
                  ${slots.length ? null : html`<span class="muted">${t("chat.closed")}</span>`}
                  ${slots.map(
                    (slot, i) => html`<div class="slot" key=${i}>
                      <input type="time" value=${slot.start} required
                        aria-label=${t("chat.opens", { day: name })}
                        onInput=${(e) => setDay(day, slots.map((s, j) => (j === i ? { ...s, start: e.currentTarget.value } : s)))} />
                      <span aria-hidden="true">–</span>
                      <input type="time" value=${slot.end} required
                        aria-label=${t("chat.closes", { day: name })}
                        onInput=${(e) => setDay(day, slots.map((s, j) => (j === i ? { ...s, end: e.currentTarget.value } : s)))} />
                      <button type="button" class="link"
                        aria-label=${t("chat.remove_hours", { day: name })}
                        onClick=${() => setDay(day, slots.filter((s, j) => j !== i))}>${t("chat.remove")}</button>
                    </div>`,
                  )}
                  <button type="button" class="link"
                    aria-label=${t("chat.add_hours_for", { day: name })}
                    onClick=${() => setDay(day, [...slots, { start: "09:00", end: "17:00" }])}>
                    ${t("chat.add_hours")}
                  </button>
                  ${problem ? html`<span class="field-problem">${problem}</span>` : null}
                </div>
              </div>`;
            })}
          </div>`}
  </fieldset>`;
}

/** The script tag to paste into the site's pages, with a Copy button. */
function Snippet({ settings }) {
  const [copied, setCopied] = useState("");
  async function copy() {
    try {
      await navigator.clipboard.writeText(settings.snippet);
      setCopied(t("common.copied"));
    } catch {
      setCopied(t("common.copy_failed"));
    }
  }
  return html`<section class="settings-form" aria-labelledby="chat-snippet-heading">
    <h2 id="chat-snippet-heading">${t("chat.install")}</h2>
    <p class="muted" id="chat-snippet-hint">${t("chat.install_lead")}</p>
    <pre class="snippet"><code aria-label=${t("chat.snippet")} aria-describedby="chat-snippet-hint">${settings.snippet}</code></pre>
    <div class="form-actions">
      <button type="button" class="secondary" onClick=${copy}>${t("chat.copy_snippet")}</button>
      <span role="status">${copied}</span>
    </div>
  </section>`;
}

/** The public key (what the snippet names), rotated after asking, and the identity secret,
 * created or rotated and shown once. */
function Keys({ settings, manager, onChanged }) {
  const [secret, setSecret] = useState(null);
  const [problem, setProblem] = useState(null);
  const [done, setDone] = useState("");
  const [busy, setBusy] = useState(false);
  async function rotateKey() {
    if (!window.confirm(t("chat.rotate_key_confirm"))) return;
    setBusy(true);
    setProblem(null);
    setDone("");
    try {
      onChanged(await post("/v1/chat/settings/public-key", {}));
      setDone(t("chat.key_rotated"));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
    setBusy(false);
  }
  async function makeSecret() {
    const set = settings.identity_verification.secret_set;
    if (set && !window.confirm(t("chat.rotate_secret_confirm"))) return;
    setBusy(true);
    setProblem(null);
    setDone("");
    try {
      const answer = await post("/v1/chat/settings/identity-secret", {});
      setSecret(answer.identity_secret || answer.secret);
      onChanged({
        ...settings,
        identity_verification: { ...settings.identity_verification, secret_set: true },
      });
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
    setBusy(false);
  }
  return html`<section class="settings-form" aria-labelledby="chat-keys-heading" aria-busy=${busy}>
    <h2 id="chat-keys-heading">${t("chat.keys")}</h2>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <h3>${t("chat.public_key")}</h3>
    <p><code class="secret" aria-label=${t("chat.public_key")}>${settings.public_key}</code></p>
    <p class="muted">${t("chat.public_key_lead")}</p>
    ${manager
      ? html`<button type="button" class="secondary" onClick=${rotateKey} disabled=${busy}>
          ${t("chat.rotate_key")}
        </button>`
      : null}
    <h3>${t("chat.identity_secret")}</h3>
    <p class="muted">${t("chat.identity_lead")}</p>
    <p>
      <span class="badge">${settings.identity_verification.secret_set ? t("chat.secret_set") : t("chat.secret_not_set")}</span>
    </p>
    ${secret
      ? html`<${ShownOnce}
          title=${t("chat.identity_secret")}
          label=${t("chat.identity_secret_value")}
          value=${secret}
          warning=${t("chat.secret_shown_once")}
          onDone=${() => setSecret(null)}
        />`
      : null}
    ${manager
      ? html`<button type="button" class="secondary" onClick=${makeSecret} disabled=${busy}>
          ${settings.identity_verification.secret_set ? t("chat.rotate_secret") : t("chat.create_secret")}
        </button>`
      : null}
    <span role="status">${done}</span>
  </section>`;
}

export function ChatSettings({ me }) {
  useTitle(t("settings.chat"));
  const manager = MANAGERS.includes(me.role);
  const [settings, setSettings] = useState(null);
  const [fields, setFields] = useState(null);
  const [aiOn, setAiOn] = useState(null);
  const [problem, setProblem] = useState(null);
  const [problems, setProblems] = useState({});
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState("");

  const show = (answer) => {
    setSettings(answer);
    setFields(fieldsOf(answer));
  };
  const load = useCallback(async () => {
    setProblem(null);
    try {
      show(await get("/v1/chat/settings"));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
    get("/v1/workspace/ai").then(
      (ai) => setAiOn(Boolean(ai.enabled)),
      () => setAiOn(null),
    );
  }, []);
  useEffect(() => {
    load();
  }, [load]);

  async function save(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setProblems({});
    setSaved("");
    try {
      show(await call("PUT", "/v1/chat/settings", { body: bodyOf(fields, aiOff) }));
      setSaved(t("settings.saved"));
    } catch (failure) {
      const found = fieldProblems(failure);
      setProblems(found);
      setProblem(
        Object.keys(found).length ? t("error.invalid_fields") : failure.message || errorMessage(failure),
      );
    }
    setBusy(false);
  }

  const set = (name) => (e) => setFields({ ...fields, [name]: e.currentTarget.value });
  const check = (name) => (e) => setFields({ ...fields, [name]: e.currentTarget.checked });
  // The answer bot needs the workspace's AI: off there, the switch is off here too.
  const aiOff = aiOn === false;
  const text = (id, name, label, { hint, type = "text", path = name, ...rest } = {}) => {
    const found = problemAt(problems, path);
    return html`<${ChatField} id=${id} label=${label} hint=${hint} problem=${found}>
      <input id=${id} name=${name} type=${type} value=${fields[name]} onInput=${set(name)}
        aria-invalid=${found ? "true" : undefined} aria-describedby=${describedBy(id, hint, found)} ...${rest} />
    <//>`;
  };

  return html`<main id="main" class="settings-page">
    <h1>${t("settings.title")}</h1>
    <${SettingsNav} section="chat" />
    <h2>${t("settings.chat")}</h2>
    <p class="muted">${t("chat.lead")}</p>
    ${manager ? null : html`<p class="muted">${t("settings.managers_only")}</p>`}
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${settings ? undefined : load} />` : null}
    ${fields === null
      ? problem
        ? null
        : html`<${Loading} />`
      : html`<form class="settings-form chat-settings" onSubmit=${save} aria-busy=${busy} novalidate>
            <fieldset disabled=${!manager || busy}>
              <legend>${t("chat.widget")}</legend>
              <label class="check">
                <input type="checkbox" role="switch" name="enabled" checked=${fields.enabled}
                  onChange=${check("enabled")} />
                ${t("chat.enabled")}
              </label>
              ${text("chat-colour", "colour", t("chat.colour"), { type: "color" })}
              <${ChatField} id="chat-position" label=${t("chat.position")} problem=${problemAt(problems, "position")}>
                <select id="chat-position" name="position" value=${fields.position} onChange=${set("position")}>
                  <option value="right">${t("chat.position_right")}</option>
                  <option value="left">${t("chat.position_left")}</option>
                </select>
              <//>
              <${ChatField} id="chat-greeting-en" label=${t("chat.greeting_en")} problem=${problemAt(problems, "greeting.en")}>
                <textarea id="chat-greeting-en" name="greeting_en" rows="2" lang="en" value=${fields.greeting_en}
                  onInput=${set("greeting_en")}></textarea>
              <//>
              <${ChatField} id="chat-greeting-fr" label=${t("chat.greeting_fr")} problem=${problemAt(problems, "greeting.fr")}>
                <textarea id="chat-greeting-fr" name="greeting_fr" rows="2" lang="fr" value=${fields.greeting_fr}
                  onInput=${set("greeting_fr")}></textarea>
              <//>
              ${text("chat-team-name", "team_name", t("chat.team_name"), { maxlength: "80" })}
              ${text("chat-team-photo", "team_photo_url", t("chat.team_photo"), {
                type: "url",
                hint: t("chat.team_photo_hint"),
                placeholder: "https://",
              })}
            </fieldset>
            <fieldset disabled=${!manager || busy}>
              <${OfficeHours} fields=${fields} setFields=${setFields} problems=${problems}
                timeZone=${settings.office_hours.time_zone} />
            </fieldset>
            <fieldset disabled=${!manager || busy}>
              <legend>${t("chat.where")}</legend>
              <${ChatField} id="chat-origins" label=${t("chat.allowed_origins")} hint=${t("chat.allowed_origins_hint")}
                problem=${problemAt(problems, "allowed_origins")}>
                <textarea id="chat-origins" name="allowed_origins" rows="3" value=${fields.allowed_origins}
                  aria-invalid=${problemAt(problems, "allowed_origins") ? "true" : undefined}
                  aria-describedby=${describedBy("chat-origins", true, problemAt(problems, "allowed_origins"))}
                  onInput=${set("allowed_origins")} placeholder="https://www.example.com"></textarea>
              <//>
            </fieldset>
            <fieldset disabled=${!manager || busy}>
              <legend>${t("chat.pre_chat")}</legend>
              ${[["ask_name", "name", t("chat.ask_name")], ["ask_email", "email", t("chat.ask_email")]].map(
                ([name, path, label]) => html`<${ChatField} key=${name} id=${`chat-${name}`} label=${label}
                    problem=${problemAt(problems, `pre_chat_fields.${path}`)}>
                  <select id=${`chat-${name}`} name=${name} value=${fields[name]} onChange=${set(name)}>
                    ${ASKED.map((v) => html`<option key=${v} value=${v}>${ASKED_NAMES[v]()}</option>`)}
                  </select>
                <//>`,
              )}
            </fieldset>
            <fieldset disabled=${!manager || busy}>
              <legend>${t("chat.bot")}</legend>
              <label class="check">
                <input type="checkbox" role="switch" name="ai_answers" checked=${fields.ai_answers && !aiOff}
                  disabled=${aiOff} aria-describedby="chat-bot-hint" onChange=${check("ai_answers")} />
                ${t("chat.ai_answers")}
              </label>
              <p class=${aiOff ? "warning" : "muted"} id="chat-bot-hint">
                ${aiOff ? t("chat.ai_answers_need_ai") : t("chat.ai_answers_lead")}
              </p>
              ${problemAt(problems, "ai_answers")
                ? html`<p class="field-problem">${problemAt(problems, "ai_answers")}</p>`
                : null}
            </fieldset>
            <fieldset disabled=${!manager || busy}>
              <legend>${t("chat.identity")}</legend>
              <label class="check">
                <input type="checkbox" name="identity_required" checked=${fields.identity_required}
                  aria-describedby="chat-identity-hint" onChange=${check("identity_required")} />
                ${t("chat.identity_required")}
              </label>
              <p class="muted" id="chat-identity-hint">${t("chat.identity_required_hint")}</p>
              ${problemAt(problems, "identity_verification")
                ? html`<p class="field-problem">${problemAt(problems, "identity_verification")}</p>`
                : null}
            </fieldset>
            <div class="form-actions">
              <button type="submit" class="primary" disabled=${!manager || busy}>${t("settings.save")}</button>
              <span role="status">${saved}</span>
            </div>
          </form>
          <${Snippet} settings=${settings} />
          <${Keys} settings=${settings} manager=${manager} onChanged=${setSettings} />`}
  </main>`;
}
