// One ticket: its conversation, the reply and note editors, its details and activity log,
// who else is viewing it, merging it, and the AI panel when AI is on.
import { apiUrl, get, withQuery } from "../api.js";
import { errorMessage } from "../errors.js";
import { IsolatedHtml } from "../frames.js";
import { html, useCallback, useEffect, useMemo, useState } from "../html.js";
import { currentLanguage, formatDateTime, t } from "../i18n.js";
import { href, navigate } from "../router.js";
import { useShortcuts } from "../shortcuts.js";
import { ErrorNote, Loading, useTitle } from "../ui.js";
import { AiPanel, MessageTranslation, useAi } from "./ai_panel.js";
import { Composer, TicketFields } from "./ticket_actions.js";
import { ActivityLog, mergedIn } from "./ticket_activity.js";
import { useTicketRefresh, useViewers } from "./ticket_live.js";
import { MergeTicket } from "./ticket_merge.js";
import { ChatMessageExtras, ChatStatus, isChat, useChatLive } from "./ticket_chat.js";

// Mail whose HTML adds nothing to its text (paragraphs and line breaks only) offers no
// "original formatting".
const RICH_HTML = /<(?!\/?(p|br|div|span)\b)[a-z]/i;

/** Who wrote a message, in words: the customer's name, or the teammate's. */
export function authorOf(message, ticket, members) {
  const requester = ticket.requester || {};
  if (message.kind === "bot") return t("chat.answer_bot");
  if (message.kind === "customer") {
    const address = (message.from_address || "").toLowerCase();
    if (!address || address === String(requester.email || "").toLowerCase()) {
      return requester.name || requester.email || t("message.customer");
    }
    return message.from_address;
  }
  const [kind, id] = String(message.author).split(":");
  const member = kind === "user" ? members.find((m) => m.id === id) : null;
  if (member) return member.name;
  return kind === "api_key" ? t("message.api_key") : t("ticket.assigned");
}

function Message({ message, ticket, members, ai }) {
  const [formatted, setFormatted] = useState(false);
  const kind = message.kind === "customer" ? "customer" : message.kind;
  const author = authorOf(message, ticket, members);
  const rich = Boolean(message.html && RICH_HTML.test(message.html));
  return html`<li class=${`message ${kind}`}>
    <article aria-label=${t(`message.kind.${kind}`, { author })}>
      <header>
        <span class="author">${author}</span>
        ${message.from_address && message.from_address !== author
          ? html`<span class="address">${message.from_address}</span>`
          : null}
        <span class="kind">${t(`message.kind_label.${kind}`)}</span>
        <time datetime=${message.created_at}>${formatDateTime(message.created_at)}</time>
        ${message.kind === "reply" && message.delivery
          ? html`<span
              class=${`badge delivery-${message.delivery}`}
              data-delivery=${message.delivery}
              title=${message.delivery_detail || undefined}
            >
              ${t(`delivery.${message.delivery}`)}
            </span>`
          : null}
      </header>
      ${message.cc && message.cc.length && message.kind !== "note"
        ? html`<p class="copied">${t("message.cc", { addresses: message.cc.join(", ") })}</p>`
        : null}
      ${message.delivery_detail && ["failed", "bounced"].includes(message.delivery)
        ? html`<p class="warning">${t("message.delivery_failed", { why: message.delivery_detail })}</p>`
        : null}
      ${message.sender_verified === false
        ? html`<p class="warning">${t(ticket.channel === "chat" ? "chat.unverified_address" : "message.unverified")}</p>`
        : null}
      ${formatted && rich
        ? html`<${IsolatedHtml}
            body=${message.html}
            title=${t("message.formatted_title", { author })}
            lang=${currentLanguage()}
          />`
        : html`<div class="message-text">${message.text}</div>`}
      ${message.chat || (message.citations && message.citations.length)
        ? html`<${ChatMessageExtras} message=${message} />`
        : null}
      ${rich
        ? html`<button
            type="button"
            class="link"
            aria-pressed=${formatted}
            onClick=${() => setFormatted(!formatted)}
          >
            ${formatted ? t("message.show_text") : t("message.show_formatted")}
          </button>`
        : null}
      ${message.original && message.original.text
        ? html`<details class="quoted">
            <summary>${t("message.before_translation")}</summary>
            <div class="message-text" lang=${message.original.language || undefined}>
              ${message.original.text}
            </div>
          </details>`
        : null}
      ${message.quoted_text
        ? html`<details class="quoted">
            <summary>${t("message.quoted")}</summary>
            <div class="message-text">${message.quoted_text}</div>
          </details>`
        : null}
      ${message.attachments && message.attachments.length
        ? html`<ul class="attachments" aria-label=${t("message.attachments")}>
            ${message.attachments.map(
              (a) => html`<li key=${a.id}>
                <a
                  href=${apiUrl(a.url)}
                  rel="noopener"
                  target="_blank"
                  download=${a.filename}
                  aria-label=${t("message.download", { name: a.filename })}
                  >${a.filename}</a
                >
                <span class="size">${sizeOf(a.size)}</span>
              </li>`,
            )}
          </ul>`
        : null}
      ${ai && ai.translation !== false && message.kind === "customer" && message.text
        ? html`<${MessageTranslation} ticket=${ticket} message=${message} />`
        : null}
    </article>
  </li>`;
}

