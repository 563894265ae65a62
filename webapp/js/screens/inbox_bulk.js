// Bulk actions on the inbox: the tickets selected in the list are assigned, given a status,
// or tagged or untagged together, through PATCH /v1/tickets (50 tickets a request; each
// ticket changed on its own, tags added to or removed from what it has when written), with
// the progress shown.
import { call, get } from "../api.js";
import { html, useEffect, useState } from "../html.js";
import { formatNumber, t } from "../i18n.js";
import { STATUSES } from "./inbox.js";

const PER_REQUEST = 50;

/** The change a bulk action asks of every ticket. */
export function changesOf(action) {
  if (action.kind === "status") return { status: action.value };
  if (action.kind === "assignee") return { assignee_id: action.value };
  const tag = action.value.trim().toLowerCase();
  if (action.kind === "add_tag") return { add_tags: [tag] };
  if (action.kind === "remove_tag") return { remove_tags: [tag] };
  return null;
}

/** Changes the tickets `ids`, PER_REQUEST at a time; `progress(done)` after each request.
 * Resolves to the ids that could not be changed. */
export async function changeTickets(ids, changes, progress) {
  const failed = [];
  for (let from = 0; from < ids.length; from += PER_REQUEST) {
    const chunk = ids.slice(from, from + PER_REQUEST);
    try {
      const answer = await call("PATCH", "/v1/tickets", { body: { ticket_ids: chunk, changes } });
      for (const result of answer.results) if (result.error) failed.push(result.ticket_id);
    } catch {
      failed.push(...chunk);
    }
    progress(Math.min(from + PER_REQUEST, ids.length));
  }
  return failed;
}

export function BulkBar({ me, selected, onDone, onClear }) {
  const [members, setMembers] = useState([]);
  const [tag, setTag] = useState("");
  const [progress, setProgress] = useState(null); // {done, total}

  useEffect(() => {
    get("/v1/members?limit=100")
      .then((page) => setMembers(page.members || []))
      .catch(() => setMembers([]));
  }, []);

  async function run(action) {
    const changes = changesOf(action);
    if (!changes) return;
    const ids = selected.map((ticket) => ticket.id);
    setProgress({ done: 0, total: ids.length });
    const failed = await changeTickets(ids, changes, (done) =>
      setProgress({ done, total: ids.length }),
    );
    setProgress(null);
    onDone(
      failed,
      failed.length
        ? t("bulk.some_failed", { count: failed.length, total: selected.length })
        : t("bulk.done", { count: selected.length }),
    );
  }

  const busy = Boolean(progress);
  const count = selected.length;
  return html`<section class="bulk-bar" aria-labelledby="bulk-heading" aria-busy=${busy}>
    <h2 id="bulk-heading">${t("bulk.selected", { count, number: formatNumber(count) })}</h2>
    <div class="bulk-actions">
      <label class="field">
        <span class="label">${t("bulk.status")}</span>
        <select
          disabled=${busy || !count}
          value=""
          onChange=${(e) => {
            const value = e.currentTarget.value;
            e.currentTarget.value = "";
            if (value) run({ kind: "status", value });
          }}
        >
          <option value="">${t("bulk.choose")}</option>
          ${STATUSES.map((s) => html`<option key=${s} value=${s}>${t(`status.${s}`)}</option>`)}
        </select>
      </label>
      <label class="field">
        <span class="label">${t("bulk.assign")}</span>
        <select
          disabled=${busy || !count}
          value=""
          onChange=${(e) => {
            const value = e.currentTarget.value;
            e.currentTarget.value = "";
            if (value) run({ kind: "assignee", value: value === "none" ? null : value });
          }}
        >
          <option value="">${t("bulk.choose")}</option>
          ${me.user ? html`<option value=${me.user.id}>${t("bulk.to_me")}</option>` : null}
          <option value="none">${t("ticket.unassigned")}</option>
          ${members
            .filter((m) => !me.user || m.id !== me.user.id)
            .map((m) => html`<option key=${m.id} value=${m.id}>${m.name}</option>`)}
        </select>
      </label>
      <form
        class="bulk-tag"
        onSubmit=${(e) => {
          e.preventDefault();
          if (tag.trim()) run({ kind: "add_tag", value: tag });
        }}
      >
        <label class="field">
          <span class="label">${t("bulk.tag")}</span>
          <input
            type="text"
            maxlength="50"
            value=${tag}
            disabled=${busy}
            onInput=${(e) => setTag(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="secondary" disabled=${busy || !count || !tag.trim()}>
          ${t("bulk.add_tag")}
        </button>
        <button
          type="button"
          class="secondary"
          disabled=${busy || !count || !tag.trim()}
          onClick=${() => run({ kind: "remove_tag", value: tag })}
        >
          ${t("bulk.remove_tag")}
        </button>
      </form>
      <button type="button" class="link" disabled=${busy} onClick=${onClear}>
        ${t("bulk.clear")}
      </button>
    </div>
    ${progress
      ? html`<p class="bulk-progress">
          <label>
            <span>${t("bulk.progress", { done: progress.done, total: progress.total })}</span>
            <progress max=${progress.total || 1} value=${progress.done}></progress>
          </label>
        </p>`
      : null}
  </section>`;
}
