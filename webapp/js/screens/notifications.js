// Notifications: the bell in the header with the unread count, the list (/notifications) and
// the person's preferences (/settings/notifications, where the digest mail links).
// The count is polled as the API describes (GET /v1/notifications with `since` and
// If-None-Match: a 304 while nothing changed): every 20 s while the tab is shown, every
// 3 minutes while it is hidden, at once when it is shown again; after a failure the wait
// doubles up to 5 minutes. New ones also show as browser notifications when the person
// allowed them (asked only when they click the button that asks).
import { call, conditionalGet, get, post, withQuery } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useCallback, useEffect, useState } from "../html.js";
import { formatShortTime, t } from "../i18n.js";
import { href, navigate } from "../router.js";
import { liveTopic } from "../live_socket.js";
import { ErrorNote, Loading, useTitle } from "../ui.js";
import { SettingsNav } from "./settings.js";

const SHOWN_MS = 20_000;
const HIDDEN_MS = 180_000;
// A push of the inbox (live_socket.js) reads the count soon: the notifications of a change
// are written just after it is pushed.
const AFTER_PUSH_MS = 1_500;
const MAX_BACKOFF_MS = 300_000;
export const KINDS = ["new_ticket", "customer_reply", "assigned", "mention"];
const KIND_TEXT = {
  new_ticket: () => t("notifications.kind_new_ticket"),
  customer_reply: () => t("notifications.kind_customer_reply"),
  assigned: () => t("notifications.kind_assigned"),
  mention: () => t("notifications.kind_mention"),
};
export const kindText = (kind) => (KIND_TEXT[kind] ? KIND_TEXT[kind]() : kind);

// The bell's state, shared by the header and the list.
let unread = 0;
const listeners = new Set();
function setUnread(count) {
  unread = count;
  for (const listener of listeners) listener(count);
}

/** Marks notifications read (`{ids}` or `{through}`) and updates the bell. */
export async function markRead(body) {
  const answer = await post("/v1/notifications/read", body);
  setUnread(answer.unread_count);
  return answer;
}

const browserAllowed = () => "Notification" in window && Notification.permission === "granted";

function showInBrowser(item) {
  if (!browserAllowed() || !document.hidden) return;
  try {
    const shown = new Notification(kindText(item.kind), {
      body: `#${item.ticket_number} ${item.ticket_subject}${item.excerpt ? " — " + item.excerpt : ""}`,
      tag: item.id,
    });
    shown.onclick = () => {
      window.focus();
      markRead({ ids: [item.id] }).catch(() => {});
      navigate(`/tickets/${item.ticket_id}`);
      shown.close();
    };
  } catch {
    // Some browsers only show them from a service worker: the bell still counts.
  }
}

/** Follows the unread count while the header is shown; returns a function that stops. */
function followNotifications() {
  let newest = null;
  let etag = null;
  let timer = null;
  let stopped = false;
  let backoff = 0;
  const interval = () => (document.hidden ? HIDDEN_MS : SHOWN_MS);
  const schedule = (ms) => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(poll, ms);
  };
  async function poll() {
    try {
      const answer = await conditionalGet(
        withQuery("/v1/notifications", newest ? { since: newest } : { limit: 1 }),
        etag,
      );
      backoff = 0;
      if (stopped) return;
      if (answer.status !== 304) {
        etag = answer.etag;
        const items = answer.data.notifications;
        if (newest) items.filter((n) => !n.read).forEach(showInBrowser);
        if (items.length) newest = items[0].id;
        else if (!newest) newest = "";
        setUnread(answer.data.unread_count);
      }
    } catch (error) {
      if (stopped || (error && error.status === 401)) return;
      if (error && error.status === 403) return; // an API key has no notifications
      backoff = Math.min(backoff ? backoff * 2 : interval(), MAX_BACKOFF_MS);
    }
    schedule(backoff || interval());
  }
  const onVisibility = () => {
    if (!document.hidden && !backoff) schedule(0);
  };
  document.addEventListener("visibilitychange", onVisibility);
  schedule(0);
  const stopLive = liveTopic("inbox", (event) => {
    if (event.type !== "live.opened" && !backoff) schedule(AFTER_PUSH_MS);
  });
  return () => {
    stopped = true;
    stopLive();
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisibility);
  };
}

let followers = 0;
let stopFollowing = null;

/** The bell in the header: a link to the list, named with the unread count. */
export function NotificationBell({ current }) {
  const [count, setCount] = useState(unread);
  useEffect(() => {
    listeners.add(setCount);
    setCount(unread);
    followers += 1;
    if (followers === 1) stopFollowing = followNotifications();
    return () => {
      listeners.delete(setCount);
      followers -= 1;
      if (!followers && stopFollowing) stopFollowing();
    };
  }, []);
  const shown = count > 99 ? "99+" : String(count);
  return html`<a
    class="bell"
    href=${href("/notifications")}
    aria-current=${current ? "page" : undefined}
    aria-label=${count ? t("notifications.bell_unread", { count: shown }) : t("notifications.title")}
  >
    <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20">
      <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z" />
    </svg>
    ${count ? html`<span class="bell-count" aria-hidden="true">${shown}</span>` : null}
  </a>`;
}

function BrowserPermission() {
  const supported = "Notification" in window;
  const [permission, setPermission] = useState(supported ? Notification.permission : "denied");
  if (!supported) return null;
  async function ask() {
    try {
      setPermission(await Notification.requestPermission());
    } catch {
      setPermission(Notification.permission);
    }
  }
  if (permission === "granted") return html`<p class="muted">${t("notifications.browser_on")}</p>`;
  if (permission === "denied") return html`<p class="muted">${t("notifications.browser_blocked")}</p>`;
  return html`<button type="button" class="secondary" onClick=${ask}>
    ${t("notifications.browser_ask")}
  </button>`;
}