function sizeOf(bytes) {
  const units = ["B", "KB", "MB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${new Intl.NumberFormat(currentLanguage(), { maximumFractionDigits: 1 }).format(value)} ${units[unit]}`;
}

const OTHER_TICKETS = 5;

/** The requester's other tickets, newest activity first (a few, linked). */
function OtherTickets({ ticket }) {
  const requester = (ticket.requester && ticket.requester.id) || null;
  const [others, setOthers] = useState(null);
  useEffect(() => {
    if (!requester) return undefined;
    let shown = true;
    get(withQuery("/v1/tickets", { requester, limit: OTHER_TICKETS + 1 }))
      .then((page) => shown && setOthers(page.tickets.filter((other) => other.id !== ticket.id)))
      .catch(() => shown && setOthers([]));
    return () => {
      shown = false;
    };
  }, [requester, ticket.id]);
  if (!others) return null;
  return html`<section class="other-tickets" aria-labelledby="other-tickets-heading">
    <h2 id="other-tickets-heading">${t("ticket.other_tickets")}</h2>
    ${others.length
      ? html`<ul>
          ${others.slice(0, OTHER_TICKETS).map(
            (other) => html`<li key=${other.id}>
              <a href=${href(`/tickets/${other.id}`)}>${other.subject || t("ticket.no_subject")}</a>
              <span class=${`badge status-${other.status}`}>${t(`status.${other.status}`)}</span>
            </li>`,
          )}
        </ul>`
      : html`<p class="muted">${t("ticket.no_other_tickets")}</p>`}
  </section>`;
}

function Details({ ticket, me, members, onChanged, ai, onUse }) {
  const requester = ticket.requester || {};
  return html`<aside class="ticket-details" aria-label=${t("ticket.details")}>
    <${TicketFields} ticket=${ticket} me=${me} members=${members} onChanged=${onChanged} />
    <dl>
      <dt>${t("ticket.requester")}</dt>
      <dd>
        ${requester.id
          ? html`<a href=${href(`/contacts/${requester.id}`)}>
              ${requester.name || requester.email}
            </a>`
          : html`<span>${requester.name || ""}</span>`}
        ${requester.name ? html`<br /><span class="address">${requester.email || ""}</span>` : null}
      </dd>
      <dt>${t("ticket.tags")}</dt>
      <dd>
        ${ticket.tags.length
          ? html`<ul class="tags">
              ${ticket.tags.map(
                (tag) => html`<li key=${tag}>
                  <a href=${href(`/?tag=${encodeURIComponent(tag)}`)}
                    aria-label=${t("ticket.tag_link", { tag })}>${tag}</a>
                </li>`,
              )}
            </ul>`
          : t("ticket.no_tags")}
      </dd>
      <dt>${t("ticket.created")}</dt>
      <dd><time datetime=${ticket.created_at}>${formatDateTime(ticket.created_at)}</time></dd>
      <dt>${t("ticket.last_activity")}</dt>
      <dd>
        <time datetime=${ticket.last_activity_at}>${formatDateTime(ticket.last_activity_at)}</time>
      </dd>
    </dl>
    ${ticket.merged_into ? null : html`<${MergeTicket} ticket=${ticket} />`}
    <${AiPanel} ai=${ai} ticket=${ticket} onChanged=${onChanged} onUse=${onUse} />
    <${OtherTickets} ticket=${ticket} />
    <${ActivityLog} ticket=${ticket} members=${members} />
  </aside>`;
}

/** Opens the reply or note editor and puts the cursor in it. */
function writeAs(kind) {
  document.querySelector(`.composer-kinds button[data-kind='${kind}']`)?.click();
  setTimeout(() => document.querySelector(".composer textarea")?.focus(), 0);
}

/** The number of the ticket this one was merged into (from its log), if known. */
function mergedTo(ticket) {
  const entry = (ticket.activity || []).findLast?.((e) => e.action === "merged");
  return entry && entry.after ? String(entry.after).replace(/^#/, "") : null;
}

export function Ticket({ me, id }) {
  const [ticket, setTicket] = useState(null);
  const [members, setMembers] = useState([]);
  const [error, setError] = useState(null);
  const [inserted, setInserted] = useState(null);
  const ai = useAi();
  const viewers = useViewers(ticket ? ticket.id : null);
  useTitle(ticket ? `#${ticket.number} ${ticket.subject}` : t("ticket.title"));

  const load = useCallback(
    async ({ quiet = false } = {}) => {
      if (!quiet) setError(null);
      try {
        setTicket(await get(`/v1/tickets/${encodeURIComponent(id)}`));
      } catch (failure) {
        // A failed refresh leaves the page as it was, and tries again later.
        if (quiet) setTicket((shown) => (shown ? { ...shown } : shown));
        else setError(failure);
      }
    },
    [id],
  );
  useTicketRefresh(ticket, load);
  const chatLive = useChatLive(ticket, setTicket);

  const keys = useMemo(
    () => ({
      r: () => writeAs("reply"),
      n: () => writeAs("note"),
      a: () => document.querySelector("[data-action='assign-me']")?.click(),
      c: () => {
        const status = document.querySelector(".ticket-fields select[name='status']");
        if (status && status.value !== "solved") {
          status.value = "solved";
          status.dispatchEvent(new Event("change", { bubbles: true }));
        }
      },
      u: () => navigate("/"),
    }),
    [],
  );
  useShortcuts(keys);

  useEffect(() => {
    setTicket(null);
    load();
    get("/v1/members?limit=100")
      .then((page) => setMembers(page.members || []))
      .catch(() => setMembers([]));
  }, [load]);

  if (error) {
    return html`<main id="main" class="ticket-page">
      <p><a href=${href("/")}>${t("ticket.back")}</a></p>
      <h1>${error.status === 404 ? t("ticket.not_found") : t("ticket.title")}</h1>
      ${error.status === 404
        ? html`<p>${t("ticket.not_found_text")}</p>`
        : html`<${ErrorNote} message=${errorMessage(error)} onRetry=${load} />`}
    </main>`;
  }
  if (!ticket) return html`<main id="main" class="ticket-page"><${Loading} /></main>`;
  return html`<main id="main" class="ticket-page">
    <div class="ticket-head">
      <a class="back" href=${href("/")}>${t("ticket.back")}</a>
      <h1>${ticket.subject || t("ticket.no_subject")}</h1>
      <p class="meta">
        <span class="number">#${ticket.number}</span>
        <span class=${`badge status-${ticket.status}`}>${t(`status.${ticket.status}`)}</span>
        ${isChat(ticket) ? html`<span class="badge channel-chat">${t("chat.channel")}</span>` : null}
        ${ticket.merged_into
          ? html`<a class="merge-pointer" href=${href(`/tickets/${ticket.merged_into}`)}>
              ${mergedTo(ticket)
                ? t("merge.merged_into", { number: mergedTo(ticket) })
                : t("ticket.merged")}
            </a>`
          : null}
        ${mergedIn(ticket).map(
          (number) => html`<a key=${number} class="merge-pointer" href=${href(`/tickets/${number}`)}>
            ${t("merge.merged_from", { number })}
          </a>`,
        )}
      </p>
      ${viewers.length
        ? html`<p class="viewers" role="status">
            ${t("viewers.viewing", {
              count: viewers.length,
              names: viewers.map((v) => v.name).join(", "),
            })}
          </p>`
        : html`<p class="viewers" role="status"></p>`}
    </div>
    <div class="ticket-body">
      <section class="conversation-pane" aria-labelledby="conversation-heading">
        <h2 id="conversation-heading" class="visually-hidden">${t("ticket.conversation")}</h2>
        <ol class="conversation" aria-label=${t("ticket.conversation")}>
          ${ticket.messages.map(
            (m) =>
              html`<${Message} key=${m.id} message=${m} ticket=${ticket} members=${members} ai=${ai} />`,
          )}
        </ol>
        <${ChatStatus} ticket=${ticket} live=${chatLive} />
        ${ticket.merged_into
          ? null
          : html`<${Composer}
              ticket=${ticket}
              onSent=${load}
              onConflict=${load}
              inserted=${inserted}
              ai=${ai}
            />`}
      </section>
      <${Details}
        ticket=${ticket}
        me=${me}
        members=${members}
        onChanged=${(changed) => setTicket((shown) => ({ ...shown, ...changed }))}
        ai=${ai}
        onUse=${(body) => setInserted({ body })}
      />
    </div>
  </main>`;
}
