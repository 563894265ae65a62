// Settings > Privacy: the planned changes to Helptal's sub-processors in their notice period
// (what changes, when, who comes and who leaves), the workspace's objection to each, and the
// remedy an objection allows: ending the subscription now with the prepaid fees for the unused
// part of the term refunded; then exporting a person's data or the whole workspace
// (privacy_exports.js), erasing a person's data (privacy_erasure.js) and how long
// closed tickets are kept (privacy_retention.js). Owners and admins see it; only owners object
// and confirm (the API refuses the others).
import { get, post } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useCallback, useEffect, useRef, useState } from "../html.js";
import { t } from "../i18n.js";
import { formatDate, formatMoney } from "../money.js";
import { ErrorNote, Field, Loading, useTitle } from "../ui.js";
import { inLanguage, loadNotices, noticeKey, noticesChanged, publicPage } from "./privacy_notices.js";
import { ErasureSection } from "./privacy_erasure.js";
import { ExportsSection } from "./privacy_exports.js";
import { RetentionSection } from "./privacy_retention.js";
import { useMemberNames } from "./privacy_words.js";
import { SettingsNav } from "./settings.js";

const REASON_MAX = 2000;
const STATUS_NAMES = {
  objected: () => t("privacy.status_objected"),
  terminated: () => t("privacy.status_terminated"),
  no_subscription: () => t("privacy.status_no_subscription"),
};
const PAYERS = {
  stripe: () => t("privacy.refund_stripe"),
  paypal: () => t("privacy.refund_paypal"),
  tappay: () => t("privacy.refund_tappay"),
};

/** What an owner is told when the API refuses a privacy action. */
function privacyProblem(failure) {
  if (failure.code === "not_in_notice_period") return t("privacy.error_not_in_notice_period");
  if (failure.code === "already_objected") return t("privacy.error_already_objected");
  if (failure.code === "no_subscription") return t("privacy.error_no_subscription");
  if (failure.status === 403) return t("privacy.owners_only");
  return errorMessage(failure);
}

/** The outcome of an objection, in words. */
function outcomeText(objection) {
  if (objection.status === "terminated") {
    const refund = objection.refund;
    if (refund && refund.amount && refund.amount.amount > 0) {
      const payer = PAYERS[refund.processor] ? PAYERS[refund.processor]() : refund.processor;
      return t("privacy.terminated_refund", { amount: formatMoney(refund.amount), payer });
    }
    return t("privacy.terminated_no_refund");
  }
  if (objection.status === "no_subscription") return t("privacy.no_subscription_text");
  return t("privacy.objected_text");
}

function ChangeFacts({ change }) {
  const provider = change.subprocessor;
  return html`<dl class="privacy-facts">
    <div>
      <dt>${t("privacy.effective")}</dt>
      <dd>${formatDate(change.effective_at)}</dd>
    </div>
    <div>
      <dt>${t("privacy.announced")}</dt>
      <dd>${formatDate(change.announced_at)}</dd>
    </div>
    ${provider
      ? html`<div>
          <dt>${t("privacy.newcomer")}</dt>
          <dd>
            <strong>${provider.name}</strong> — ${inLanguage(provider.location)}<br />
            <span class="muted">${inLanguage(provider.purpose)}</span>
          </dd>
        </div>`
      : null}
    ${change.replaces.length
      ? html`<div>
          <dt>${t("privacy.leaving")}</dt>
          <dd>${change.replaces.map((p) => p.name).join(", ")}</dd>
        </div>`
      : null}
    <div>
      <dt>${t("privacy.workspace_content")}</dt>
      <dd>${change.processes_workspace_content ? t("privacy.content_yes") : t("privacy.content_no")}</dd>
    </div>
  </dl>`;
}