export function Notifications() {
  useTitle(t("notifications.title"));
  const [items, setItems] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async (after) => {
    setBusy(true);
    setProblem(null);
    try {
      const page = await get(withQuery("/v1/notifications", { cursor: after, limit: 30 }));
      setItems((shown) => (after && shown ? [...shown, ...page.notifications] : page.notifications));
      setCursor(page.next_cursor || null);
      if (!after) setUnread(page.unread_count);
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
    setBusy(false);
  }, []);
  useEffect(() => {
    load(null);
    let last = unread;
    const onCount = (count) => {
      if (count > last) load(null);
      last = count;
    };
    listeners.add(onCount);
    return () => listeners.delete(onCount);
  }, [load]);

  async function open(event, item) {
    event.preventDefault();
    if (!item.read) {
      try {
        await markRead({ ids: [item.id] });
      } catch {
        // Opening the ticket matters more than the mark.
      }
    }
    navigate(`/tickets/${item.ticket_id}`);
  }
  async function markAll() {
    if (!items || !items.length) return;
    setBusy(true);
    try {
      await markRead({ through: items[0].id });
      setItems(items.map((n) => ({ ...n, read: true })));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
    setBusy(false);
  }

  const anyUnread = (items || []).some((n) => !n.read);
  return html`<main id="main" class="notifications-page">
    <div class="list-head">
      <h1>${t("notifications.title")}</h1>
      <a href=${href("/settings/notifications")}>${t("notifications.preferences")}</a>
    </div>
    <div class="form-actions">
      <button type="button" class="secondary" onClick=${markAll} disabled=${busy || !anyUnread}>
        ${t("notifications.mark_all")}
      </button>
      <${BrowserPermission} />
    </div>
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${() => load(null)} />` : null}
    ${items === null
      ? html`<${Loading} />`
      : items.length
        ? html`<ul class="tickets notifications" aria-label=${t("notifications.list")}>
            ${items.map(
              (n) => html`<li key=${n.id} class=${n.read ? "ticket-row" : "ticket-row unread"}>
                <a href=${href(`/tickets/${n.ticket_id}`)} onClick=${(e) => open(e, n)}>
                  <span class="subject">#${n.ticket_number} ${n.ticket_subject}</span>
                  ${n.excerpt ? html`<span class="excerpt">${n.excerpt}</span>` : null}
                  <span class="meta">
                    <span class="badge">${kindText(n.kind)}</span>
                    ${n.read ? null : html`<span class="unread-mark">${t("notifications.unread")}</span>`}
                    ${n.actor_name ? html`<span>${t("notifications.by", { name: n.actor_name })}</span>` : null}
                    <time datetime=${n.created_at}>${formatShortTime(n.created_at)}</time>
                  </span>
                </a>
              </li>`,
            )}
          </ul>`
        : html`<p class="empty">${t("notifications.empty")}</p>`}
    ${cursor
      ? html`<div class="more">
          <button type="button" class="secondary" disabled=${busy} onClick=${() => load(cursor)}>
            ${t("notifications.more")}
          </button>
        </div>`
      : null}
  </main>`;
}

export function NotificationSettings({ me }) {
  useTitle(t("notifications.preferences"));
  const [prefs, setPrefs] = useState(null);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState("");
  const load = useCallback(async () => {
    setProblem(null);
    try {
      setPrefs(await get("/v1/me/notification-preferences"));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }, []);
  useEffect(() => {
    load();
  }, [load]);
  const toggle = (kind, channel) => (e) =>
    setPrefs({ ...prefs, [kind]: { ...prefs[kind], [channel]: e.currentTarget.checked } });

  async function save(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setSaved("");
    try {
      setPrefs(await call("PUT", "/v1/me/notification-preferences", { body: prefs }));
      setSaved(t("settings.saved"));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
    setBusy(false);
  }

  return html`<main id="main" class="settings-page">
    <h1>${t("settings.title")}</h1>
    <${SettingsNav} section="notifications" me=${me} />
    <form class="settings-form" onSubmit=${save} aria-busy=${busy}>
      <h2>${t("notifications.preferences")}</h2>
      <p class="muted">${t("notifications.preferences_lead")}</p>
      ${problem ? html`<${ErrorNote} message=${problem} onRetry=${load} />` : null}
      ${prefs === null
        ? html`<${Loading} />`
        : html`<table class="prefs">
            <thead>
              <tr>
                <th scope="col">${t("notifications.kind")}</th>
                <th scope="col">${t("notifications.in_app")}</th>
                <th scope="col">${t("notifications.by_email")}</th>
              </tr>
            </thead>
            <tbody>
              ${KINDS.map(
                (kind) => html`<tr key=${kind}>
                  <th scope="row">${kindText(kind)}</th>
                  <td>
                    <input type="checkbox" checked=${prefs[kind].in_app} onChange=${toggle(kind, "in_app")}
                      aria-label=${t("notifications.in_app_for", { kind: kindText(kind) })} />
                  </td>
                  <td>
                    <input type="checkbox" checked=${prefs[kind].email} onChange=${toggle(kind, "email")}
                      aria-label=${t("notifications.email_for", { kind: kindText(kind) })} />
                  </td>
                </tr>`,
              )}
            </tbody>
          </table>
          <div class="form-actions">
            <button type="submit" class="primary" disabled=${busy}>${t("settings.save")}</button>
            <span role="status">${saved}</span>
          </div>`}
    </form>
  </main>`;
}
