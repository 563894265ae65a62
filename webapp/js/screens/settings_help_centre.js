// The help centre: its name, colour, logo and default language, and a custom domain with the
// DNS records to add and a button that checks them (/v1/kb/settings,
// /v1/kb/settings/verify-domain). Owners and admins change them.
import { call, get, post } from "../api.js";
import { errorMessage, invalidFields } from "../errors.js";
import { html, useCallback, useEffect, useState } from "../html.js";
import { LANGUAGES, formatDateTime, t } from "../i18n.js";
import { ErrorNote, Field, Loading, useTitle } from "../ui.js";
import { SettingsNav } from "./settings.js";
import { MANAGERS } from "./settings_api_keys.js";

function Domain({ settings, manager, onChanged }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [done, setDone] = useState("");
  async function verify() {
    setBusy(true);
    setProblem(null);
    setDone("");
    try {
      const answer = await post("/v1/kb/settings/verify-domain", {});
      onChanged(answer);
      setDone(answer.domain_verified ? t("help_centre.verified") : t("help_centre.not_yet"));
    } catch (failure) {
      setProblem(failure.status === 409 || failure.status === 422 ? failure.message || errorMessage(failure) : errorMessage(failure));
    }
    setBusy(false);
  }
  if (!settings.custom_domain) return null;
  return html`<section class="settings-form" aria-labelledby="domain-heading" aria-busy=${busy}>
    <h2 id="domain-heading">${t("help_centre.domain_setup", { domain: settings.custom_domain })}</h2>
    <p>
      <span class="badge">${settings.domain_verified ? t("help_centre.domain_live") : t("help_centre.domain_waiting")}</span>
    </p>
    <p>${t("help_centre.dns_lead")}</p>
    <div class="table-scroll">
      <table class="prefs dns">
        <thead><tr>
          <th scope="col">${t("help_centre.dns_type")}</th>
          <th scope="col">${t("help_centre.dns_name")}</th>
          <th scope="col">${t("help_centre.dns_value")}</th>
        </tr></thead>
        <tbody>
          ${settings.dns_records.map(
            (r) => html`<tr key=${r.purpose + r.name}>
              <td>${r.type}</td><td><code>${r.name}</code></td><td><code>${r.value}</code></td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <p class="muted">
      ${t("help_centre.https", { explanation: settings.https.explanation })}
      ${settings.https.checked_at ? " " + t("help_centre.checked", { when: formatDateTime(settings.https.checked_at) }) : ""}
    </p>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    ${manager
      ? html`<button type="button" class="primary" onClick=${verify} disabled=${busy}>
          ${t("help_centre.verify")}
        </button>`
      : null}
    <span role="status">${done}</span>
  </section>`;
}

export function HelpCentreSettings({ me }) {
  useTitle(t("settings.help_centre"));
  const manager = MANAGERS.includes(me.role);
  const [settings, setSettings] = useState(null);
  const [fields, setFields] = useState(null);
  const [problem, setProblem] = useState(null);
  const [invalid, setInvalid] = useState({});
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState("");

  const show = (answer) => {
    setSettings(answer);
    setFields({
      name: answer.name,
      brand_color: answer.brand_color,
      logo_url: answer.logo_url || "",
      default_locale: answer.default_locale,
      custom_domain: answer.custom_domain || "",
    });
  };
  const load = useCallback(async () => {
    setProblem(null);
    try {
      show(await get("/v1/kb/settings"));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }, []);
  useEffect(() => {
    load();
  }, [load]);
  const update = (name) => (e) => setFields({ ...fields, [name]: e.currentTarget.value });

  async function save(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setInvalid({});
    setSaved("");
    try {
      show(
        await call("PUT", "/v1/kb/settings", {
          body: {
            ...fields,
            logo_url: fields.logo_url.trim() || null,
            custom_domain: fields.custom_domain.trim() || null,
          },
        }),
      );
      setSaved(t("settings.saved"));
    } catch (failure) {
      setProblem(errorMessage(failure));
      setInvalid(invalidFields(failure));
    }
    setBusy(false);
  }

  return html`<main id="main" class="settings-page">
    <h1>${t("settings.title")}</h1>
    <${SettingsNav} section="help-centre" />
    ${manager ? null : html`<p class="muted">${t("settings.managers_only")}</p>`}
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${load} />` : null}
    ${fields === null
      ? problem
        ? null
        : html`<${Loading} />`
      : html`<form class="settings-form" onSubmit=${save} aria-busy=${busy}>
            <h2>${t("settings.help_centre")}</h2>
            <p><a href=${settings.url} target="_blank" rel="noopener">${t("help_centre.open", { url: settings.url })}</a></p>
            <fieldset disabled=${!manager || busy}>
              <${Field} label=${t("help_centre.name")} invalid=${invalid.name}>
                <input name="hc_name" required maxlength="120" value=${fields.name} onInput=${update("name")} />
              <//>
              <${Field} label=${t("help_centre.colour")} invalid=${invalid.brand_color}>
                <input name="brand_color" type="color" value=${fields.brand_color} onInput=${update("brand_color")} />
              <//>
              <${Field} label=${t("help_centre.logo")} hint=${t("help_centre.logo_hint")} hintId="logo-hint" invalid=${invalid.logo_url}>
                <input name="logo_url" type="url" aria-describedby="logo-hint" value=${fields.logo_url} onInput=${update("logo_url")} />
              <//>
              <${Field} label=${t("help_centre.default_language")}>
                <select name="default_locale" value=${fields.default_locale} onChange=${update("default_locale")}>
                  ${LANGUAGES.map((l) => html`<option key=${l} value=${l}>${t(`language.${l}`)}</option>`)}
                </select>
              <//>
              <${Field} label=${t("help_centre.domain")} hint=${t("help_centre.domain_hint")} hintId="domain-hint" invalid=${invalid.custom_domain}>
                <input name="custom_domain" aria-describedby="domain-hint" placeholder="help.example.com"
                  value=${fields.custom_domain} onInput=${update("custom_domain")} />
              <//>
              <div class="form-actions">
                <button type="submit" class="primary">${t("settings.save")}</button>
                <span role="status">${saved}</span>
              </div>
            </fieldset>
          </form>
          <${Domain} settings=${settings} manager=${manager} onChanged=${show} />`}
  </main>`;
}
