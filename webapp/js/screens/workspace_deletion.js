// The workspace's deletion (/v1/workspace/deletion), asked once per workspace and shared: the
// banner every member sees on every screen while a deletion is scheduled (with its date), and
// the danger zone of Settings > Workspace where an owner schedules it by typing the
// workspace's slug, and cancels it during the grace period.
import { call, get, post } from "../api.js";
import { html, useEffect, useRef, useState } from "../html.js";
import { formatDateTime, t } from "../i18n.js";
import { formatDate } from "../money.js";
import { href } from "../router.js";
import { ErrorNote, Field, Loading } from "../ui.js";
import { actorName, apiProblem, useMemberNames } from "./privacy_words.js";

const PATH = "/v1/workspace/deletion";
const GRACE_DAYS = 7;

let shared = { key: "", answer: null, asked: null };
const listeners = new Set();

function publish(key, answer) {
  shared = { key, answer, asked: null };
  listeners.forEach((listener) => listener(key, answer));
}

/** The workspace's deletion, asked once per workspace (again with `fresh`). */
function loadDeletion(key, { fresh = false } = {}) {
  if (!fresh && shared.key === key && shared.answer) return Promise.resolve(shared.answer);
  if (!fresh && shared.key === key && shared.asked) return shared.asked;
  const asked = get(PATH).then((answer) => {
    publish(key, answer);
    return answer;
  });
  shared = { key, answer: shared.key === key ? shared.answer : null, asked };
  return asked;
}

/** The shared answer for the member's workspace, kept up to date. */
function useDeletion(me, { fresh = false } = {}) {
  const key = me.workspace.id;
  const [answer, setAnswer] = useState(() => (shared.key === key ? shared.answer : null));
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    let gone = false;
    const listener = (changedKey, changed) => changedKey === key && !gone && setAnswer(changed);
    listeners.add(listener);
    loadDeletion(key, { fresh }).then(
      (loaded) => !gone && setAnswer(loaded),
      (failure) => !gone && setProblem(failure),
    );
    return () => {
      gone = true;
      listeners.delete(listener);
    };
  }, [key, fresh]);
  return [answer, problem, (changed) => publish(key, changed)];
}

const pending = (answer) => Boolean(answer) && (answer.status === "scheduled" || answer.status === "deleting");

/** Every member, every screen: the workspace is about to be deleted. */
export function DeletionBanner({ me }) {
  const [answer] = useDeletion(me);
  // Not shown is better than in the way: a failure to ask leaves the screen as it was.
  if (!pending(answer)) return null;
  const owner = me.role === "owner";
  const text = answer.status === "deleting" || !answer.delete_at
    ? t("workspace_deletion.banner_deleting")
    : t("workspace_deletion.banner_scheduled", { date: formatDate(answer.delete_at) });
  return html`<section class="banner deletion-banner" aria-label=${t("workspace_deletion.banner_label")}>
    <p>
      <strong>${text}</strong>
      ${answer.status === "scheduled"
        ? html` ${owner ? t("workspace_deletion.banner_owner") : t("workspace_deletion.banner_member")}`
        : null}
    </p>
    ${owner && answer.status === "scheduled"
      ? html`<a href=${href("/settings")}>${t("workspace_deletion.banner_review")}</a>`
      : null}
  </section>`;
}

