// Every call to the Helptal API. The session is an HttpOnly cookie the API sets at login:
// this module never sees, keeps or sends a token. Every request says it comes from the web
// client (the API refuses state-changing requests without that header: CSRF).

const configured = document.querySelector('meta[name="helptal-api"]')?.content ?? "";
// Empty: the API is on the app's own origin (the local stack).
export const API_BASE = configured.replace(/\/+$/, "");
export const CLIENT_HEADER = "X-Helptal-Client";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.details = details || [];
  }
}

let unauthenticated = () => {};

/** Called on any 401 (except where the caller expects one): the app goes to /login. */
export function onUnauthenticated(handler) {
  unauthenticated = handler;
}

export function apiUrl(path) {
  return API_BASE + path;
}

/**
 * `method path` with an optional JSON body; resolves to the JSON answer (null for 204),
 * rejects with ApiError. `expect401`: a 401 is the caller's to handle (login form).
 */
export async function call(method, path, options = {}) {
  return (await exchange(method, path, options)).data;
}

/**
 * A GET that the API may answer 304 (nothing changed since `etag`):
 * resolves to {status, etag, data} (data null on 304).
 */
export function conditionalGet(path, etag, options = {}) {
  return exchange("GET", path, { ...options, etag });
}

async function exchange(method, path, { body, signal, expect401 = false, etag } = {}) {
  const headers = { [CLIENT_HEADER]: "web", Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (etag) headers["If-None-Match"] = etag;
  let response;
  try {
    response = await fetch(apiUrl(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "include",
      cache: "no-store",
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network_error", "");
  }
  const tag = response.headers.get("ETag");
  if (response.status === 204 || response.status === 304) {
    return { status: response.status, etag: tag || etag || null, data: null };
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    if (response.status === 401 && !expect401) unauthenticated();
    throw new ApiError(response.status, error.code || "error", error.message, error.details);
  }
  if (data && typeof data === "object" && "token" in data) delete data.token;
  return { status: response.status, etag: tag, data };
}

export const get = (path, options) => call("GET", path, options);
export const post = (path, body, options) => call("POST", path, { ...options, body });

/** `/v1/...?a=1&b=2` from the parameters that are set. */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(name, value);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
