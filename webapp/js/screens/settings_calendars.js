// Settings: the member's own calendars (/v1/calendar-connections). Connecting Google Calendar
// or Microsoft 365 goes to the provider's consent page and comes back here with `?connected=`
// (or `?error=`); each connection shows its state ("Reconnect Google" when the grant was
// revoked or expired), the calendars whose events make the member busy, the calendar bookings
// are written to, and disconnecting (after asking), which revokes the grant.
import { call, get, post } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useCallback, useEffect, useRef, useState } from "../html.js";
import { t } from "../i18n.js";
import { currentRoute, navigate, queryParam } from "../router.js";
import { ErrorNote, Loading, useTitle } from "../ui.js";
import { SettingsNav } from "./settings.js";

const PROVIDERS = ["google", "microsoft"];
const PROVIDER_NAMES = {
  google: () => t("calendars.google"),
  microsoft: () => t("calendars.microsoft"),
};
const providerName = (p) => (PROVIDER_NAMES[p] ? PROVIDER_NAMES[p]() : p);
const RECONNECT = {
  google: () => t("calendars.reconnect_google"),
  microsoft: () => t("calendars.reconnect_microsoft"),
};
const CONNECT = {
  google: () => t("calendars.connect_google"),
  microsoft: () => t("calendars.connect_microsoft"),
};
const STATUS_NAMES = {
  connected: () => t("calendars.status_connected"),
  needs_reconnect: () => t("calendars.status_needs_reconnect"),
  error: () => t("calendars.status_error"),
};
// What the provider's redirect back may say went wrong.
const RETURN_ERRORS = {
  access_denied: () => t("calendars.error_denied"),
  state_mismatch: () => t("calendars.error_state"),
  provider_unavailable: () => t("calendars.error_unavailable"),
};

/** Goes to the provider's consent page (the API made the state and the PKCE challenge). */
async function startConnecting(provider) {
  const answer = await post(`/v1/calendar-connections/${provider}/start`, {});
  window.location.assign(answer.authorization_url);
}

function Connection({ connection, onChanged, onGone }) {
  const [busyIds, setBusyIds] = useState(connection.busy_calendar_ids || []);
  const [writeId, setWriteId] = useState(connection.write_calendar_id || "");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [saved, setSaved] = useState("");
  useEffect(() => {
    setBusyIds(connection.busy_calendar_ids || []);
    setWriteId(connection.write_calendar_id || "");
  }, [connection]);
  const name = providerName(connection.provider);
  const who = `${name} · ${connection.account_email}`;
  const calendars = connection.calendars || [];
  const writable = calendars.filter((c) => c.writable !== false);
  const idBase = `conn-${connection.id}`;

  async function save(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setSaved("");
    try {
      const answer = await call("PATCH", `/v1/calendar-connections/${encodeURIComponent(connection.id)}`, {
        body: { busy_calendar_ids: busyIds, write_calendar_id: writeId },
      });
      onChanged((answer && (answer.connection || answer)) || null);
      setSaved(t("settings.saved"));
    } catch (failure) {
      setProblem(failure.message || errorMessage(failure));
    }
    setBusy(false);
  }

  async function disconnect() {
    if (!window.confirm(t("calendars.disconnect_confirm", { account: who }))) return;
    setBusy(true);
    setProblem(null);
    try {
      await call("DELETE", `/v1/calendar-connections/${encodeURIComponent(connection.id)}`);
      onGone(t("calendars.disconnected", { account: who }));
    } catch (failure) {
      setProblem(errorMessage(failure));
      setBusy(false);
    }
  }

  async function reconnect() {
    setBusy(true);
    setProblem(null);
    try {
      await startConnecting(connection.provider);
    } catch (failure) {
      setProblem(errorMessage(failure));
      setBusy(false);
    }
  }

  const status = connection.status || "connected";
  return html`<li class="connection" aria-labelledby=${`${idBase}-name`}>
    <h3 id=${`${idBase}-name`}>
      ${name} <span class="muted">${connection.account_email}</span>
      <span class=${`badge calendar-${status}`}>${STATUS_NAMES[status] ? STATUS_NAMES[status]() : status}</span>
    </h3>
    ${status === "needs_reconnect"
      ? html`<div class="reconnect" role="alert">
          <p>${t("calendars.needs_reconnect", { provider: name })}</p>
          <button type="button" class="primary" disabled=${busy} onClick=${reconnect}>
            ${RECONNECT[connection.provider] ? RECONNECT[connection.provider]() : name}
          </button>
        </div>`
      : null}
    ${status === "error"
      ? html`<p class="warning">${t("calendars.failing", { provider: name })}
          ${connection.last_error ? html` <span class="muted">(${connection.last_error})</span>` : null}</p>`
      : null}
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <form onSubmit=${save} aria-busy=${busy}>
      <fieldset disabled=${busy}>
        <legend>${t("calendars.busy_calendars")}</legend>
        <p class="muted">${t("calendars.busy_calendars_lead")}</p>
        ${calendars.length ? null : html`<p class="muted">${t("calendars.no_calendars")}</p>`}
        ${calendars.map(
          (c) => html`<label class="check" key=${c.id}>
            <input type="checkbox" name="busy_calendar_ids" value=${c.id} checked=${busyIds.includes(c.id)}
              onChange=${(e) =>
                setBusyIds(e.currentTarget.checked ? [...busyIds, c.id] : busyIds.filter((x) => x !== c.id))} />
            ${c.name}${c.primary ? html` <span class="muted">(${t("calendars.primary")})</span>` : null}
          </label>`,
        )}
      </fieldset>
      <fieldset disabled=${busy}>
        <div class="field">
          <label for=${`${idBase}-write`}><span class="label">${t("calendars.write_calendar")}</span></label>
          <select id=${`${idBase}-write`} value=${writeId} aria-describedby=${`${idBase}-write-hint`}
            onChange=${(e) => setWriteId(e.currentTarget.value)}>
            ${writeId && !writable.some((c) => c.id === writeId)
              ? html`<option value=${writeId}>${writeId}</option>`
              : null}
            ${writable.map((c) => html`<option key=${c.id} value=${c.id}>${c.name}</option>`)}
          </select>
          <span class="hint" id=${`${idBase}-write-hint`}>${t("calendars.write_calendar_hint")}</span>
        </div>
      </fieldset>
      <div class="form-actions">
        <button type="submit" class="primary" disabled=${busy}>${t("settings.save")}</button>
        <button type="button" class="secondary danger" disabled=${busy} onClick=${disconnect}
          aria-label=${t("calendars.disconnect_named", { account: who })}>
          ${t("calendars.disconnect")}
        </button>
        <span role="status">${saved}</span>
      </div>
    </form>
  </li>`;
}

