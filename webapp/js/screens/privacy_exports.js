// Settings > Privacy, "Export data" (/v1/privacy/exports): an owner or admin asks for
// everything held about one person (by e-mail address) or for the whole workspace; the log
// then shows each export's status, how far a running build is (its phase, tickets and files so
// far), what a ready bundle holds per class, who asked and when, and when the bundle is
// deleted. A running export is asked again every few seconds. Download reads the export again
// for a fresh 15-minute link and goes to it: a link is never kept.
import { get, post } from "../api.js";
import { html, useRef, useState } from "../html.js";
import { formatDateTime, t } from "../i18n.js";
import { ErrorNote, Field, Loading } from "../ui.js";
import { useFollowedLog } from "./followed_log.js";
import { actorName, apiProblem } from "./privacy_words.js";

const PATH = "/v1/privacy/exports";
// As long as the bucket keeps a bundle (chalicelib/privacy/exports.py EXPORT_RETENTION_DAYS).
const KEPT_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;
const RUNNING = ["pending", "building"];

const STATUS_NAMES = {
  pending: () => t("privacy.export_status_pending"),
  building: () => t("privacy.export_status_building"),
  ready: () => t("privacy.export_status_ready"),
  expired: () => t("privacy.export_status_expired"),
  failed: () => t("privacy.export_status_failed"),
};
// Where a build is (chalicelib/privacy/export_bundle.py writes these phases).
const PHASE_NAMES = {
  queued: () => t("privacy.export_phase_queued"),
  started: () => t("privacy.export_phase_started"),
  contact: () => t("privacy.export_phase_contact"),
  contacts: () => t("privacy.export_phase_contacts"),
  tickets: () => t("privacy.export_phase_tickets"),
  cc_tickets: () => t("privacy.export_phase_cc_tickets"),
  bookings: () => t("privacy.export_phase_bookings"),
  ai_results: () => t("privacy.export_phase_ai_results"),
  manifest: () => t("privacy.export_phase_manifest"),
};
// What each count of a bundle means, in the order it is listed.
const COUNT_WORDS = {
  contact: (count) => t("privacy.exported_contact", { count }),
  contacts: (count) => t("privacy.exported_contacts", { count }),
  tickets: (count) => t("privacy.exported_tickets", { count }),
  chats: (count) => t("privacy.exported_chats", { count }),
  cc_tickets: (count) => t("privacy.exported_cc_tickets", { count }),
  messages: (count) => t("privacy.exported_messages", { count }),
  attachments: (count) => t("privacy.exported_attachments", { count }),
  raw_mail: (count) => t("privacy.exported_raw_mail", { count }),
  bookings: (count) => t("privacy.exported_bookings", { count }),
  ai_results: (count) => t("privacy.exported_ai_results", { count }),
  feedback: (count) => t("privacy.exported_feedback", { count }),
  help_centre_articles: (count) => t("privacy.exported_help_centre_articles", { count }),
};
const named = (names, value) => (names[value] ? names[value]() : value);

/** The request a new export repeats (null: a person's whose address is no longer kept). */
function requestOf(exported) {
  if (exported.scope === "workspace") return { scope: "workspace" };
  return exported.contact_email ? { contact_email: exported.contact_email } : null;
}

/** Whether the bundle went before its 30 days (an erasure of someone it held). */
function withdrawn(exported) {
  if (!exported.built_at || !exported.expires_at) return true;
  return new Date(exported.expires_at) - new Date(exported.built_at) < (KEPT_DAYS - 1) * DAY_MS;
}

