// Settings > Privacy, "Erase a person's data" (/v1/privacy/erasures): an owner or admin names
// a person by e-mail address, reads what erasure does and types the address again to confirm;
// the log then shows each erasure's status, the class of data it is on, its progress and, per
// class, how much was removed, with who asked and when. The address shows only while it runs
// (the API forgets it once done). A running erasure is asked again every few seconds.
import { post } from "../api.js";
import { html, useRef, useState } from "../html.js";
import { formatDateTime, t } from "../i18n.js";
import { ErrorNote, Field, Loading } from "../ui.js";
import { useFollowedLog } from "./followed_log.js";
import { actorName, apiProblem } from "./privacy_words.js";

// The classes of data in the order an erasure goes through them (chalicelib/privacy/erasure.py).
const PHASES = ["tickets", "mentions", "bookings", "mail", "exports", "queues", "contact"];
const RUNNING = ["pending", "running"];

const STATUS_NAMES = {
  pending: () => t("privacy.erasure_status_pending"),
  running: () => t("privacy.erasure_status_running"),
  done: () => t("privacy.erasure_status_done"),
  failed: () => t("privacy.erasure_status_failed"),
};
const PHASE_NAMES = {
  tickets: () => t("privacy.erasure_phase_tickets"),
  mentions: () => t("privacy.erasure_phase_mentions"),
  bookings: () => t("privacy.erasure_phase_bookings"),
  mail: () => t("privacy.erasure_phase_mail"),
  exports: () => t("privacy.erasure_phase_exports"),
  queues: () => t("privacy.erasure_phase_queues"),
  contact: () => t("privacy.erasure_phase_contact"),
};
// What each count of the audit record means, in the order it is listed.
const COUNT_WORDS = {
  tickets: (count) => t("privacy.erased_tickets", { count }),
  messages: (count) => t("privacy.erased_messages", { count }),
  attachments: (count) => t("privacy.erased_attachments", { count }),
  raw_mail: (count) => t("privacy.erased_raw_mail", { count }),
  ai_results: (count) => t("privacy.erased_ai_results", { count }),
  chat_records: (count) => t("privacy.erased_chat_records", { count }),
  notifications: (count) => t("privacy.erased_notifications", { count }),
  search_postings: (count) => t("privacy.erased_search_postings", { count }),
  mentions: (count) => t("privacy.erased_mentions", { count }),
  bookings: (count) => t("privacy.erased_bookings", { count }),
  reminders: (count) => t("privacy.erased_reminders", { count }),
  outbound_mail: (count) => t("privacy.erased_outbound_mail", { count }),
  held_mail: (count) => t("privacy.erased_held_mail", { count }),
  exports: (count) => t("privacy.erased_exports", { count }),
  queue_messages: (count) => t("privacy.erased_queue_messages", { count }),
  contact: (count) => t("privacy.erased_contact", { count }),
};
const named = (names, value) => (names[value] ? names[value]() : value);
const sameAddress = (a, b) => a.trim().toLowerCase() === b.trim().toLowerCase();

/** The address, then what erasure does, then the address typed again. */
function ErasureForm({ onStarted }) {
  const [email, setEmail] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [again, setAgain] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const heading = useRef(null);
  const address = useRef(null);

  function review(event) {
    event.preventDefault();
    setProblem(null);
    setConfirming(true);
    setTimeout(() => heading.current && heading.current.focus(), 0);
  }

  function back() {
    setConfirming(false);
    setAgain("");
    setMismatch(false);
    setProblem(null);
    setTimeout(() => address.current && address.current.focus(), 0);
  }

  async function erase(event) {
    event.preventDefault();
    if (!sameAddress(email, again)) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    setBusy(true);
    setProblem(null);
    try {
      const erasure = await post("/v1/privacy/erasures", { email: email.trim() });
      setConfirming(false);
      setEmail("");
      setAgain("");
      onStarted(erasure);
    } catch (failure) {
      setProblem(apiProblem(failure));
    }
    setBusy(false);
  }

  if (!confirming) {
    return html`<form class="erasure-form" onSubmit=${review}>
      ${problem ? html`<${ErrorNote} message=${problem} />` : null}
      <${Field} label=${t("privacy.erasure_email")} hint=${t("privacy.erasure_email_hint")} hintId="erasure-email-hint">
        <input type="email" name="email" required autocomplete="off" spellcheck="false" ref=${address}
          aria-describedby="erasure-email-hint" value=${email} onInput=${(e) => setEmail(e.currentTarget.value)} />
      <//>
      <div class="form-actions">
        <button type="submit" class="secondary">${t("privacy.erasure_continue")}</button>
      </div>
    </form>`;
  }
  return html`<form class="erasure-confirm" onSubmit=${erase} aria-busy=${busy} aria-labelledby="erasure-confirm-title">
    <h3 id="erasure-confirm-title" tabindex="-1" ref=${heading}>
      ${t("privacy.erasure_confirm_title", { email: email.trim() })}
    </h3>
    <ul class="erasure-effects">
      <li>${t("privacy.erasure_effect_tickets")}</li>
      <li>${t("privacy.erasure_effect_mentions")}</li>
      <li>${t("privacy.erasure_effect_bookings")}</li>
      <li>${t("privacy.erasure_effect_rest")}</li>
      <li><strong>${t("privacy.erasure_effect_final")}</strong></li>
    </ul>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <fieldset disabled=${busy}>
      <${Field} label=${t("privacy.erasure_type_again")} invalid=${mismatch}
        hint=${mismatch ? t("privacy.erasure_mismatch") : ""} hintId="erasure-again-hint">
        <input type="email" name="confirm_email" required autocomplete="off" spellcheck="false"
          aria-invalid=${mismatch ? "true" : undefined} aria-describedby=${mismatch ? "erasure-again-hint" : undefined}
          value=${again} onInput=${(e) => {
            setAgain(e.currentTarget.value);
            setMismatch(false);
          }} />
      <//>
      <div class="form-actions">
        <button type="submit" class="primary danger">${t("privacy.erasure_submit")}</button>
        <button type="button" class="secondary" onClick=${back}>${t("common.cancel")}</button>
      </div>
    </fieldset>
  </form>`;
}

