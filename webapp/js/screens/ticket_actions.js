// What an agent does on a ticket: reply to the customer (with CCs, attachments, translated
// by the AI) or add an internal note, and change its status, priority and assignee. Each is one call to the API; the page then shows the
// ticket as the API answers it.
import { ApiError, call, get } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useEffect, useState } from "../html.js";
import { currentLanguage, t } from "../i18n.js";
import { ErrorNote, Field } from "../ui.js";
import { STATUSES } from "./inbox.js";
import { pollJob, useLifetime } from "./ticket_live.js";

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

const ATTACHMENT_TYPES = {
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  txt: "text/plain",
  csv: "text/csv",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
};
const ATTACHMENT_ERRORS = {
  attachment_too_large: "attachments.too_large",
  attachments_too_large: "attachments.too_large",
  attachment_type_refused: "attachments.type_refused",
  too_many_attachments: "attachments.too_many",
  attachment_not_usable: "attachments.not_usable",
};

function typeOf(file) {
  const extension = file.name.split(".").pop().toLowerCase();
  return ATTACHMENT_TYPES[extension] || file.type || "application/octet-stream";
}

/** Uploads `file` for a reply or note on the ticket: the API's presigned POST, then the file
 * itself; resolves to the attachment's id. */
async function uploadAttachment(ticketId, file) {
  const upload = await call("POST", `/v1/tickets/${ticketId}/attachments`, {
    body: { filename: file.name, content_type: typeOf(file), size: file.size },
  });
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields || {})) form.append(name, value);
  form.append("file", file);
  let response;
  try {
    response = await fetch(upload.upload_url, { method: upload.method || "POST", body: form });
  } catch {
    throw new ApiError(0, "upload_failed", "");
  }
  if (!response.ok) throw new ApiError(response.status, "upload_failed", "");
  return upload.id;
}

/** Addresses typed into the CC field (commas, semicolons or spaces between them). */
export function addressesOf(text) {
  return [...new Set(String(text).split(/[\s,;]+/).map((a) => a.trim()).filter(Boolean))];
}

function Attachments({ files, onAdd, onRemove, disabled }) {
  return html`<div class="composer-attachments">
    ${files.length
      ? html`<ul class="attachments" aria-label=${t("attachments.to_send")}>
          ${files.map(
            (f) => html`<li key=${f.key}>
              <span>${f.name}</span>
              <span class="muted">
                ${f.state === "uploading" ? t("attachments.uploading") : null}
                ${f.state === "failed" ? f.problem : null}
              </span>
              <button
                type="button"
                class="link"
                aria-label=${t("attachments.remove", { name: f.name })}
                onClick=${() => onRemove(f.key)}
              >
                ${t("attachments.remove_short")}
              </button>
            </li>`,
          )}
        </ul>`
      : null}
    <label class="file-picker">
      <span class="label">${t("attachments.add")}</span>
      <input
        type="file"
        multiple
        disabled=${disabled}
        onChange=${(e) => {
          onAdd([...e.currentTarget.files]);
          e.currentTarget.value = "";
        }}
      />
    </label>
  </div>`;
}

/** The reply and note editors: `onSent()` after the API took the message. `inserted`
 * ({body, nonce}) puts a text (an AI draft) into the reply. `ai` says which AI features are
 * on. A customer's message newer than the one the agent last saw holds the reply back until
 * they say they read it. */
