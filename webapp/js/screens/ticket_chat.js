// A chat ticket while it is open: new messages as they come (a long poll of
// /v1/tickets/{id}/live, merged by id), whether the visitor is typing, has seen the latest
// reply, is still on the site; the agent's typing told to the visitor (at most every 3 s);
// and, on every message, the answer bot's citations and the visitor's page, language and clock.
// Everything the visitor wrote is shown as text (text nodes only).
import { call, get, withQuery } from "../api.js";
import { html, useEffect, useRef, useState } from "../html.js";
import { t } from "../i18n.js";
import { languageName } from "./ticket_actions.js";
import { liveUp, liveWaker } from "../live_socket.js";

const WAIT_SECONDS = 20;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;
const MIN_POLL_GAP_MS = 300; // an answer at once (a typing signal) never makes a busy loop
const TYPING_EVERY_MS = 3_000;
const TYPING_IDLE_MS = 5_000;
const TYPING_SHOWN_MS = 8_000;
const LIVE_POLL_MS = 30_000; // while pushes arrive: read at once on a push, else this often

export const isChat = (ticket) => Boolean(ticket && ticket.channel === "chat");

/** `shown` with the messages of `incoming` it does not have yet (a message can come twice:
 * delivery is at least once), in time order (message ids are ULIDs). */