/** One erasure of the log. */
function ErasureEntry({ erasure, names, onResume }) {
  const done = erasure.phases_done.filter((phase) => PHASES.includes(phase)).length;
  const running = RUNNING.includes(erasure.status);
  const progressId = `erasure-progress-${erasure.id}`;
  const counted = Object.keys(COUNT_WORDS).filter((name) => (erasure.counts[name] || 0) > 0);
  return html`<li class=${`erasure erasure-${erasure.status}`}>
    <p class="erasure-head">
      <span class=${`badge erasure-status erasure-${erasure.status}`}>${named(STATUS_NAMES, erasure.status)}</span>
      ${" "}<strong class="erasure-subject">${erasure.subject_email || t("privacy.erasure_address_gone")}</strong>
    </p>
    <p class="muted erasure-asked">
      ${t("privacy.erasure_asked", {
        who: actorName(names, erasure.requested_by),
        when: formatDateTime(erasure.requested_at),
      })}
      ${erasure.finished_at ? html` ${t("privacy.erasure_finished_at", { when: formatDateTime(erasure.finished_at) })}` : null}
    </p>
    <div class="erasure-progress">
      <progress max=${PHASES.length} value=${done} aria-labelledby=${progressId}></progress>
      <span id=${progressId}>
        ${t("privacy.erasure_progress", { count: done, total: PHASES.length })}
        ${running && PHASE_NAMES[erasure.phase]
          ? html` ${t("privacy.erasure_now", { phase: named(PHASE_NAMES, erasure.phase) })}`
          : null}
      </span>
    </div>
    ${counted.length
      ? html`<ul class="erasure-counts" aria-label=${t("privacy.erasure_counts")}>
          ${counted.map((name) => html`<li key=${name}>${COUNT_WORDS[name](erasure.counts[name])}</li>`)}
        </ul>`
      : erasure.status === "done"
        ? html`<p class="erasure-nothing">${t("privacy.erasure_nothing")}</p>`
        : null}
    ${erasure.status === "failed"
      ? html`<div class="erasure-failed">
          <p>${t("privacy.erasure_failed_text")}</p>
          ${erasure.subject_email
            ? html`<button type="button" class="secondary" onClick=${() => onResume(erasure)}>
                ${t("privacy.erasure_resume")}
              </button>`
            : null}
        </div>`
      : null}
  </li>`;
}

export function ErasureSection({ names }) {
  const [note, setNote] = useState("");
  const noteRef = useRef(null);
  const {
    entries: erasures,
    problem,
    setProblem,
    load,
    follow,
  } = useFollowedLog("/v1/privacy/erasures", "erasures", RUNNING, (finished) =>
    setNote(
      finished.some((e) => e.status === "failed")
        ? t("privacy.erasure_stopped_note")
        : t("privacy.erasure_done_note"),
    ),
  );

  function started(erasure) {
    follow(erasure);
    setNote(t("privacy.erasure_started_note"));
    setTimeout(() => noteRef.current && noteRef.current.focus(), 0);
  }

  async function resume(erasure) {
    setProblem(null);
    try {
      started(await post("/v1/privacy/erasures", { email: erasure.subject_email }));
    } catch (failure) {
      setProblem(apiProblem(failure));
    }
  }

  return html`<section class="erasure-section" aria-labelledby="privacy-erasure">
    <h2 id="privacy-erasure">${t("privacy.erasure_title")}</h2>
    <p class="muted">${t("privacy.erasure_lead")}</p>
    <${ErasureForm} onStarted=${started} />
    <h3 id="privacy-erasure-log">${t("privacy.erasure_log")}</h3>
    <div tabindex="-1" ref=${noteRef} class="privacy-notes">
      <p role="status" class=${note ? "statement" : ""}>${note}</p>
    </div>
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${erasures ? undefined : load} />` : null}
    ${erasures === null
      ? problem
        ? null
        : html`<${Loading} />`
      : erasures.length
        ? html`<ol class="erasure-log" aria-labelledby="privacy-erasure-log">
            ${erasures.map(
              (erasure) => html`<${ErasureEntry} key=${erasure.id} erasure=${erasure} names=${names} onResume=${resume} />`,
            )}
          </ol>`
        : html`<p class="empty">${t("privacy.erasure_none")}</p>`}
  </section>`;
}
