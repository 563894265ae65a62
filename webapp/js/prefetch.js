// The first screen's data, asked for while the app is still finding out who is logged in:
// on a cold load of the inbox, GET /v1/me, the first page of the list and the counts leave
// together, so the list paints after one wave of API calls. A screen takes what was asked
// for it, once and only while fresh; a prefetch that failed (no one was logged in yet) is
// asked for again.

import { get } from "./api.js";

const FRESH_MS = 10_000;
const started = new Map();

/** Starts GET `path` now (a 401 is left to whoever takes it, or ignored). */
export function prefetch(path) {
  if (started.has(path)) return;
  const answer = get(path, { expect401: true });
  answer.catch(() => {}); // taken later, or never: no unhandled rejection either way
  started.set(path, { answer, at: performance.now() });
}

/** GET `path`: the prefetched answer when there is a fresh one, else a new request. */
export function getPrefetched(path) {
  const kept = started.get(path);
  started.delete(path);
  if (!kept || performance.now() - kept.at > FRESH_MS) return get(path);
  return kept.answer.catch(() => get(path));
}
