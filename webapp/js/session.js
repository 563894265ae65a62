// Who is logged in, as the API says (GET /v1/me): kept in memory for the page's life only.
// The session itself is the API's HttpOnly cookie; nothing here can read it.

import { call, get, post } from "./api.js";

let me = null;
const listeners = new Set();

export function currentMember() {
  return me;
}

export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function set(value) {
  me = value;
  for (const listener of listeners) listener(me);
}

/** Asks the API who the cookie belongs to; null when no one is logged in. */
export async function refreshSession() {
  try {
    set(await get("/v1/me", { expect401: true }));
  } catch (error) {
    if (error.status !== 401) throw error;
    set(null);
  }
  return me;
}

export async function logIn(email, password) {
  await post("/v1/auth/login", { email, password }, { expect401: true });
  return refreshSession();
}

/**
 * Creates the workspace. For an address that already has an account the API answers the
 * same, but the session opens nothing: then `refreshSession` finds no one (null).
 */
export async function signUp(fields) {
  await post("/v1/signup", fields, { expect401: true });
  return refreshSession();
}

export async function logOut() {
  try {
    await call("POST", "/v1/auth/logout", { expect401: true });
  } finally {
    set(null);
  }
}

/** After a 401 from any call: the session ended (expired, revoked elsewhere). */
export function sessionEnded() {
  set(null);
}