export function Composer({ ticket, onSent, onConflict, inserted, ai }) {
  const [kind, setKind] = useState("reply");
  const [drafts, setDrafts] = useState({ reply: "", note: "" });
  const [cc, setCc] = useState("");
  const [files, setFiles] = useState([]);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [done, setDone] = useState("");
  const [applied, setApplied] = useState(null); // the canned response's status and tags
  const [seen, setSeen] = useState(ticket.last_customer_message_id || null);
  const [translation, setTranslation] = useState(null); // {state, id, text, to}
  const canned = useCannedResponses();
  const signal = useLifetime();
  const body = drafts[kind];
  const newer = (ticket.last_customer_message_id || null) !== seen;
  // While nothing is written, what is on screen is what the agent has seen.
  const guarded = newer && Boolean(drafts.reply.trim() || drafts.note.trim());

  useEffect(() => {
    if (newer && !drafts.reply.trim() && !drafts.note.trim()) {
      setSeen(ticket.last_customer_message_id || null);
    }
  }, [newer, ticket.last_customer_message_id]);

  useEffect(() => {
    if (!inserted) return;
    setKind("reply");
    setDrafts((shown) => ({ ...shown, reply: inserted.body }));
    setTranslation(null);
  }, [inserted]);

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

  function addFiles(picked) {
    const added = picked.map((file, i) => ({
      key: `${Date.now()}-${i}-${file.name}`,
      name: file.name,
      state: "uploading",
      id: null,
      problem: "",
    }));
    setFiles((shown) => [...shown, ...added]);
    picked.forEach((file, i) => {
      const key = added[i].key;
      uploadAttachment(ticket.id, file)
        .then((id) =>
          setFiles((shown) => shown.map((f) => (f.key === key ? { ...f, state: "ready", id } : f))),
        )
        .catch((failure) => {
          const known = ATTACHMENT_ERRORS[failure.code];
          const why = known ? t(known) : t("attachments.upload_failed");
          setFiles((shown) =>
            shown.map((f) => (f.key === key ? { ...f, state: "failed", problem: why } : f)),
          );
        });
    });
  }

  async function translate() {
    setProblem(null);
    setTranslation({ state: "pending" });
    try {
      const first = await call("POST", `/v1/tickets/${ticket.id}/reply-translations`, {
        body: { text: drafts.reply },
        signal,
      });
      const answer = await pollJob(`/v1/tickets/${ticket.id}/reply-translations/${first.id}`, {
        signal,
        first: first.status === "pending" ? null : first,
      });
      if (answer.status === "ready") {
        setTranslation({ state: "ready", id: answer.id, text: answer.text, to: answer.to });
      } else {
        setTranslation({ state: answer.status === "pending" ? "slow" : "failed" });
      }
    } catch (failure) {
      if (failure.name !== "AbortError") setTranslation({ state: "failed" });
    }
  }

  async function send(text, translationId) {
    if (!text.trim()) return;
    if (kind === "reply" && guarded) return;
    if (files.some((f) => f.state === "uploading")) {
      setProblem(t("attachments.wait"));
      return;
    }
    setBusy(true);
    setProblem(null);
    setDone("");
    try {
      const copies = kind === "reply" ? addressesOf(cc) : [];
      const ids = files.filter((f) => f.state === "ready").map((f) => f.id);
      await call("POST", `/v1/tickets/${ticket.id}/messages`, {
        body: {
          body: text,
          kind,
          last_seen_message_id: seen || undefined,
          cc: copies.length ? copies : undefined,
          attachment_ids: ids.length ? ids : undefined,
          translation_id: translationId || undefined,
        },
      });
      setDrafts({ ...drafts, [kind]: "" });
      setFiles([]);
      setTranslation(null);
      if (kind === "reply") setCc("");
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
      if (failure.code === "new_customer_message") {
        // The page had not shown it yet: it shows it now, and the guard asks to read it.
        onConflict();
      } else {
        const known = COMPOSER_ERRORS[failure.code] || ATTACHMENT_ERRORS[failure.code];
        setProblem(known ? t(known) : errorMessage(failure));
      }
    }
    setBusy(false);
  }

  function submit(event) {
    event.preventDefault();
    send(body, null);
  }

  function readIt() {
    setSeen(ticket.last_customer_message_id || null);
    const messages = document.querySelectorAll(".conversation .message.customer article");
    const latest = messages[messages.length - 1];
    if (latest) {
      latest.setAttribute("tabindex", "-1");
      latest.scrollIntoView({ block: "center" });
      latest.focus();
    }
  }

  const label = kind === "reply" ? t("composer.reply") : t("composer.note");
  const copied = (ticket.cc || []).join(", ");
  const uploading = files.some((f) => f.state === "uploading");
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
    ${kind === "reply" && guarded
      ? html`<div class="guard" role="alert">
          <p><strong>${t("guard.title")}</strong> ${t("guard.text")}</p>
          <button type="button" class="secondary" onClick=${readIt}>${t("guard.read")}</button>
        </div>`
      : null}
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
      ${kind === "reply"
        ? html`<${Field}
            label=${t("composer.cc")}
            hint=${copied ? t("composer.cc_already", { addresses: copied }) : t("composer.cc_hint")}
            hintId="cc-hint"
          >
            <input
              type="text"
              name="cc"
              inputmode="email"
              autocomplete="off"
              aria-describedby="cc-hint"
              value=${cc}
              onInput=${(e) => setCc(e.currentTarget.value)}
            />
          <//>`
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
          onInput=${(e) => {
            setDrafts({ ...drafts, [kind]: e.currentTarget.value });
            if (kind === "reply") setTranslation(null);
          }}
        ></textarea>
      <//>
      <${Attachments}
        files=${files}
        disabled=${busy}
        onAdd=${addFiles}
        onRemove=${(key) => setFiles((shown) => shown.filter((f) => f.key !== key))}
      />
      ${kind === "reply" && translation
        ? html`<${TranslationPreview}
            translation=${translation}
            busy=${busy || guarded || uploading}
            onSend=${() => send(translation.text, translation.id)}
            onCancel=${() => setTranslation(null)}
          />`
        : null}
      <div class="composer-actions">
        <button
          type="submit"
          class="primary"
          disabled=${busy || !body.trim() || (kind === "reply" && guarded) || uploading}
        >
          ${kind === "reply" ? t("composer.send") : t("composer.add_note")}
        </button>
        ${kind === "reply" && ai && ai.translation
          ? html`<button
              type="button"
              class="secondary"
              disabled=${busy || !body.trim() || (translation && translation.state === "pending")}
              onClick=${translate}
            >
              ${t("composer.translate")}
            </button>`
          : null}
        <span role="status" class="done">${done}</span>
      </div>
    </form>
  </section>`;
}

function TranslationPreview({ translation, busy, onSend, onCancel }) {
  if (translation.state === "pending") {
    return html`<p class="ai-pending" role="status">${t("composer.translating")}</p>`;
  }
  if (translation.state !== "ready") {
    return html`<${ErrorNote} message=${t("aipanel.failed")} />`;
  }
  return html`<div class="translation-preview">
    <h3>${t("composer.translated", { language: languageName(translation.to) })}</h3>
    <div class="message-text" lang=${translation.to}>${translation.text}</div>
    <div class="composer-actions">
      <button type="button" class="primary" disabled=${busy} onClick=${onSend}>
        ${t("composer.send_translated")}
      </button>
      <button type="button" class="secondary" onClick=${onCancel}>${t("composer.cancel_translation")}</button>
    </div>
  </div>`;
}

/** A language's name in the app's language (`fr` → "French"). */
export function languageName(code) {
  try {
    return new Intl.DisplayNames([currentLanguage()], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
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