export function CalendarSettings() {
  useTitle(t("settings.calendars"));
  const route = currentRoute();
  const [connections, setConnections] = useState(null);
  const [problem, setProblem] = useState(null);
  const [note, setNote] = useState(() => {
    const connected = queryParam(route, "connected");
    return connected ? t("calendars.connected", { provider: providerName(connected) }) : "";
  });
  const [returned] = useState(() => {
    const code = queryParam(route, "error");
    if (!code) return null;
    return RETURN_ERRORS[code] ? RETURN_ERRORS[code]() : t("calendars.error_other");
  });
  const [starting, setStarting] = useState("");
  const noteRef = useRef(null);

  const load = useCallback(async () => {
    setProblem(null);
    try {
      setConnections((await get("/v1/calendar-connections")).connections || []);
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }, []);
  useEffect(() => {
    load();
    // The provider's answer is read once: the address loses it (a reload says nothing again).
    if (queryParam(route, "connected") || queryParam(route, "error")) {
      navigate("/settings/calendars", { replace: true });
      setTimeout(() => noteRef.current && noteRef.current.focus(), 0);
    }
  }, [load]);

  async function connect(provider) {
    setStarting(provider);
    setProblem(null);
    try {
      await startConnecting(provider);
    } catch (failure) {
      setProblem(errorMessage(failure));
      setStarting("");
    }
  }

  const replace = (changed) => {
    if (!changed || !changed.id) return load();
    setConnections(connections.map((c) => (c.id === changed.id ? changed : c)));
    return undefined;
  };
  const stale = (connections || []).filter((c) => c.status === "needs_reconnect");
  return html`<main id="main" class="settings-page">
    <h1>${t("settings.title")}</h1>
    <${SettingsNav} section="calendars" />
    <h2>${t("settings.calendars")}</h2>
    <p class="muted">${t("calendars.lead")}</p>
    <div tabindex="-1" ref=${noteRef}>
      ${returned ? html`<${ErrorNote} message=${returned} />` : null}
      <p role="status" class=${note ? "statement" : ""}>${note}</p>
    </div>
    ${stale.length
      ? html`<div class="banner reconnect-banner" role="alert">
          <p>${t("calendars.reconnect_banner", { count: stale.length })}</p>
        </div>`
      : null}
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${connections ? undefined : load} />` : null}
    <section class="settings-form" aria-labelledby="calendars-connect">
      <h2 id="calendars-connect">${t("calendars.connect")}</h2>
      <div class="actions">
        ${PROVIDERS.map(
          (p) => html`<button key=${p} type="button" class="secondary" disabled=${Boolean(starting)}
            onClick=${() => connect(p)}>${CONNECT[p]()}</button>`,
        )}
      </div>
      <p class="muted">${t("calendars.connect_lead")}</p>
    </section>
    <section class="settings-form" aria-labelledby="calendars-list">
      <h2 id="calendars-list">${t("calendars.connections")}</h2>
      ${connections === null
        ? problem
          ? null
          : html`<${Loading} />`
        : connections.length
          ? html`<ul class="plain connections" aria-label=${t("calendars.connections")}>
              ${connections.map(
                (c) => html`<${Connection} key=${c.id} connection=${c} onChanged=${replace}
                  onGone=${(message) => {
                    setNote(message);
                    load();
                  }} />`,
              )}
            </ul>`
          : html`<p class="empty">${t("calendars.none")}</p>`}
    </section>
  </main>`;
}