/** The owner's objection: a reason, then recorded. */
function ObjectionForm({ change, onDone, onCancel, onStale }) {
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const heading = useRef(null);
  const hintId = `reason-hint-${change.id}`;
  useEffect(() => heading.current && heading.current.focus(), []);

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      onDone(await post("/v1/privacy/objections", { change_id: change.id, reason }));
    } catch (failure) {
      if (failure.code === "already_objected") {
        onStale(t("privacy.error_already_objected"));
        return;
      }
      setProblem(privacyProblem(failure));
      setBusy(false);
    }
  }

  return html`<form class="objection-form" onSubmit=${submit} aria-busy=${busy}>
    <h4 tabindex="-1" ref=${heading}>${t("privacy.object_title")}</h4>
    <p class="muted">${t("privacy.object_lead")}</p>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <fieldset disabled=${busy}>
      <${Field} label=${t("privacy.reason")} hint=${t("privacy.reason_hint", { count: REASON_MAX })}
        hintId=${hintId} invalid=${Boolean(problem)}>
        <textarea name="reason" rows="5" required maxlength=${REASON_MAX} aria-describedby=${hintId}
          value=${reason} onInput=${(e) => setReason(e.currentTarget.value)}></textarea>
      <//>
      <div class="form-actions">
        <button type="submit" class="primary">${t("privacy.object_submit")}</button>
        <button type="button" class="secondary" onClick=${onCancel}>${t("common.cancel")}</button>
      </div>
    </fieldset>
  </form>`;
}

/** Asks the owner to confirm the end of the subscription, the refund explained. */
function TerminateDialog({ objection, onDone, onClose, onStale }) {
  const dialog = useRef(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element && element.open && element.close();
  }, []);

  async function confirm(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      onDone(await post(`/v1/privacy/objections/${encodeURIComponent(objection.id)}/confirm`, {}));
    } catch (failure) {
      if (failure.code === "no_subscription") {
        onStale(t("privacy.no_subscription_text"));
        return;
      }
      setProblem(privacyProblem(failure));
      setBusy(false);
    }
  }

  return html`<dialog class="billing-dialog privacy-dialog" ref=${dialog}
    aria-labelledby="terminate-title" aria-describedby="terminate-text" onClose=${onClose}>
    <form onSubmit=${confirm} aria-busy=${busy}>
      <h2 id="terminate-title">${t("privacy.terminate_title")}</h2>
      ${problem ? html`<${ErrorNote} message=${problem} />` : null}
      <p id="terminate-text">${t("privacy.terminate_text")}</p>
      <div class="form-actions">
        <button type="submit" class="primary danger" disabled=${busy}>${t("privacy.terminate_confirm")}</button>
        <button type="button" class="secondary" disabled=${busy} onClick=${() => dialog.current.close()}>
          ${t("privacy.terminate_keep")}
        </button>
      </div>
    </form>
  </dialog>`;
}

/** An objection: its state, and for an owner the step that ends the subscription. */
function ObjectionState({ objection, owner, onChanged, onStale }) {
  const [asking, setAsking] = useState(false);
  const button = useRef(null);
  const open = objection.status !== "terminated";
  return html`<div class=${`objection objection-${objection.status}`}>
    <p>
      <span class=${`badge objection-status objection-${objection.status}`}>
        ${STATUS_NAMES[objection.status] ? STATUS_NAMES[objection.status]() : objection.status}
      </span>
      ${" "}${t("privacy.objected_on", { date: formatDate(objection.at) })}
    </p>
    <blockquote class="objection-reason">${objection.reason}</blockquote>
    <p class="objection-outcome">${outcomeText(objection)}</p>
    ${owner && open
      ? html`<div class="terminate">
          <p class="muted">${t("privacy.terminate_lead")}</p>
          <button type="button" class="secondary danger" ref=${button} onClick=${() => setAsking(true)}>
            ${t("privacy.terminate_button")}
          </button>
        </div>`
      : null}
    ${asking
      ? html`<${TerminateDialog} objection=${objection}
          onClose=${() => {
            setAsking(false);
            setTimeout(() => button.current && button.current.focus(), 0);
          }}
          onDone=${(changed) => {
            setAsking(false);
            onChanged(changed);
          }}
          onStale=${(message) => {
            setAsking(false);
            onStale(message);
          }} />`
      : null}
  </div>`;
}

function ChangeCard({ notice, owner, onObjected, onChanged, onStale }) {
  const [objecting, setObjecting] = useState(false);
  const change = notice.change;
  const titleId = `change-${change.id}`;
  return html`<article class="privacy-change" aria-labelledby=${titleId}>
    <h3 id=${titleId}>${inLanguage(change.summary)}</h3>
    <${ChangeFacts} change=${change} />
    ${notice.objection
      ? html`<${ObjectionState} objection=${notice.objection} owner=${owner} onChanged=${onChanged}
          onStale=${onStale} />`
      : objecting
        ? html`<${ObjectionForm} change=${change}
            onCancel=${() => setObjecting(false)}
            onStale=${(message) => {
              setObjecting(false);
              onStale(message);
            }}
            onDone=${(objection) => {
              setObjecting(false);
              onObjected(objection);
            }} />`
        : owner
          ? html`<button type="button" class="secondary" onClick=${() => setObjecting(true)}>
              ${t("privacy.object_button")}
            </button>`
          : html`<p class="muted">${t("privacy.no_objection")}</p>`}
  </article>`;
}

