// What an agent does on a ticket: reply to the customer or add an internal note, and change
// its status, priority and assignee. Each is one call to the API; the page then shows the
// ticket as the API answers it.
import { call, get } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useEffect, useState } from "../html.js";
import { t } from "../i18n.js";
import { ErrorNote, Field } from "../ui.js";
import { STATUSES } from "./inbox.js";

export const PRIORITIES = ["low", "normal", "high", "urgent"];

const COMPOSER_ERRORS = {
  new_customer_message: "composer.new_customer_message",
  email_not_confirmed: "composer.email_not_confirmed",
  ticket_merged: "composer.ticket_merged",
};

/** The workspace's canned responses (names), loaded once per ticket page. */
function useCannedResponses() {
  const [canned, setCanned] = useState([]);
  useEffect(() => {
    let shown = true;
    get("/v1/canned-responses?limit=100")
      .then((page) => shown && setCanned(page.canned_responses || []))
      .catch(() => shown && setCanned([]));
    return () => {
      shown = false;
    };
  }, []);
  return canned;
}

/** The reply and note editors: `onSent()` after the API took the message. */
export function Composer({ ticket, onSent, onConflict }) {
  const [kind, setKind] = useState("reply");
  const [drafts, setDrafts] = useState({ reply: "", note: "" });
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [done, setDone] = useState("");
  const [applied, setApplied] = useState(null); // the canned response's status and tags
  const canned = useCannedResponses();
  const body = drafts[kind];

  /** Puts a canned response, its placeholders filled for this ticket, into the reply. */
  async function insertCanned(id) {
    if (!id) return;
    setProblem(null);
    try {
      const rendered = await call(
        "POST",
        `/v1/tickets/${ticket.id}/canned-responses/${encodeURIComponent(id)}/apply`,
        { body: { send: false } },
      );
      const current = drafts.reply.trim();
      setDrafts({ ...drafts, reply: current ? `${current}\n\n${rendered.body}` : rendered.body });
      setApplied({ status: rendered.set_status, tags: rendered.add_tags || [] });
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }

  async function submit(event) {
    event.preventDefault();
    if (!body.trim()) return;
    setBusy(true);
    setProblem(null);
    setDone("");
    try {
      await call("POST", `/v1/tickets/${ticket.id}/messages`, {
        body: {
          body,
          kind,
          last_seen_message_id: ticket.last_customer_message_id || undefined,
        },
      });
      setDrafts({ ...drafts, [kind]: "" });
      setDone(kind === "reply" ? t("composer.reply_sent") : t("composer.note_added"));
      if (kind === "reply" && applied && (applied.status || applied.tags.length)) {
        // What the canned response asks for once it is sent: a status, more tags.
        const changes = {};
        if (applied.status) changes.status = applied.status;
        if (applied.tags.length) changes.tags = [...new Set([...ticket.tags, ...applied.tags])];
        await call("PATCH", `/v1/tickets/${ticket.id}`, { body: changes }).catch(() => null);
      }
      setApplied(null);
      onSent();
    } catch (failure) {
      const known = COMPOSER_ERRORS[failure.code];
      setProblem(known ? t(known) : errorMessage(failure));
      if (failure.code === "new_customer_message") onConflict();
    }
    setBusy(false);
  }

  const label = kind === "reply" ? t("composer.reply") : t("composer.note");
  return html`<section class=${`composer ${kind}`} aria-labelledby="composer-heading">
    <h2 id="composer-heading" class="visually-hidden">${t("composer.heading")}</h2>
    <div class="composer-kinds" role="group" aria-label=${t("composer.kind")}>
      <button
        type="button"
        data-kind="reply"
        aria-pressed=${kind === "reply"}
        onClick=${() => setKind("reply")}
      >
        ${t("composer.to_customer")}
      </button>
      <button
        type="button"
        data-kind="note"
        aria-pressed=${kind === "note"}
        onClick=${() => setKind("note")}
      >
        ${t("composer.internal_note")}
      </button>
    </div>
    <form onSubmit=${submit} aria-busy=${busy}>
      ${problem ? html`<${ErrorNote} message=${problem} />` : null}
      ${kind === "reply" && canned.length
        ? html`<label class="field canned">
            <span class="label">${t("composer.canned")}</span>
            <select
              value=""
              onChange=${(e) => {
                insertCanned(e.currentTarget.value);
                e.currentTarget.value = "";
              }}
            >
              <option value="">${t("composer.canned_choose")}</option>
              ${canned.map((c) => html`<option key=${c.id} value=${c.id}>${c.name}</option>`)}
            </select>
          </label>`
        : null}
      ${kind === "reply" && applied && (applied.status || applied.tags.length)
        ? html`<p class="hint">
            ${t("composer.canned_effects", {
              status: applied.status ? t(`status.${applied.status}`) : "—",
              tags: applied.tags.join(", ") || "—",
            })}
          </p>`
        : null}
      <${Field}
        label=${label}
        hint=${kind === "note" ? t("composer.note_hint") : null}
        hintId="note-hint"
      >
        <textarea
          name=${kind}
          rows="5"
          required
          aria-describedby=${kind === "note" ? "note-hint" : undefined}
          value=${body}
          onInput=${(e) => setDrafts({ ...drafts, [kind]: e.currentTarget.value })}
        ></textarea>
      <//>
      <div class="composer-actions">
        <button type="submit" class="primary" disabled=${busy || !body.trim()}>
          ${kind === "reply" ? t("composer.send") : t("composer.add_note")}
        </button>
        <span role="status" class="done">${done}</span>
      </div>
    </form>
  </section>`;
}

/** Status, priority and assignee, each changed as soon as it is chosen. */
export function TicketFields({ ticket, me, members, onChanged }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);

  async function change(fields) {
    setBusy(true);
    setProblem(null);
    try {
      onChanged(await call("PATCH", `/v1/tickets/${ticket.id}`, { body: fields }));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
    setBusy(false);
  }

  const mine = me.user && ticket.assignee_id === me.user.id;
  const assignable = members.some((m) => m.id === ticket.assignee_id) || !ticket.assignee_id;
  return html`<div class="ticket-fields" aria-busy=${busy}>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <label class="field">
      <span class="label">${t("ticket.status")}</span>
      <select
        name="status"
        value=${ticket.status}
        disabled=${busy}
        onChange=${(e) => change({ status: e.currentTarget.value })}
      >
        ${STATUSES.map((s) => html`<option key=${s} value=${s}>${t(`status.${s}`)}</option>`)}
      </select>
    </label>
    <label class="field">
      <span class="label">${t("ticket.priority")}</span>
      <select
        value=${ticket.priority}
        disabled=${busy}
        onChange=${(e) => change({ priority: e.currentTarget.value })}
      >
        ${PRIORITIES.map((p) => html`<option key=${p} value=${p}>${t(`priority.${p}`)}</option>`)}
      </select>
    </label>
    <label class="field">
      <span class="label">${t("ticket.assignee")}</span>
      <select
        value=${assignable ? ticket.assignee_id || "" : "?"}
        disabled=${busy}
        onChange=${(e) => change({ assignee_id: e.currentTarget.value || null })}
      >
        <option value="">${t("ticket.unassigned")}</option>
        ${assignable ? null : html`<option value="?" disabled>${t("ticket.assigned")}</option>`}
        ${members.map((m) => html`<option key=${m.id} value=${m.id}>${m.name}</option>`)}
      </select>
    </label>
    ${me.user && !mine
      ? html`<button
          type="button"
          class="secondary"
          data-action="assign-me"
          disabled=${busy}
          onClick=${() => change({ assignee_id: me.user.id })}
        >
          ${t("ticket.assign_to_me")}
        </button>`
      : null}
  </div>`;
}
