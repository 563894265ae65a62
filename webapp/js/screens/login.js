// Log in with e-mail and password (then a code, for two-factor sign-in); the API answers with
// an HttpOnly session cookie.
import { errorMessage } from "../errors.js";
import { html, useState } from "../html.js";
import { t } from "../i18n.js";
import { href, navigate } from "../router.js";
import { completeTwoFactor, logIn } from "../session.js";
import { ErrorNote, Field, useTitle } from "../ui.js";

/** Where to go after logging in: a route of this app only (never another site). */
export function safeNext(next) {
  return typeof next === "string" && next.startsWith("/") && !next.startsWith("//")
    ? next
    : "/";
}

function TwoFactor({ challenge, next, onRestart }) {
  useTitle(t("two_factor.title"));
  const [code, setCode] = useState("");
  const [recovery, setRecovery] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const member = await completeTwoFactor(challenge, code.replace(/\s+/g, ""), { recovery });
      if (member) navigate(safeNext(next), { replace: true });
      else setError(t("error.cookies"));
    } catch (failure) {
      if (failure.code === "invalid_challenge") {
        onRestart(t("error.invalid_challenge"));
        return;
      }
      setError(errorMessage(failure));
      setCode("");
    }
    setBusy(false);
  }

  return html`<main class="auth" id="main">
    <div class="auth-card">
      <p class="brand" aria-hidden="true">Helptal</p>
      <h1>${t("two_factor.title")}</h1>
      <p class="lead">${recovery ? t("two_factor.recovery_lead") : t("two_factor.lead")}</p>
      <form onSubmit=${submit} aria-busy=${busy}>
        ${error ? html`<${ErrorNote} message=${error} />` : null}
        <${Field} label=${recovery ? t("two_factor.recovery_code") : t("two_factor.code")}>
          <input
            name="code"
            autocomplete="one-time-code"
            inputmode=${recovery ? "text" : "numeric"}
            required
            value=${code}
            onInput=${(e) => setCode(e.currentTarget.value)}
          />
        <//>
        <button type="submit" class="primary" disabled=${busy}>${t("two_factor.submit")}</button>
      </form>
      <p class="switch">
        <button
          type="button"
          class="link"
          onClick=${() => {
            setRecovery(!recovery);
            setCode("");
            setError(null);
          }}
        >
          ${recovery ? t("two_factor.use_app") : t("two_factor.use_recovery")}
        </button>
      </p>
    </div>
  </main>`;
}

export function Login({ next }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [challenge, setChallenge] = useState(null);
  useTitle(t("login.title"));

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await logIn(email.trim(), password);
      if (answer.challenge) {
        setPassword("");
        setChallenge(answer.challenge);
      } else if (answer.member) {
        navigate(safeNext(next), { replace: true });
        return;
      } else {
        setError(t("error.cookies"));
      }
    } catch (failure) {
      setError(errorMessage(failure));
    }
    setBusy(false);
  }

  if (challenge) {
    return html`<${TwoFactor}
      challenge=${challenge}
      next=${next}
      onRestart=${(message) => {
        setChallenge(null);
        setError(message);
      }}
    />`;
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
      <p class="switch"><a href=${href("/forgot-password")}>${t("login.forgot")}</a></p>
      <p class="switch">
        ${t("login.no_account")} <a href=${href("/signup")}>${t("login.to_signup")}</a>
      </p>
    </div>
  </main>`;
}
