// Keeps the inbox current without reloading it: polls the API's changes feed
// (GET /v1/tickets/changes) with its cursor and ETag, as the API describes: every 10 s while
// the tab is shown, every 2 minutes while it is hidden, at once when it is shown again;
// nothing changed costs a 304. After a failure it waits longer each time (at most 5 min).
import { conditionalGet, withQuery } from "./api.js";
import { liveTopic, liveUp } from "./live_socket.js";

const SHOWN_MS = 10_000;
const HIDDEN_MS = 120_000;
const MAX_BACKOFF_MS = 300_000;
// While pushes arrive (live_socket.js) a push reads the feed at once; the poll is a fallback.
const LIVE_MS = 30_000;

/** Calls `onChanges(tickets)` with each batch of tickets active since the start (newest
 * first); returns a function that stops following. */
export function followInbox(onChanges) {
  let cursor = null;
  let etag = null;
  let timer = null;
  let stopped = false;
  let backoff = 0;
  let started = false;
  let polling = false;
  let pushed = false;

  const interval = () => (document.hidden ? HIDDEN_MS : liveUp() ? LIVE_MS : SHOWN_MS);

  function schedule(ms) {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(poll, ms);
  }

  async function poll() {
    let again = false;
    polling = true;
    pushed = false;
    try {
      const answer = await conditionalGet(
        withQuery("/v1/tickets/changes", { since: cursor }),
        cursor ? etag : null,
      );
      backoff = 0;
      if (stopped) return;
      if (answer.status !== 304) {
        cursor = answer.data.next_cursor;
        etag = answer.etag;
        // The first answer only places the cursor: the list on screen is already current.
        if (started && answer.data.tickets.length) onChanges(answer.data.tickets);
        again = answer.data.more;
      }
      started = true;
    } catch (error) {
      if (stopped) return;
      if (error && error.code === "invalid_cursor") {
        cursor = null;
        etag = null;
        started = false;
        again = true;
      } else if (error && error.status !== 401) {
        backoff = Math.min(backoff ? backoff * 2 : interval(), MAX_BACKOFF_MS);
      } else {
        return; // logged out: the app goes to the login page
      }
    }
    polling = false;
    schedule(again || (pushed && !backoff) ? 0 : backoff || interval());
  }

  function onVisibility() {
    if (!document.hidden && !backoff) schedule(0);
  }

  document.addEventListener("visibilitychange", onVisibility);
  schedule(0);
  const stopLive = liveTopic("inbox", () => {
    if (polling) pushed = true; // read again once this answer is in
    else if (started && !backoff) schedule(0);
  });
  return () => {
    stopped = true;
    stopLive();
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisibility);
  };
}
