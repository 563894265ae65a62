// The app's routes are paths under its base (`<base href>` in index.html: /app/ locally).
// Links are ordinary <a href> elements; a click on one stays in the page.

const BASE = new URL(document.baseURI).pathname.replace(/\/?$/, "/");
const listeners = new Set();

/** The route of the current location ("/", "/login", "/tickets/01H...", "/?q=refund"). */
export function currentRoute() {
  const path = location.pathname;
  let route = path.startsWith(BASE) ? "/" + path.slice(BASE.length) : path;
  if (path === BASE.slice(0, -1)) route = "/";
  return route + location.search;
}

/** The path of a route, without its query. */
export function pathOf(route) {
  return route.split("?")[0];
}

/** One parameter of a route's query ("q" of "/?q=refund"). */
export function queryParam(route, name) {
  const query = route.split("?")[1] || "";
  return new URLSearchParams(query).get(name);
}

/** The href of a route ("/login" -> "/app/login"). */
export function href(route) {
  return BASE + route.replace(/^\/+/, "");
}

export function navigate(route, { replace = false } = {}) {
  const target = href(route);
  if (target !== location.pathname + location.search) {
    history[replace ? "replaceState" : "pushState"](null, "", target);
  }
  notify();
}

export function onRouteChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify() {
  for (const listener of listeners) listener(currentRoute());
}

/** `{id: "..."}` when `route` fits `pattern` ("/tickets/:id"), else null. */
export function match(pattern, route) {
  const want = pattern.split("/").filter(Boolean);
  const got = route.split("?")[0].split("/").filter(Boolean);
  if (want.length !== got.length) return null;
  const params = {};
  for (let i = 0; i < want.length; i += 1) {
    if (want[i].startsWith(":")) {
      try {
        params[want[i].slice(1)] = decodeURIComponent(got[i]);
      } catch {
        return null;
      }
    } else if (want[i] !== got[i]) {
      return null;
    }
  }
  return params;
}

window.addEventListener("popstate", notify);
document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest && event.target.closest("a[href]");
  if (!link || link.target || link.hasAttribute("download")) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(BASE)) return;
  event.preventDefault();
  history.pushState(null, "", url.pathname + url.search);
  notify();
});
