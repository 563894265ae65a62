// The inbox: views (mine, unassigned, all, each status) with their counts, and the list of
// tickets, newest activity first, that grows as the person scrolls (the API's cursor).
// Tickets are selected (a checkbox per row, all shown at once, a range with Shift, `x` on the
// focused row) for bulk actions (inbox_bulk.js).
import { get, withQuery } from "../api.js";
import { errorMessage } from "../errors.js";
import { followInbox } from "../feed.js";
import { moveFocus, useShortcuts } from "../shortcuts.js";
import { html, useCallback, useEffect, useMemo, useRef, useState } from "../html.js";
import { getPrefetched } from "../prefetch.js";
import { formatNumber, formatShortTime, t } from "../i18n.js";
import { href, navigate } from "../router.js";
import { ErrorNote, Loading, useTitle } from "../ui.js";
import { BulkBar } from "./inbox_bulk.js";

export const STATUSES = ["new", "open", "pending", "on_hold", "solved", "closed"];
export const VIEWS = ["mine", "unassigned", "all", ...STATUSES];
const PAGE_SIZE = 25;

/** The first page of `view` (with the search words and tag), as the inbox asks for it. */
export function firstPagePath(view, search = "", tag = "") {
  return pagePath(view, search, tag, undefined);
}

function pagePath(view, search, tag, after) {
  return withQuery("/v1/tickets", {
    ...filtersOf(view),
    q: search || undefined,
    tag: tag || undefined,
    cursor: after,
    limit: PAGE_SIZE,
  });
}

export const COUNTS_PATH = "/v1/inbox/counts";

function filtersOf(view) {
  if (view === "mine") return { assignee: "me" };
  if (view === "unassigned") return { assignee: "none" };
  if (STATUSES.includes(view)) return { status: view };
  return {};
}

/** Whether `ticket` belongs in `view` for the member `me`. */
export function inView(ticket, view, me) {
  if (view === "mine") return Boolean(me.user) && ticket.assignee_id === me.user.id;
  if (view === "unassigned") return !ticket.assignee_id;
  if (STATUSES.includes(view)) return ticket.status === view;
  return true;
}

/** The list on screen with changed tickets merged in: their old copies removed, the ones
 * that belong to the view on top (the feed sends newest activity first). */
export function mergeChanges(shown, changed, belongs) {
  const ids = new Set(changed.map((ticket) => ticket.id));
  return [...changed.filter(belongs), ...shown.filter((ticket) => !ids.has(ticket.id))];
}

function countOf(view, counts) {
  if (!counts) return null;
  if (view === "mine") return counts.mine;
  if (view === "unassigned") return counts.unassigned;
  if (view === "all") return Object.values(counts.by_status || {}).reduce((a, b) => a + b, 0);
  return (counts.by_status || {})[view] ?? 0;
}

export function viewName(view) {
  return STATUSES.includes(view) ? t(`status.${view}`) : t(`inbox.view.${view}`);
}

function ViewLink({ view, current, counts }) {
  const count = countOf(view, counts);
  const label =
    count === null ? viewName(view) : t("inbox.view_with_count", { view: viewName(view), count });
  // The name read out is the label ("Mine, 3 tickets") and contains the text shown ("Mine"):
  // the count is shown as a number and read in words.
  const name = viewName(view);
  const words = label.startsWith(name) ? label.slice(name.length) : "";
  return html`<li>
    <a
      href=${href(view === "all" ? "/" : `/inbox/${view}`)}
      aria-current=${view === current ? "page" : undefined}
    >
      <span>${name}${words ? html`<span class="spoken-only">${words}</span>` : null}</span>${count === null
        ? null
        : html`<span class="count" aria-hidden="true">${formatNumber(count)}</span>`}
    </a>
  </li>`;
}