/** Asks the owner to type the workspace's slug, then schedules the deletion. */
function DeleteDialog({ me, onDone, onClose }) {
  const dialog = useRef(null);
  const [slug, setSlug] = useState("");
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
      onDone(await post(PATH, { confirm_slug: slug.trim() }));
    } catch (failure) {
      setProblem(
        failure.code === "confirmation_mismatch"
          ? t("workspace_deletion.error_mismatch", { slug: me.workspace.slug })
          : apiProblem(failure),
      );
      setBusy(false);
    }
  }

  return html`<dialog class="billing-dialog deletion-dialog" ref=${dialog}
    aria-labelledby="deletion-title" aria-describedby="deletion-text" onClose=${onClose}>
    <form onSubmit=${confirm} aria-busy=${busy}>
      <h2 id="deletion-title">${t("workspace_deletion.dialog_title")}</h2>
      <div id="deletion-text">
        <p>${t("workspace_deletion.dialog_text", { name: me.workspace.name, count: GRACE_DAYS })}</p>
        <p><strong>${t("workspace_deletion.dialog_final")}</strong></p>
      </div>
      ${problem ? html`<${ErrorNote} message=${problem} />` : null}
      <fieldset disabled=${busy}>
        <${Field} label=${t("workspace_deletion.type_slug", { slug: me.workspace.slug })} invalid=${Boolean(problem)}>
          <input name="confirm_slug" required autocomplete="off" spellcheck="false" autocapitalize="off"
            aria-invalid=${problem ? "true" : undefined} value=${slug}
            onInput=${(e) => setSlug(e.currentTarget.value)} />
        <//>
      </fieldset>
      <div class="form-actions">
        <button type="submit" class="primary danger" disabled=${busy}>${t("workspace_deletion.confirm")}</button>
        <button type="button" class="secondary" disabled=${busy} onClick=${() => dialog.current.close()}>
          ${t("workspace_deletion.keep")}
        </button>
      </div>
    </form>
  </dialog>`;
}

/** Settings > Workspace, owners only: delete the workspace, or cancel its deletion. */
export function WorkspaceDangerZone({ me }) {
  const [answer, failed, changed] = useDeletion(me, { fresh: true });
  const names = useMemberNames(true);
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [done, setDone] = useState("");
  const button = useRef(null);
  const note = useRef(null);
  const focusNote = () => setTimeout(() => note.current && note.current.focus(), 0);

  async function cancel() {
    setBusy(true);
    setProblem(null);
    try {
      changed(await call("DELETE", PATH));
      setDone(t("workspace_deletion.canceled"));
      focusNote();
    } catch (failure) {
      if (failure.code === "not_scheduled") {
        changed({ status: "none", delete_at: null, requested_by: null, requested_at: null });
        setDone(t("workspace_deletion.canceled"));
      } else {
        setProblem(apiProblem(failure));
      }
    }
    setBusy(false);
  }

  return html`<section class="danger-zone" id="workspace-deletion" aria-labelledby="workspace-deletion-title">
    <h2 id="workspace-deletion-title">${t("workspace_deletion.title")}</h2>
    <div tabindex="-1" ref=${note} class="privacy-notes">
      <p role="status" class=${done ? "statement" : ""}>${done}</p>
    </div>
    ${problem || failed ? html`<${ErrorNote} message=${problem || apiProblem(failed)} />` : null}
    ${answer === null
      ? failed
        ? null
        : html`<${Loading} />`
      : answer.status === "none"
        ? html`<p class="muted">${t("workspace_deletion.lead", { count: GRACE_DAYS })}</p>
            <button type="button" class="secondary danger" ref=${button} onClick=${() => {
              setDone("");
              setAsking(true);
            }}>
              ${t("workspace_deletion.button")}
            </button>`
        : html`<div class="statement deletion-scheduled">
            <p>
              <strong>${answer.status === "deleting" || !answer.delete_at
                ? t("workspace_deletion.banner_deleting")
                : t("workspace_deletion.banner_scheduled", { date: formatDate(answer.delete_at) })}</strong>
            </p>
            ${answer.requested_at
              ? html`<p class="muted">${t("workspace_deletion.asked_by", {
                  who: actorName(names, answer.requested_by),
                  when: formatDateTime(answer.requested_at),
                })}</p>`
              : null}
            ${answer.status === "scheduled"
              ? html`<button type="button" class="primary" disabled=${busy} onClick=${cancel}>
                  ${t("workspace_deletion.cancel")}
                </button>`
              : null}
          </div>`}
    ${asking
      ? html`<${DeleteDialog} me=${me}
          onClose=${() => {
            setAsking(false);
            setTimeout(() => (button.current ? button.current.focus() : note.current && note.current.focus()), 0);
          }}
          onDone=${(scheduled) => {
            changed(scheduled);
            setAsking(false);
            setDone(t("workspace_deletion.scheduled"));
            focusNote();
          }} />`
      : null}
  </section>`;
}
