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

/**
 * Asks the API who the cookie belongs to (and, at the same time, the person's own language
 * from their profile, as `locale`); null when no one is logged in.
 */
export async function refreshSession() {
  const profile = get("/v1/me/profile", { expect401: true }).catch(() => null);
  try {
    const member = await get("/v1/me", { expect401: true });
    const own = await profile;
    set({ ...member, locale: (own && own.locale) || null });
  } catch (error) {
    if (error.status !== 401) throw error;
    set(null);
  }
  return me;
}

/** Mails the link that confirms the person's address again. */
export async function resendConfirmation() {
  await post("/v1/auth/email-confirmation/resend", {});
}

/**
 * Logs in: `{member}` once the session is open, or `{challenge}` when the account uses
 * two-factor sign-in (then `completeTwoFactor` with a code opens it).
 */
export async function logIn(email, password) {
  const answer = await post("/v1/auth/login", { email, password }, { expect401: true });
  if (answer && answer.two_factor_required) return { challenge: answer.challenge };
  return { member: await refreshSession() };
}

/** The login's second step: the authenticator's code or one recovery code. */
export async function completeTwoFactor(challenge, code, { recovery = false } = {}) {
  const body = recovery ? { challenge, recovery_code: code } : { challenge, code };
  await post("/v1/auth/login/two-factor", body, { expect401: true });
  return refreshSession();
}

/** Asks for a password-reset link (the API answers the same whether the account exists). */
export async function askPasswordReset(email, locale) {
  await post("/v1/auth/password-reset", { email, locale }, { expect401: true });
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