export function mergeMessages(shown, incoming) {
  const known = new Set(shown.map((m) => m.id));
  const added = incoming.filter((m) => m.id && !known.has(m.id) && known.add(m.id));
  if (!added.length) return shown;
  return [...shown, ...added].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function lastId(messages) {
  return messages.reduce((latest, m) => (m.id > latest ? m.id : latest), "");
}

function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * While a chat ticket is shown and the tab is visible: asks /live for what came after the
 * newest message on screen (it answers at once when there is news, else after up to 20 s),
 * merges the new messages into the ticket (`setTicket`), and keeps the visitor's state. A
 * failed call is tried again after 1 s, then twice as long each time, at most every 30 s.
 * Stops when the screen goes away; pauses while the tab is hidden.
 */
export function useChatLive(ticket, setTicket) {
  const chat = isChat(ticket);
  const ticketId = ticket ? ticket.id : null;
  const cursor = useRef("");
  const seenSent = useRef("");
  const shownCustomer = useRef("");
  const [state, setState] = useState({ typing: false, seenId: null, online: null });
  if (ticket && chat) {
    const newest = lastId(ticket.messages);
    if (newest > cursor.current) cursor.current = newest;
    shownCustomer.current = lastId((ticket.messages || []).filter((m) => m.kind === "customer"));
  }

  useEffect(() => {
    if (!chat || !ticketId) return undefined;
    let controller = null;
    let stopped = false;
    let running = false;

    async function follow() {
      if (running || stopped || document.hidden) return;
      running = true;
      controller = new AbortController();
      const { signal } = controller;
      let retry = FIRST_RETRY_MS;
      let started = 0;
      let version = null; // the conversation's version last seen: the server waits for a newer one
      while (!signal.aborted) {
        const since = Date.now() - started;
        if (since < MIN_POLL_GAP_MS) await pause(MIN_POLL_GAP_MS - since, signal);
        if (signal.aborted) break;
        started = Date.now();
        try {
          const answer = await get(
            withQuery(`/v1/tickets/${encodeURIComponent(ticketId)}/live`, {
              after: cursor.current || undefined,
              wait: liveUp() ? 0 : WAIT_SECONDS,
              version: version ?? undefined,
            }),
            { signal },
          );
          if (signal.aborted) break;
          retry = FIRST_RETRY_MS;
          if (answer && Number.isInteger(answer.version)) version = answer.version;
          const incoming = (answer && answer.messages) || [];
          const newest = [lastId(incoming), (answer && answer.cursor) || ""].sort().pop();
          if (newest > cursor.current) cursor.current = newest;
          if (incoming.length || (answer && answer.status)) {
            setTicket((shown) => {
              if (!shown || shown.id !== ticketId) return shown;
              const messages = mergeMessages(shown.messages, incoming);
              const status = (answer && answer.status) || shown.status;
              if (messages === shown.messages && status === shown.status) return shown;
              if (messages === shown.messages) return { ...shown, status };
              const customer = messages.filter((m) => m.kind === "customer");
              return {
                ...shown,
                status,
                messages,
                last_customer_message_id: customer.length
                  ? customer[customer.length - 1].id
                  : shown.last_customer_message_id,
              };
            });
          }
          // The visitor is told ("Seen") what reached the agent on a visible tab.
          const fromVisitor = [
            ...incoming.filter((m) => m.kind === "customer").map((m) => m.id),
            shownCustomer.current || "",
          ].sort().pop();
          if (fromVisitor && !document.hidden && fromVisitor > seenSent.current) {
            seenSent.current = fromVisitor;
            call("POST", `/v1/tickets/${encodeURIComponent(ticketId)}/seen`, {
              body: { message_id: fromVisitor },
            }).catch(() => {});
          }
          setState({
            typing: Boolean(answer && answer.visitor_typing),
            seenId: (answer && answer.visitor_seen_message_id) || null,
            online: answer ? Boolean(answer.visitor_online) : null,
          });
          if (liveUp()) await pushed.nap(LIVE_POLL_MS, signal);
        } catch (failure) {
          if (signal.aborted || (failure && failure.name === "AbortError")) break;
          if (failure && failure.status === 401) break;
          await pause(retry, signal);
          retry = Math.min(retry * 2, MAX_RETRY_MS);
        }
      }
      running = false;
    }

    function onVisibility() {
      if (document.hidden) {
        if (controller) controller.abort();
      } else {
        follow();
      }
    }
    document.addEventListener("visibilitychange", onVisibility);
    const pushed = liveWaker(`ticket:${ticketId}`);
    follow();
    return () => {
      stopped = true;
      pushed.stop();
      document.removeEventListener("visibilitychange", onVisibility);
      if (controller) controller.abort();
    };
  }, [chat, ticketId, setTicket]);

  // "Typing" lapses on the server without a new version: it lapses here too.
  useEffect(() => {
    if (!state.typing) return undefined;
    const timer = setTimeout(() => setState((shown) => ({ ...shown, typing: false })), TYPING_SHOWN_MS);
    return () => clearTimeout(timer);
  }, [state]);

  useTypingSignals(chat ? ticketId : null);
  return state;
}

/**
 * Tells the visitor the agent is typing a reply: `typing: true` at most every 3 s while the
 * reply box changes, `typing: false` once it has been still for 5 s or the screen goes away.
 * Watches the reply box from outside (its input events), notes excluded.
 */
function useTypingSignals(ticketId) {
  useEffect(() => {
    if (!ticketId) return undefined;
    const path = `/v1/tickets/${encodeURIComponent(ticketId)}/typing`;
    let lastSent = 0;
    let typing = false;
    let idle = null;
    const send = (on) => call("POST", path, { body: { typing: on } }).catch(() => {});
    function stop() {
      clearTimeout(idle);
      if (typing) send(false);
      typing = false;
      lastSent = 0;
    }
    function onInput(event) {
      const box = event.target;
      if (!box || !box.matches || !box.matches(".composer.reply textarea[name='reply']")) return;
      clearTimeout(idle);
      if (!box.value.trim()) {
        stop();
        return;
      }
      const now = Date.now();
      if (now - lastSent >= TYPING_EVERY_MS) {
        lastSent = now;
        typing = true;
        send(true);
      }
      idle = setTimeout(stop, TYPING_IDLE_MS);
    }
    function onSubmit(event) {
      if (event.target && event.target.closest && event.target.closest(".composer.reply")) stop();
    }
    document.addEventListener("input", onInput);
    document.addEventListener("submit", onSubmit, true);
    return () => {
      document.removeEventListener("input", onInput);
      document.removeEventListener("submit", onSubmit, true);
      stop();
    };
  }, [ticketId]);
}

/** The visitor, live: on the site or gone, typing, has seen the latest reply. */
export function ChatStatus({ ticket, live }) {
  if (!isChat(ticket)) return null;
  const replies = ticket.messages.filter((m) => m.kind === "reply");
  const latestReply = replies.length ? replies[replies.length - 1].id : null;
  const seen = Boolean(latestReply && live.seenId && live.seenId >= latestReply);
  return html`<div class="chat-status">
    ${live.online === null
      ? null
      : html`<span class=${live.online ? "badge visitor-online" : "badge visitor-left"}>
          ${live.online ? t("chat.visitor_online") : t("chat.visitor_left")}
        </span>`}
    ${seen ? html`<span class="badge seen">${t("chat.seen")}</span>` : null}
    <span class="typing" role="status" aria-live="polite">
      ${live.typing ? t("chat.visitor_typing") : ""}
    </span>
  </div>`;
}

/** An http(s) link, else null (a citation never links to `javascript:` or `data:`). */
export function safeLink(url) {
  try {
    const parsed = new URL(String(url), location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** The visitor's clock as it read when they wrote ("14:05"), from ISO 8601 with an offset. */
export function visitorClock(localTime) {
  const text = String(localTime || "");
  const found = text.match(/T(\d{2}:\d{2})/) || text.match(/^(\d{1,2}:\d{2})/);
  return found ? found[1] : text.slice(0, 40);
}

/** What a chat message carries beyond its text: the visitor's page, language and clock,
 * and the answer bot's citations (numbered links to the articles). */
export function ChatMessageExtras({ message }) {
  const chat = message.chat;
  const citations = message.citations || [];
  const context = [];
  if (chat && chat.page_url) context.push(t("chat.on_page", { page: chat.page_url }));
  if (chat && chat.language) context.push(languageName(chat.language));
  if (chat && chat.local_time) context.push(t("chat.local_time", { time: visitorClock(chat.local_time) }));
  return html`${context.length ? html`<p class="chat-context">${context.join(" · ")}</p>` : null}
    ${citations.length
      ? html`<ol class="citations" aria-label=${t("chat.sources")}>
          ${citations.map((c) => {
            const link = safeLink(c.url);
            const title = c.title || c.url || "";
            return html`<li key=${`${c.number}-${c.article_id}`} value=${c.number || undefined}>
              ${link
                ? html`<a href=${link} target="_blank" rel="noopener noreferrer">${title}</a>`
                : html`<span>${title}</span>`}
            </li>`;
          })}
        </ol>`
      : null}`;
}
