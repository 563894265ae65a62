// What keeps a ticket page current while it is open: AI jobs polled until they are done, the
// teammates viewing the ticket (a heartbeat), and the ticket itself while a reply is on its
// way (its delivery status) or a customer may write.
import { call, get } from "../api.js";
import { useEffect, useRef, useState } from "../html.js";
import { liveTopic } from "../live_socket.js";

const FIRST_POLL_MS = 700;
const MAX_POLL_MS = 8_000;
const JOB_TIMEOUT_MS = 180_000;

function wait(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new DOMException("stopped", "AbortError"));
    });
  });
}

/**
 * Resolves to the AI job's answer at `path` once it is no longer pending (ready or failed):
 * asks again after 0.7 s, then half as long again each time, at most every 8 s, for at most
 * 3 minutes (then resolves to the pending answer). `first` is the answer already in hand.
 */
export async function pollJob(path, { signal, first } = {}) {
  let answer = first || (await get(path, { signal }));
  let delay = FIRST_POLL_MS;
  const deadline = Date.now() + JOB_TIMEOUT_MS;
  while (answer && answer.status === "pending" && Date.now() < deadline) {
    await wait(delay, signal);
    delay = Math.min(Math.round(delay * 1.5), MAX_POLL_MS);
    answer = await get(path, { signal });
  }
  return answer;
}

/** An AbortController for the screen's lifetime: aborted when it goes away. */
export function useLifetime() {
  const controller = useRef(null);
  if (!controller.current) controller.current = new AbortController();
  useEffect(() => () => controller.current.abort(), []);
  return controller.current.signal;
}

const HEARTBEAT_MS = 10_000;

/** The teammates who have the ticket open too, from a heartbeat every 10 s while it is shown;
 * leaving the ticket says so. */
export function useViewers(ticketId) {
  const [viewers, setViewers] = useState([]);
  useEffect(() => {
    if (!ticketId) return undefined;
    let stopped = false;
    let timer = null;
    async function beat() {
      clearTimeout(timer);
      if (stopped) return;
      if (!document.hidden) {
        try {
          const answer = await call("POST", `/v1/tickets/${encodeURIComponent(ticketId)}/viewing`);
          if (!stopped) setViewers(answer.viewers || []);
        } catch {
          // Presence is a help: without it the page works as before.
        }
      }
      if (!stopped) timer = setTimeout(beat, HEARTBEAT_MS);
    }
    const onVisibility = () => !document.hidden && beat();
    document.addEventListener("visibilitychange", onVisibility);
    beat();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
      // Closed (another screen, another ticket): teammates stop seeing us here at once.
      call("DELETE", `/v1/tickets/${encodeURIComponent(ticketId)}/viewing`).catch(() => {});
    };
  }, [ticketId]);
  return viewers;
}

const IN_FLIGHT = new Set(["queued", "sent"]);
const FAST_MS = 2_000;
const SLOW_MS = 20_000;

/**
 * Reloads the ticket (`reload()`) every 2 s while one of its replies is still on its way
 * (queued or sent), half as often again each time it has not changed, and every 20 s
 * otherwise (a customer's new message, a teammate's change); not while the tab is hidden.
 * Where pushes arrive, a push of the ticket reloads it at once.
 */
export function useTicketRefresh(ticket, reload) {
  const delay = useRef(FAST_MS);
  const inFlight = Boolean(
    ticket && ticket.messages.some((m) => m.kind === "reply" && IN_FLIGHT.has(m.delivery)),
  );
  const stamp = ticket
    ? `${ticket.updated_at}|${ticket.messages.map((m) => `${m.id}:${m.delivery}`).join(",")}`
    : "";
  const last = useRef(stamp);
  useEffect(() => {
    if (!ticket) return undefined;
    if (stamp !== last.current) delay.current = FAST_MS;
    last.current = stamp;
    const ms = inFlight ? delay.current : SLOW_MS;
    const timer = setTimeout(() => {
      delay.current = Math.min(Math.round(delay.current * 1.5), SLOW_MS);
      if (!document.hidden) reload({ quiet: true });
    }, ms);
    return () => clearTimeout(timer);
  }, [ticket, stamp, inFlight, reload]);
  // A push of the ticket (live_socket.js: a message, a change, a delivery) reloads it at once.
  const ticketId = ticket ? ticket.id : null;
  useEffect(() => {
    if (!ticketId) return undefined;
    return liveTopic(`ticket:${ticketId}`, (event) => {
      if (event.type !== "live.opened" && !document.hidden) reload({ quiet: true });
    });
  }, [ticketId, reload]);
}