/** One person by address, or the whole workspace. */
function ExportForm({ onStarted }) {
  const [whole, setWhole] = useState(false);
  const [email, setEmail] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [unknown, setUnknown] = useState(null);
  const address = useRef(null);

  async function start(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setUnknown(null);
    try {
      onStarted(await post(PATH, whole ? { scope: "workspace" } : { contact_email: email.trim() }));
      setEmail("");
    } catch (failure) {
      if (failure.code === "contact_not_found") {
        setUnknown(t("privacy.export_contact_not_found"));
        setTimeout(() => address.current && address.current.focus(), 0);
      } else {
        setProblem(apiProblem(failure));
      }
    }
    setBusy(false);
  }

  return html`<form class="export-form" onSubmit=${start} aria-busy=${busy}>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <fieldset disabled=${busy}>
      <legend>${t("privacy.export_what")}</legend>
      <label class="check">
        <input type="radio" name="export_scope" value="contact" checked=${!whole}
          onChange=${() => setWhole(false)} />
        ${t("privacy.export_scope_contact")}
      </label>
      ${whole
        ? null
        : html`<div class="export-email">
            <${Field} label=${t("privacy.export_email")} invalid=${Boolean(unknown)}
              hint=${unknown || t("privacy.export_email_hint")} hintId="export-email-hint">
              <input type="email" name="contact_email" required autocomplete="off" spellcheck="false"
                ref=${address} aria-describedby="export-email-hint" aria-invalid=${unknown ? "true" : undefined}
                value=${email} onInput=${(e) => {
                  setEmail(e.currentTarget.value);
                  setUnknown(null);
                }} />
            <//>
          </div>`}
      <label class="check">
        <input type="radio" name="export_scope" value="workspace" checked=${whole}
          onChange=${() => {
            setWhole(true);
            setUnknown(null);
          }} />
        ${t("privacy.export_scope_workspace")}
      </label>
      ${whole ? html`<p class="muted export-whole">${t("privacy.export_workspace_hint")}</p>` : null}
      <div class="form-actions">
        <button type="submit" class="primary">${t("privacy.export_submit")}</button>
      </div>
    </fieldset>
  </form>`;
}

/** One export of the log. */
function ExportEntry({ exported, names, onDownload, onAgain }) {
  const [busy, setBusy] = useState(false);
  const running = RUNNING.includes(exported.status);
  const headId = `export-head-${exported.id}`;
  const progressId = `export-progress-${exported.id}`;
  const counted = Object.keys(COUNT_WORDS).filter((name) => (exported.counts[name] || 0) > 0);
  const subject =
    exported.scope === "workspace"
      ? t("privacy.export_subject_workspace")
      : exported.contact_email || t("privacy.export_address_gone");
  const again = requestOf(exported);

  async function download() {
    setBusy(true);
    await onDownload(exported);
    setBusy(false);
  }

  return html`<li class=${`export export-${exported.status}`}>
    <p class="export-head" id=${headId}>
      <span class=${`badge export-status export-${exported.status}`}>${named(STATUS_NAMES, exported.status)}</span>
      ${" "}<strong class="export-subject">${subject}</strong>
    </p>
    <p class="muted export-asked">
      ${t("privacy.export_asked", {
        who: actorName(names, exported.requested_by),
        when: formatDateTime(exported.requested_at),
      })}
    </p>
    ${running
      ? html`<div class="export-progress">
          <progress aria-labelledby=${progressId}></progress>
          <span id=${progressId}>
            ${exported.status === "pending"
              ? t("privacy.export_waiting")
              : html`${t("privacy.export_now", { phase: named(PHASE_NAMES, exported.progress.phase) })}
                  ${" "}${t("privacy.export_so_far", {
                    tickets: t("privacy.export_tickets_so_far", { count: exported.progress.tickets }),
                    files: t("privacy.export_files_so_far", { count: exported.progress.files }),
                  })}`}
          </span>
        </div>`
      : null}
    ${(exported.status === "ready" || exported.status === "expired") && counted.length
      ? html`<ul class="export-counts" aria-label=${t("privacy.export_counts")}>
          ${counted.map((name) => html`<li key=${name}>${COUNT_WORDS[name](exported.counts[name])}</li>`)}
        </ul>`
      : null}
    ${exported.status === "ready"
      ? html`<div class="export-ready">
          <p>
            ${exported.built_at ? t("privacy.export_built", { when: formatDateTime(exported.built_at) }) : null}
            ${exported.expires_at
              ? html` ${t("privacy.export_kept_until", { when: formatDateTime(exported.expires_at) })}`
              : null}
          </p>
          <button type="button" class="secondary" disabled=${busy} aria-describedby=${`${headId} export-link-hint`}
            onClick=${download}>
            ${t("privacy.export_download")}
          </button>
        </div>`
      : null}
    ${exported.status === "expired"
      ? html`<p class="export-gone">
          ${withdrawn(exported)
            ? t("privacy.export_withdrawn")
            : t("privacy.export_expired", { count: KEPT_DAYS })}
          ${exported.expires_at ? html` ${t("privacy.export_deleted_on", { when: formatDateTime(exported.expires_at) })}` : null}
        </p>`
      : null}
    ${exported.status === "failed"
      ? html`<div class="export-failed">
          <p>${t("privacy.export_failed_text")}</p>
          ${again
            ? html`<button type="button" class="secondary" aria-describedby=${headId} onClick=${() => onAgain(again)}>
                ${t("privacy.export_again")}
              </button>`
            : null}
        </div>`
      : null}
  </li>`;
}

