// API keys of the workspace (owners and admins): the list (never a secret), a new key whose
// secret is shown once, and revoking one (GET/POST/DELETE /v1/api-keys).
import { call, get, post } from "../api.js";
import { errorMessage, invalidFields } from "../errors.js";
import { html, useCallback, useEffect, useState } from "../html.js";
import { formatDateTime, t } from "../i18n.js";
import { ErrorNote, Field, Loading, useTitle } from "../ui.js";
import { SettingsNav } from "./settings.js";

export const MANAGERS = ["owner", "admin"];

/** A secret shown this once, with a copy button and the warning that goes with it. */
export function ShownOnce({ title, label, value, warning, onDone }) {
  const [copied, setCopied] = useState("");
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(t("common.copied"));
    } catch {
      setCopied(t("common.copy_failed"));
    }
  }
  return html`<div class="once" role="region" aria-label=${title}>
    <p class="warning">${warning}</p>
    <p><code class="secret" aria-label=${label}>${value}</code></p>
    <div class="form-actions">
      <button type="button" class="secondary" onClick=${copy}>${t("common.copy")}</button>
      <button type="button" class="primary" onClick=${onDone}>${t("common.done")}</button>
      <span role="status">${copied}</span>
    </div>
  </div>`;
}

export function ApiKeySettings({ me }) {
  useTitle(t("settings.api_keys"));
  const manager = MANAGERS.includes(me.role);
  const [keys, setKeys] = useState(null);
  const [name, setName] = useState("");
  const [role, setRole] = useState("agent");
  const [created, setCreated] = useState(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [invalid, setInvalid] = useState({});

  const load = useCallback(async () => {
    if (!manager) return;
    setProblem(null);
    try {
      setKeys((await get("/v1/api-keys")).api_keys);
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }, [manager]);
  useEffect(() => {
    load();
  }, [load]);

  async function create(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setInvalid({});
    try {
      setCreated(await post("/v1/api-keys", { name: name.trim(), role }));
      setName("");
      load();
    } catch (failure) {
      setProblem(errorMessage(failure));
      setInvalid(invalidFields(failure));
    }
    setBusy(false);
  }
  async function revoke(key) {
    if (!window.confirm(t("api_keys.revoke_confirm", { name: key.name }))) return;
    try {
      await call("DELETE", `/v1/api-keys/${encodeURIComponent(key.id)}`);
      load();
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }

  return html`<main id="main" class="settings-page">
    <h1>${t("settings.title")}</h1>
    <${SettingsNav} section="api-keys" />
    <h2>${t("settings.api_keys")}</h2>
    <p class="muted">${t("api_keys.lead")}</p>
    ${manager
      ? null
      : html`<p class="muted">${t("settings.managers_only")}</p>`}
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    ${created
      ? html`<${ShownOnce}
          title=${t("api_keys.new_key", { name: created.name })}
          label=${t("api_keys.secret_of", { name: created.name })}
          value=${created.key}
          warning=${t("api_keys.shown_once")}
          onDone=${() => setCreated(null)}
        />`
      : null}
    ${manager
      ? html`<form class="invite-form" onSubmit=${create} aria-busy=${busy}>
          <h3>${t("api_keys.new")}</h3>
          <div class="invite-fields">
            <${Field} label=${t("api_keys.name")} invalid=${invalid.name}>
              <input name="key_name" required maxlength="100" value=${name}
                onInput=${(e) => setName(e.currentTarget.value)} />
            <//>
            <${Field} label=${t("team.role")}>
              <select name="key_role" value=${role} onChange=${(e) => setRole(e.currentTarget.value)}>
                <option value="agent">${t("role.agent")}</option>
                <option value="admin">${t("role.admin")}</option>
              </select>
            <//>
          </div>
          <button type="submit" class="primary" disabled=${busy}>${t("api_keys.create")}</button>
        </form>`
      : null}
    ${manager
      ? keys === null
        ? html`<${Loading} />`
        : keys.length
          ? html`<ul class="people" aria-label=${t("settings.api_keys")}>
              ${keys.map(
                (k) => html`<li key=${k.id}>
                  <span class="person">
                    <strong>${k.name}</strong> <code>${k.prefix}…</code>
                    <span class="muted">
                      ${t(`role.${k.role}`)} · ${t("api_keys.created", { when: formatDateTime(k.created_at) })}
                      · ${k.last_used_at
                        ? t("api_keys.last_used", { when: formatDateTime(k.last_used_at) })
                        : t("api_keys.never_used")}
                    </span>
                  </span>
                  <button type="button" class="secondary" onClick=${() => revoke(k)}
                    aria-label=${t("api_keys.revoke_named", { name: k.name })}>
                    ${t("api_keys.revoke")}
                  </button>
                </li>`,
              )}
            </ul>`
          : html`<p class="empty">${t("api_keys.none")}</p>`
      : null}
  </main>`;
}