export function PrivacySettings({ me }) {
  useTitle(t("settings.privacy"));
  const manager = me.role === "owner" || me.role === "admin";
  const owner = me.role === "owner";
  const key = noticeKey(me);
  const [answer, setAnswer] = useState(null);
  const [objections, setObjections] = useState([]);
  const [problem, setProblem] = useState(null);
  const [done, setDone] = useState("");
  const note = useRef(null);
  const names = useMemberNames(manager);

  const load = useCallback(async (message) => {
    setProblem(null);
    try {
      const [notices, listed] = await Promise.all([
        loadNotices(key, { fresh: true }),
        get("/v1/privacy/objections"),
      ]);
      setAnswer(notices);
      setObjections(listed.objections);
      if (message) {
        setDone(message);
        setTimeout(() => note.current && note.current.focus(), 0);
      }
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }, [key]);

  useEffect(() => {
    if (manager) load("");
  }, [load, manager]);

  /** An objection changed: the card, the list and the banner show it. */
  function changed(objection, message) {
    const changes = answer.changes.map((n) => (n.change.id === objection.change_id ? { ...n, objection } : n));
    const next = { ...answer, changes };
    setAnswer(next);
    noticesChanged(key, next);
    setObjections([objection, ...objections.filter((o) => o.id !== objection.id)]);
    setDone(message);
    setTimeout(() => note.current && note.current.focus(), 0);
  }

  const head = html`<h1>${t("settings.title")}</h1>
    <${SettingsNav} section="privacy" />
    <h2 class="section-title">${t("settings.privacy")}</h2>`;
  if (!manager) {
    return html`<main id="main" class="settings-page privacy-page">${head}<p class="muted">${t("privacy.managers_only")}</p></main>`;
  }
  const upcoming = answer ? new Set(answer.changes.map((n) => n.change.id)) : new Set();
  const earlier = objections.filter((o) => !upcoming.has(o.change_id));
  return html`<main id="main" class="settings-page privacy-page">
    ${head}
    <div tabindex="-1" ref=${note} class="privacy-notes">
      <p role="status" class=${done ? "statement" : ""}>${done}</p>
    </div>
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${() => load("")} />` : null}
    ${answer === null
      ? problem
        ? null
        : html`<${Loading} />`
      : html`
          <p class="muted privacy-lead">${t("privacy.lead", { count: answer.notice_days })}</p>
          <p class="privacy-links">
            <a href=${publicPage(answer.page_url)}>${t("privacy.public_list")}</a>
            <a href=${publicPage(answer.changelog_url)}>${t("privacy.changelog")}</a>
          </p>
          ${owner ? null : html`<p class="muted owners-note">${t("privacy.owners_only_note")}</p>`}
          <section aria-labelledby="privacy-upcoming">
            <h2 id="privacy-upcoming">${t("privacy.upcoming")}</h2>
            ${answer.changes.length
              ? answer.changes.map(
                  (notice) => html`<${ChangeCard} key=${notice.change.id} notice=${notice} owner=${owner}
                    onObjected=${(objection) => changed(objection, t("privacy.objection_recorded"))}
                    onChanged=${(objection) => changed(objection, outcomeText(objection))}
                    onStale=${load} />`,
                )
              : html`<p class="empty">${t("privacy.no_changes")}</p>`}
          </section>
          ${earlier.length
            ? html`<section aria-labelledby="privacy-earlier">
                <h2 id="privacy-earlier">${t("privacy.earlier_objections")}</h2>
                ${earlier.map(
                  (objection) => html`<${ObjectionState} key=${objection.id} objection=${objection}
                    owner=${owner} onChanged=${(next) => changed(next, outcomeText(next))}
                    onStale=${load} />`,
                )}
              </section>`
            : null}
        `}
    <${ExportsSection} names=${names} />
    <${ErasureSection} names=${names} />
    <${RetentionSection} names=${names} />
  </main>`;
}
