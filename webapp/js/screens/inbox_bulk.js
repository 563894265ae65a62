// Bulk actions on the inbox: the tickets selected in the list are assigned, given a status,
// or tagged or untagged together. The API has no bulk route: each ticket is one PATCH, at
// most four at a time, with the progress shown.
import { call, get } from "../api.js";
import { html, useEffect, useState } from "../html.js";
import { formatNumber, t } from "../i18n.js";
import { STATUSES } from "./inbox.js";

const AT_ONCE = 4;

/** Runs `work(item)` for every item, at most `limit` at a time; `progress(done)` after each.
 * Resolves to the items whose work failed. */
export async function inBatches(items, limit, work, progress) {
  const failed = [];
  let next = 0;
  let done = 0;
  async function worker() {
    while (next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch {
        failed.push(item);
      }
      done += 1;
      progress(done);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return failed;
}

/** What one ticket's PATCH is for a bulk action (null: nothing to change). */
export function changesFor(ticket, action) {
  if (action.kind === "status") return ticket.status === action.value ? null : { status: action.value };
  if (action.kind === "assignee") {
    return (ticket.assignee_id || null) === action.value ? null : { assignee_id: action.value };
  }
  const tag = action.value.trim().toLowerCase();
  if (action.kind === "add_tag") {
    return ticket.tags.includes(tag) ? null : { tags: [...ticket.tags, tag] };
  }
  if (action.kind === "remove_tag") {
    return ticket.tags.includes(tag) ? { tags: ticket.tags.filter((x) => x !== tag) } : null;
  }
  return null;
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
    const work = selected
      .map((ticket) => ({ ticket, changes: changesFor(ticket, action) }))
      .filter((item) => item.changes);
    setProgress({ done: 0, total: work.length });
    const failed = await inBatches(
      work,
      AT_ONCE,
      (item) => call("PATCH", `/v1/tickets/${item.ticket.id}`, { body: item.changes }),
      (done) => setProgress({ done, total: work.length }),
    );
    setProgress(null);
    onDone(
      failed.map((item) => item.ticket.id),
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
