// Merging a duplicate: the agent picks the ticket that absorbs this one, by its number or by
// searching its subject or requester, and confirms. The API moves the messages and closes
// this ticket with a pointer to the other.
import { call, get, withQuery } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useState } from "../html.js";
import { t } from "../i18n.js";
import { navigate } from "../router.js";
import { ErrorNote } from "../ui.js";

const MERGE_ERRORS = {
  ticket_merged: "merge.already_merged",
  target_merged: "merge.target_merged",
  merge_into_self: "merge.itself",
  merge_in_progress: "merge.in_progress",
  merge_too_large: "merge.too_large",
};

export function MergeTicket({ ticket }) {
  const [open, setOpen] = useState(false);
  const [words, setWords] = useState("");
  const [found, setFound] = useState(null);
  const [target, setTarget] = useState(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);

  async function search(event) {
    event.preventDefault();
    const q = words.trim().replace(/^#/, "");
    if (!q) return;
    setBusy(true);
    setProblem(null);
    setTarget(null);
    try {
      const results = [];
      if (/^\d+$/.test(q)) {
        const byNumber = await get(`/v1/tickets/${q}`).catch(() => null);
        if (byNumber) results.push(byNumber);
      }
      const page = await get(withQuery("/v1/tickets", { q, limit: 10 }));
      for (const other of page.tickets) {
        if (!results.some((r) => r.id === other.id)) results.push(other);
      }
      setFound(results.filter((other) => other.id !== ticket.id && !other.merged_into));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
    setBusy(false);
  }

  async function merge() {
    setBusy(true);
    setProblem(null);
    try {
      const merged = await call("POST", `/v1/tickets/${ticket.id}/merge`, {
        body: { into: target.id },
      });
      navigate(`/tickets/${merged.id}`);
    } catch (failure) {
      const known = MERGE_ERRORS[failure.code];
      setProblem(known ? t(known) : errorMessage(failure));
      setBusy(false);
    }
  }

  if (!open) {
    return html`<button type="button" class="secondary" data-action="merge" onClick=${() => setOpen(true)}>
      ${t("merge.open")}
    </button>`;
  }
  return html`<section class="merge" aria-labelledby="merge-heading">
    <h2 id="merge-heading">${t("merge.heading")}</h2>
    <p class="hint">${t("merge.hint", { number: ticket.number })}</p>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <form role="search" aria-label=${t("merge.search_label")} onSubmit=${search}>
      <label class="field">
        <span class="label">${t("merge.search_label")}</span>
        <input
          type="search"
          value=${words}
          placeholder=${t("merge.search_placeholder")}
          onInput=${(e) => setWords(e.currentTarget.value)}
        />
      </label>
      <button type="submit" class="secondary" disabled=${busy}>${t("merge.find")}</button>
    </form>
    ${found && !found.length ? html`<p class="muted">${t("merge.none_found")}</p>` : null}
    ${found && found.length
      ? html`<fieldset class="merge-targets">
          <legend>${t("merge.choose")}</legend>
          ${found.map(
            (other) => html`<label key=${other.id} class="choice">
              <input
                type="radio"
                name="merge-target"
                value=${other.id}
                checked=${target && target.id === other.id}
                onChange=${() => setTarget(other)}
              />
              <span>#${other.number} ${other.subject || t("ticket.no_subject")}</span>
            </label>`,
          )}
        </fieldset>`
      : null}
    <div class="composer-actions">
      <button type="button" class="primary" disabled=${busy || !target} onClick=${merge}>
        ${target ? t("merge.confirm", { number: target.number }) : t("merge.confirm_none")}
      </button>
      <button type="button" class="secondary" onClick=${() => setOpen(false)}>
        ${t("merge.cancel")}
      </button>
    </div>
  </section>`;
}
