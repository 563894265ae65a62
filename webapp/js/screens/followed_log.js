// A log of queued privacy jobs (data-subject exports, erasures), as Settings > Privacy shows
// it: loaded once; each entry still running is asked again every second at first (most take
// a few), then every 3 s, until it is not; a newer answer replaces the entry it is about, and
// one the log does not show yet goes first.
import { get } from "../api.js";
import { useCallback, useEffect, useRef, useState } from "../html.js";
import { apiProblem } from "./privacy_words.js";

const POLL_SOON = 5;
const POLL_SOON_MS = 1000;
const POLL_LATER_MS = 3000;

/**
 * `path` lists the log (its entries under `listKey`) and `${path}/{id}` reads one entry;
 * `running`: the statuses still worth asking about; `onFinished(entries)` is told of those
 * that stopped running since the last answer.
 */
export function useFollowedLog(path, listKey, running, onFinished) {
  const [entries, setEntries] = useState(null);
  const [problem, setProblem] = useState(null);
  const [tick, setTick] = useState(0);
  const told = useRef(onFinished);
  told.current = onFinished;

  const load = useCallback(async () => {
    setProblem(null);
    try {
      setEntries((await get(path))[listKey]);
    } catch (failure) {
      setProblem(apiProblem(failure));
    }
  }, [path, listKey]);
  useEffect(() => {
    load();
  }, [load]);

  const merge = useCallback((fresh) => {
    setEntries((shown) => {
      const list = shown || [];
      const known = new Set(list.map((e) => e.id));
      const byId = Object.fromEntries(fresh.map((e) => [e.id, e]));
      return [...fresh.filter((e) => !known.has(e.id)), ...list.map((e) => byId[e.id] || e)];
    });
  }, []);

  const followed = (entries || [])
    .filter((e) => running.includes(e.status))
    .map((e) => e.id)
    .join(" ");
  useEffect(() => {
    if (!followed) return undefined;
    let stopped = false;
    const timer = setTimeout(
      async () => {
        const fresh = await Promise.all(
          followed
            .split(" ")
            .map((id) => get(`${path}/${encodeURIComponent(id)}`).catch(() => null)),
        );
        if (stopped) return;
        const answered = fresh.filter(Boolean);
        merge(answered);
        const finished = answered.filter((e) => !running.includes(e.status));
        if (finished.length) told.current(finished);
        setTick((n) => n + 1);
      },
      tick < POLL_SOON ? POLL_SOON_MS : POLL_LATER_MS,
    );
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [followed, tick, merge, path, running]);

  /** Shows `entry` (new or newer) and asks about running ones soon again. */
  const follow = useCallback(
    (entry) => {
      merge([entry]);
      setTick(0);
    },
    [merge],
  );

  return { entries, problem, setProblem, load, merge, follow };
}
