// Settings: the workspace (name, time zone, language, how French mail addresses customers)
// and the team (members, invitations by e-mail). Owners and admins change them; agents read.
import { call, get } from "../api.js";
import { errorMessage, invalidFields } from "../errors.js";
import { html, useCallback, useEffect, useState } from "../html.js";
import { LANGUAGES, currentLanguage, formatDateTime, t } from "../i18n.js";
import { href } from "../router.js";
import { currentMember, refreshSession } from "../session.js";
import { ErrorNote, Field, Loading, useTitle } from "../ui.js";
import { WorkspaceDangerZone } from "./workspace_deletion.js";

const MANAGERS = ["owner", "admin"];

function timeZones(current) {
  let zones = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = [];
  }
  return zones.includes(current) ? zones : [current, ...zones];
}

const SECTIONS = [
  ["workspace", "/settings"],
  ["team", "/settings/team"],
  ["notifications", "/settings/notifications"],
  ["api-keys", "/settings/api-keys"],
  ["mailbox", "/settings/mailbox"],
  ["ai", "/settings/ai"],
  ["help-centre", "/settings/help-centre"],
  ["chat", "/settings/chat"],
  ["calendars", "/settings/calendars"],
  ["billing", "/settings/billing"],
  ["privacy", "/settings/privacy"],
];
// Sections only owners and admins see.
const MANAGER_SECTIONS = ["billing", "privacy"];
const SECTION_NAMES = {
  workspace: () => t("settings.workspace"),
  team: () => t("settings.team"),
  notifications: () => t("settings.notifications"),
  "api-keys": () => t("settings.api_keys"),
  mailbox: () => t("settings.mailbox"),
  ai: () => t("settings.ai"),
  "help-centre": () => t("settings.help_centre"),
  chat: () => t("settings.chat"),
  calendars: () => t("settings.calendars"),
  billing: () => t("settings.billing"),
  privacy: () => t("settings.privacy"),
};

export function SettingsNav({ section }) {
  const me = currentMember();
  const manager = Boolean(me && MANAGERS.includes(me.role));
  const shown = SECTIONS.filter(([name]) => manager || !MANAGER_SECTIONS.includes(name));
  return html`<nav class="settings-nav" aria-label=${t("settings.sections")}>
    ${shown.map(
      ([name, path]) => html`<a key=${name} href=${href(path)}
        aria-current=${section === name ? "page" : undefined}>${SECTION_NAMES[name]()}</a>`,
    )}
  </nav>`;
}

export function WorkspaceSettings({ me }) {
  useTitle(t("settings.workspace"));
  const manager = MANAGERS.includes(me.role);
  const [fields, setFields] = useState({
    name: me.workspace.name,
    timezone: me.workspace.timezone,
    locale: me.workspace.locale,
    formality: me.workspace.formality,
  });
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [invalid, setInvalid] = useState({});
  const [saved, setSaved] = useState("");
  const update = (name) => (e) => setFields({ ...fields, [name]: e.currentTarget.value });

  async function save(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setInvalid({});
    setSaved("");
    try {
      await call("PATCH", "/v1/workspace", { body: { ...fields, name: fields.name.trim() } });
      await refreshSession();
      setSaved(t("settings.saved"));
    } catch (failure) {
      setProblem(errorMessage(failure));
      setInvalid(invalidFields(failure));
    }
    setBusy(false);
  }

  return html`<main id="main" class="settings-page">
    <h1>${t("settings.title")}</h1>
    <${SettingsNav} section="workspace" />
    <form class="settings-form" onSubmit=${save} aria-busy=${busy}>
      ${manager ? null : html`<p class="muted">${t("settings.managers_only")}</p>`}
      ${problem ? html`<${ErrorNote} message=${problem} />` : null}
      <fieldset disabled=${!manager || busy}>
        <${Field} label=${t("signup.workspace_name")} invalid=${invalid.name}>
          <input name="name" required maxlength="120" value=${fields.name} onInput=${update("name")} />
        <//>
        <${Field} label=${t("settings.timezone")} invalid=${invalid.timezone}>
          <select name="timezone" value=${fields.timezone} onChange=${update("timezone")}>
            ${timeZones(fields.timezone).map((zone) => html`<option key=${zone} value=${zone}>${zone}</option>`)}
          </select>
        <//>
        <${Field} label=${t("settings.language")}>
          <select name="locale" value=${fields.locale} onChange=${update("locale")}>
            ${LANGUAGES.map((lang) => html`<option key=${lang} value=${lang}>${t(`language.${lang}`)}</option>`)}
          </select>
        <//>
        <${Field}
          label=${t("settings.formality")}
          hint=${t("settings.formality_hint")}
          hintId="formality-hint"
        >
          <select
            name="formality"
            aria-describedby="formality-hint"
            value=${fields.formality}
            onChange=${update("formality")}
          >
            <option value="formal">${t("settings.formal")}</option>
            <option value="informal">${t("settings.informal")}</option>
          </select>
        <//>
        <div class="form-actions">
          <button type="submit" class="primary">${t("settings.save")}</button>
          <span role="status">${saved}</span>
        </div>
      </fieldset>
    </form>
    ${me.role === "owner" ? html`<${WorkspaceDangerZone} me=${me} />` : null}
  </main>`;
}

