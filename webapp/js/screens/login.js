// Log in with e-mail and password; the API answers with an HttpOnly session cookie.
import { errorMessage } from "../errors.js";
import { html, useState } from "../html.js";
import { t } from "../i18n.js";
import { href, navigate } from "../router.js";
import { logIn } from "../session.js";
import { ErrorNote, Field, useTitle } from "../ui.js";

/** Where to go after logging in: a route of this app only (never another site). */
export function safeNext(next) {
  return typeof next === "string" && next.startsWith("/") && !next.startsWith("//")
    ? next
    : "/";
}

export function Login({ next }) {
  useTitle(t("login.title"));
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const member = await logIn(email.trim(), password);
      if (member) navigate(safeNext(next), { replace: true });
      else setError(t("error.cookies"));
    } catch (failure) {
      setError(errorMessage(failure));
      setBusy(false);
    }
  }

  return html`<main class="auth" id="main">
    <div class="auth-card">
      <p class="brand" aria-hidden="true">Helptal</p>
      <h1>${t("login.title")}</h1>
      <form onSubmit=${submit} aria-busy=${busy}>
        ${error ? html`<${ErrorNote} message=${error} />` : null}
        <${Field} label=${t("login.email")}>
          <input
            type="email"
            name="email"
            autocomplete="username"
            required
            value=${email}
            onInput=${(e) => setEmail(e.currentTarget.value)}
          />
        <//>
        <${Field} label=${t("login.password")}>
          <input
            type="password"
            name="password"
            autocomplete="current-password"
            required
            value=${password}
            onInput=${(e) => setPassword(e.currentTarget.value)}
          />
        <//>
        <button type="submit" class="primary" disabled=${busy}>${t("login.submit")}</button>
      </form>
      <p class="switch">
        ${t("login.no_account")} <a href=${href("/signup")}>${t("login.to_signup")}</a>
      </p>
    </div>
  </main>`;
}