export function ExportsSection({ names }) {
  const [note, setNote] = useState("");
  const noteRef = useRef(null);
  const {
    entries: exportsShown,
    problem,
    setProblem,
    load,
    merge,
    follow,
  } = useFollowedLog(PATH, "exports", RUNNING, (finished) =>
    setNote(
      finished.some((e) => e.status === "ready")
        ? t("privacy.export_ready_note")
        : t("privacy.export_stopped_note"),
    ),
  );

  function started(exported) {
    follow(exported);
    setNote(t("privacy.export_started_note"));
    setTimeout(() => noteRef.current && noteRef.current.focus(), 0);
  }

  async function again(request) {
    setProblem(null);
    try {
      started(await post(PATH, request));
    } catch (failure) {
      setProblem(apiProblem(failure));
    }
  }

  /** A fresh link each time (it lasts 15 minutes), then the browser goes to it. */
  async function download(exported) {
    setProblem(null);
    try {
      const fresh = await get(`${PATH}/${encodeURIComponent(exported.id)}`);
      merge([fresh]);
      if (fresh.download_url) {
        window.location.assign(fresh.download_url);
        return;
      }
      setNote(t("privacy.export_not_ready_note"));
      setTimeout(() => noteRef.current && noteRef.current.focus(), 0);
    } catch (failure) {
      setProblem(apiProblem(failure));
    }
  }

  return html`<section class="export-section" aria-labelledby="privacy-export">
    <h2 id="privacy-export">${t("privacy.export_title")}</h2>
    <p class="muted">${t("privacy.export_lead", { count: KEPT_DAYS })}</p>
    <${ExportForm} onStarted=${started} />
    <h3 id="privacy-export-log">${t("privacy.export_log")}</h3>
    ${(exportsShown || []).some((e) => e.status === "ready")
      ? html`<p class="muted export-link-hint" id="export-link-hint">${t("privacy.export_link_hint")}</p>`
      : null}
    <div tabindex="-1" ref=${noteRef} class="privacy-notes">
      <p role="status" class=${note ? "statement" : ""}>${note}</p>
    </div>
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${exportsShown ? undefined : load} />` : null}
    ${exportsShown === null
      ? problem
        ? null
        : html`<${Loading} />`
      : exportsShown.length
        ? html`<ol class="export-log" aria-labelledby="privacy-export-log">
            ${exportsShown.map(
              (exported) => html`<${ExportEntry} key=${exported.id} exported=${exported} names=${names}
                onDownload=${download} onAgain=${again} />`,
            )}
          </ol>`
        : html`<p class="empty">${t("privacy.export_none")}</p>`}
  </section>`;
}