function TicketRow({ ticket, selected, onSelect }) {
  const requester = ticket.requester || {};
  const who = requester.name || requester.email || "";
  const subject = ticket.subject || t("ticket.no_subject");
  return html`<li class=${selected ? "ticket-row selected" : "ticket-row"} data-id=${ticket.id}>
    <input
      type="checkbox"
      class="select"
      checked=${selected}
      aria-label=${t("bulk.select_ticket", { number: ticket.number, subject })}
      onClick=${(e) => onSelect(ticket.id, e.currentTarget.checked, e.shiftKey)}
    />
    <a href=${href(`/tickets/${ticket.id}`)}>
      <span class="subject">${ticket.subject || t("ticket.no_subject")}</span>
      <span class="meta">
        <span class="number">#${ticket.number}</span>
        <span class="requester">${who}</span>
        <span class=${`badge status-${ticket.status}`}>${t(`status.${ticket.status}`)}</span>
        ${ticket.channel === "chat" ? html`<span class="badge channel-chat">${t("chat.channel")}</span>` : null}
        ${ticket.priority === "high" || ticket.priority === "urgent"
          ? html`<span class=${`badge priority-${ticket.priority}`}>
              ${t(`priority.${ticket.priority}`)}
            </span>`
          : null}
        <time datetime=${ticket.last_activity_at}>
          ${formatShortTime(ticket.last_activity_at)}
        </time>
      </span>
    </a>
  </li>`;
}

function SearchForm({ view, search }) {
  const [words, setWords] = useState(search);
  useEffect(() => setWords(search), [search]);
  const base = view === "all" ? "/" : `/inbox/${view}`;
  function submit(event) {
    event.preventDefault();
    const q = words.trim();
    navigate(q ? `${base}?q=${encodeURIComponent(q)}` : base);
  }
  return html`<form class="search" role="search" onSubmit=${submit}>
    <label>
      <span class="visually-hidden">${t("inbox.search_label")}</span>
      <input
        type="search"
        name="q"
        maxlength="200"
        placeholder=${t("inbox.search_placeholder")}
        value=${words}
        onInput=${(e) => setWords(e.currentTarget.value)}
      />
    </label>
    <button type="submit" class="secondary">${t("inbox.search")}</button>
  </form>`;
}

