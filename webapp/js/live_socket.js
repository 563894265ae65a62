// Live pushes for the web client (docs/decisions/0028-websocket-pushes.md): one WebSocket
// for the whole app, opened when something listens and GET /v1/live names a URL (a
// deployment without one answers null: the screens keep polling, nothing else changes).
// It connects with a fresh 60-second connect token each time, subscribes to the topics
// listened to (`inbox`, `ticket:<id>`) and again after every reconnect, pings every
// 5 minutes, and reconnects after 1 s, then twice as long each time (at most a minute).
// Events carry no content: a listener reads again through the API, at once.
import { get } from "./api.js";

const PING_MS = 5 * 60_000;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 60_000;

const listeners = new Map(); // topic -> Set of callbacks
let socket = null;
let open = false;
let connecting = false;
let disabled = false; // this deployment has no WebSocket API, or the person logged out
let retry = FIRST_RETRY_MS;
let retryTimer = null;
let pingTimer = null;

/** Whether pushes arrive now (a screen may then poll less often). */
export const liveUp = () => open;

/** Calls `onEvent(event)` for each push of `topic`; returns a function that stops it. */
export function liveTopic(topic, onEvent) {
  if (!listeners.has(topic)) {
    listeners.set(topic, new Set());
    send({ action: "subscribe", topic });
  }
  listeners.get(topic).add(onEvent);
  ensureConnected();
  return () => {
    const set = listeners.get(topic);
    if (!set) return;
    set.delete(onEvent);
    if (!set.size) {
      listeners.delete(topic);
      send({ action: "unsubscribe", topic });
    }
  };
}

/**
 * A topic's pushes as naps: `nap(ms, signal)` resolves after `ms`, or as soon as the topic
 * is pushed (at once when it was pushed since the last nap), or when `signal` aborts.
 */
export function liveWaker(topic) {
  let pending = false;
  let wake = null;
  const stop = liveTopic(topic, () => {
    pending = true;
    if (wake) wake();
  });
  function nap(ms, signal) {
    if (pending) {
      pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        pending = false;
        resolve();
      }
      wake = done;
      if (signal) signal.addEventListener("abort", done);
    });
  }
  return { nap, stop };
}

function send(message) {
  if (open && socket) socket.send(JSON.stringify(message));
}

function topicOf(event) {
  if (event.type === "ticket.changed") return "inbox";
  if (event.type === "conversation.moved" && event.ticket_id) return `ticket:${event.ticket_id}`;
  return null;
}

async function ensureConnected() {
  if (socket || connecting || disabled || retryTimer) return;
  connecting = true;
  let access = null;
  try {
    access = await get("/v1/live");
  } catch (failure) {
    connecting = false;
    if (failure && failure.status === 401) return; // logged out: the next listener tries again
    reconnectLater();
    return;
  }
  connecting = false;
  if (!access || !access.url || !access.connect_token) {
    disabled = true; // no WebSocket API here: polling alone
    return;
  }
  if (!listeners.size) return;
  const url = new URL(access.url);
  url.searchParams.set("connect_token", access.connect_token);
  const opened = new WebSocket(url.toString());
  socket = opened;
  opened.addEventListener("open", () => {
    open = true;
    retry = FIRST_RETRY_MS;
    for (const topic of listeners.keys()) send({ action: "subscribe", topic });
    clearInterval(pingTimer);
    pingTimer = setInterval(() => send({ action: "ping" }), PING_MS);
    // Something may have changed while there was no socket: every listener reads again.
    for (const set of listeners.values()) for (const onEvent of set) onEvent({ type: "live.opened" });
  });
  opened.addEventListener("message", (message) => {
    let event = null;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    const topic = event && topicOf(event);
    const set = topic && listeners.get(topic);
    if (set) for (const onEvent of [...set]) onEvent(event);
  });
  opened.addEventListener("close", () => {
    if (socket !== opened) return;
    socket = null;
    open = false;
    clearInterval(pingTimer);
    if (listeners.size) reconnectLater();
  });
}

function reconnectLater() {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => {
    retryTimer = null;
    ensureConnected();
  }, retry);
  retry = Math.min(retry * 2, MAX_RETRY_MS);
}