function InviteForm({ me, onInvited }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("agent");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [done, setDone] = useState("");
  const roles = me.role === "owner" ? ["agent", "admin", "owner"] : ["agent", "admin"];

  async function invite(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setDone("");
    try {
      await call("POST", "/v1/members/invitations", {
        body: { email: email.trim(), role, locale: currentLanguage() },
      });
      setDone(t("team.invited", { email: email.trim() }));
      setEmail("");
      onInvited();
    } catch (failure) {
      setProblem(failure.code === "already_member" ? t("team.already_member") : errorMessage(failure));
    }
    setBusy(false);
  }

  return html`<form class="invite-form" onSubmit=${invite} aria-busy=${busy}>
    <h2>${t("team.invite")}</h2>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <div class="invite-fields">
      <${Field} label=${t("login.email")}>
        <input type="email" name="email" required value=${email} onInput=${(e) => setEmail(e.currentTarget.value)} />
      <//>
      <${Field} label=${t("team.role")}>
        <select name="role" value=${role} onChange=${(e) => setRole(e.currentTarget.value)}>
          ${roles.map((r) => html`<option key=${r} value=${r}>${t(`role.${r}`)}</option>`)}
        </select>
      <//>
    </div>
    <div class="form-actions">
      <button type="submit" class="primary" disabled=${busy}>${t("team.send_invitation")}</button>
      <span role="status">${done}</span>
    </div>
  </form>`;
}

export function TeamSettings({ me }) {
  useTitle(t("settings.team"));
  const manager = MANAGERS.includes(me.role);
  const [members, setMembers] = useState(null);
  const [invitations, setInvitations] = useState([]);
  const [problem, setProblem] = useState(null);

  const load = useCallback(async () => {
    setProblem(null);
    try {
      const page = await get("/v1/members?limit=100");
      setMembers(page.members);
      if (manager) setInvitations((await get("/v1/members/invitations")).invitations);
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }, [manager]);
  useEffect(() => {
    load();
  }, [load]);

  async function revoke(invitation) {
    try {
      await call("DELETE", `/v1/members/invitations/${invitation.id}`);
      load();
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }

  const [done, setDone] = useState("");
  /** Turns off the second factor of a member who lost their authenticator (after asking). */
  async function resetTwoFactor(member) {
    if (!window.confirm(t("team.two_factor_reset_confirm", { name: member.name }))) return;
    setProblem(null);
    try {
      await call("DELETE", `/v1/members/${encodeURIComponent(member.id)}/two-factor`);
      setDone(t("team.two_factor_reset_done", { name: member.name }));
      load();
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }

  const pending = invitations.filter((i) => i.status === "pending");
  return html`<main id="main" class="settings-page">
    <h1>${t("settings.title")}</h1>
    <${SettingsNav} section="team" />
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${load} />` : null}
    ${manager ? html`<${InviteForm} me=${me} onInvited=${load} />` : null}
    <section aria-labelledby="members-heading">
      <h2 id="members-heading">${t("team.members")}</h2>
      ${members === null
        ? html`<${Loading} />`
        : html`<ul class="people" aria-label=${t("team.members")}>
            ${members.map(
              (m) => html`<li key=${m.id}>
                <span class="person"><strong>${m.name}</strong> <span class="muted">${m.email}</span></span>
                <span class="badge">${t(`role.${m.role}`)}</span>
                ${m.two_factor ? html`<span class="badge">${t("team.two_factor_on")}</span>` : null}
                ${manager && m.two_factor && m.id !== (me.user && me.user.id) && (me.role === "owner" || m.role !== "owner")
                  ? html`<button type="button" class="secondary" onClick=${() => resetTwoFactor(m)}
                      aria-label=${t("team.two_factor_reset_named", { name: m.name })}>
                      ${t("team.two_factor_reset")}
                    </button>`
                  : null}
              </li>`,
            )}
          </ul>`}
      <p role="status">${done}</p>
    </section>
    ${manager
      ? html`<section aria-labelledby="invitations-heading">
          <h2 id="invitations-heading">${t("team.pending")}</h2>
          ${pending.length
            ? html`<ul class="people" aria-label=${t("team.pending")}>
                ${pending.map(
                  (i) => html`<li key=${i.id}>
                    <span class="person">
                      <strong>${i.email}</strong>
                      <span class="muted">
                        ${t(`role.${i.role}`)} · ${t("team.expires", { when: formatDateTime(i.expires_at) })}
                      </span>
                    </span>
                    <button
                      type="button"
                      class="secondary"
                      aria-label=${t("team.revoke_for", { email: i.email })}
                      onClick=${() => revoke(i)}
                    >
                      ${t("team.revoke")}
                    </button>
                  </li>`,
                )}
              </ul>`
            : html`<p class="muted">${t("team.no_pending")}</p>`}
        </section>`
      : null}
  </main>`;
}