export function Inbox({ me, view, search = "", tag = "" }) {
  useTitle(search ? t("inbox.results_for", { words: search }) : viewName(view));
  const [counts, setCounts] = useState(null);
  const [tickets, setTickets] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState(null);
  const [announcement, setAnnouncement] = useState("");
  const generation = useRef(0);
  const sentinel = useRef(null);
  const [selection, setSelection] = useState(() => new Set());
  const anchor = useRef(null); // the row last clicked: Shift+click selects from there
  const [bulkResult, setBulkResult] = useState("");

  const loadCounts = useCallback(async () => {
    try {
      setCounts(await getPrefetched(COUNTS_PATH));
    } catch {
      // The counts are a help, not the list: the list says what went wrong.
    }
  }, []);

  const loadPage = useCallback(
    async (after) => {
      const mine = after ? generation.current : ++generation.current;
      setLoading(true);
      setError(null);
      try {
        const path = pagePath(view, search, tag, after);
        const page = await (after ? get(path) : getPrefetched(path));
        if (mine !== generation.current) return;
        setTickets((shown) => (after ? [...shown, ...page.tickets] : page.tickets));
        setCursor(page.next_cursor || null);
      } catch (failure) {
        if (mine === generation.current) setError(failure);
      } finally {
        if (mine === generation.current) setLoading(false);
      }
    },
    [view, search, tag],
  );

  const refresh = useCallback(() => {
    loadCounts();
    loadPage(null);
  }, [loadCounts, loadPage]);

  useEffect(() => {
    setTickets([]);
    setCursor(null);
    setSelection(new Set());
    refresh();
  }, [refresh]);

  /** Selects or unselects a ticket; with Shift, every ticket between it and the last one
   * clicked too. */
  const select = useCallback(
    (id, checked, range) => {
      setSelection((shown) => {
        const next = new Set(shown);
        const ids = tickets.map((ticket) => ticket.id);
        const from = range && anchor.current ? ids.indexOf(anchor.current) : -1;
        const to = ids.indexOf(id);
        const span = from >= 0 && to >= 0 ? ids.slice(Math.min(from, to), Math.max(from, to) + 1) : [id];
        for (const one of span) {
          if (checked) next.add(one);
          else next.delete(one);
        }
        return next;
      });
      anchor.current = id;
    },
    [tickets],
  );

  const selected = tickets.filter((ticket) => selection.has(ticket.id));
  const allSelected = tickets.length > 0 && selected.length === tickets.length;

  function bulkDone(failedIds, message) {
    setSelection(new Set(failedIds));
    setBulkResult(message);
    refresh();
  }

  // New tickets and replies appear as they happen (search results stay as they were asked).
  useEffect(
    () =>
      followInbox((changed) => {
        loadCounts();
        if (search) return;
        const belongs = (ticket) =>
          inView(ticket, view, me) && (!tag || ticket.tags.includes(tag.toLowerCase()));
        setTickets((shown) => mergeChanges(shown, changed, belongs));
        setAnnouncement(t("inbox.updated", { count: changed.length }));
      }),
    [view, search, tag, me, loadCounts],
  );

  // The next page loads when the end of the list comes into view.
  useEffect(() => {
    if (!cursor || loading || error || !sentinel.current) return undefined;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) loadPage(cursor);
    });
    observer.observe(sentinel.current);
    return () => observer.disconnect();
  }, [cursor, loading, error, loadPage]);

  const keys = useMemo(
    () => ({
      j: () => moveFocus(".tickets .ticket-row a", 1),
      k: () => moveFocus(".tickets .ticket-row a", -1),
      "/": () => document.querySelector(".search input")?.focus(),
      // The focused row's checkbox (`j`/`k` focus the rows).
      x: () => document.activeElement?.closest?.(".ticket-row")?.querySelector(".select")?.click(),
    }),
    [],
  );
  useShortcuts(keys);

  const name = viewName(view);
  return html`<div class="inbox">
    <nav class="views" aria-label=${t("inbox.views")}>
      <ul>
        ${["mine", "unassigned", "all"].map(
          (v) => html`<${ViewLink} key=${v} view=${v} current=${view} counts=${counts} />`,
        )}
      </ul>
      <h2 class="views-heading">${t("inbox.by_status")}</h2>
      <ul>
        ${STATUSES.map(
          (v) => html`<${ViewLink} key=${v} view=${v} current=${view} counts=${counts} />`,
        )}
      </ul>
    </nav>
    <main id="main" class="list-pane">
      <div class="list-head">
        <h1>${name}</h1>
        <button type="button" class="secondary" onClick=${refresh} disabled=${loading}>
          ${t("inbox.refresh")}
        </button>
      </div>
      <${SearchForm} view=${view} search=${search} />
      <p class="visually-hidden" role="status" aria-live="polite">${announcement}</p>
      <p class="bulk-result" role="status">${bulkResult}</p>
      ${tickets.length
        ? html`<div class="select-all">
            <label>
              <input
                type="checkbox"
                checked=${allSelected}
                onChange=${(e) =>
                  setSelection(
                    e.currentTarget.checked ? new Set(tickets.map((ticket) => ticket.id)) : new Set(),
                  )}
              />
              <span>${t("bulk.select_all", { count: tickets.length })}</span>
            </label>
          </div>`
        : null}
      ${selected.length
        ? html`<${BulkBar}
            me=${me}
            selected=${selected}
            onDone=${bulkDone}
            onClear=${() => setSelection(new Set())}
          />`
        : null}
      ${tag
        ? html`<p class="searching">
            ${t("inbox.tagged", { tag })}
            ${" "}
            <a href=${href(view === "all" ? "/" : `/inbox/${view}`)}>${t("inbox.clear_tag")}</a>
          </p>`
        : null}
      ${search
        ? html`<p class="searching">
            ${t("inbox.results_for", { words: search })}
            ${" "}
            <a href=${href(view === "all" ? "/" : `/inbox/${view}`)}>${t("inbox.clear_search")}</a>
          </p>`
        : null}
      <ul class="tickets" role="list" aria-label=${t("inbox.list", { view: name })}>
        ${tickets.map(
          (ticket) => html`<${TicketRow}
            key=${ticket.id}
            ticket=${ticket}
            selected=${selection.has(ticket.id)}
            onSelect=${select}
          />`,
        )}
      </ul>
      ${loading ? html`<${Loading} label=${t("inbox.loading")} />` : null}
      ${error
        ? html`<${ErrorNote}
            message=${errorMessage(error)}
            onRetry=${() => loadPage(tickets.length ? cursor : null)}
          />`
        : null}
      ${!loading && !error && !cursor && tickets.length === 0
        ? html`<div class="empty">
            <p>${search ? t("inbox.no_results") : t("inbox.empty")}</p>
            ${!search && (view === "all" || view === "new")
              ? html`<p>${t("inbox.empty_hint", { address: me.workspace.inbound_address })}</p>`
              : null}
          </div>`
        : null}
      ${cursor && !error
        ? html`<div class="more" ref=${sentinel}>
            <button type="button" class="secondary" onClick=${() => loadPage(cursor)} disabled=${loading}>
              ${t("inbox.more")}
            </button>
          </div>`
        : null}
    </main>
  </div>`;
}
