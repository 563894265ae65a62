// "Forgot your password?": the API mails the account's owner a single-use link to a page
// where they choose a new one. The answer is the same whether or not the account exists.
import { errorMessage } from "../errors.js";
import { html, useState } from "../html.js";
import { currentLanguage, t } from "../i18n.js";
import { href } from "../router.js";
import { askPasswordReset } from "../session.js";
import { ErrorNote, Field, useTitle } from "../ui.js";

export function ForgotPassword() {
  useTitle(t("forgot.title"));
  const [email, setEmail] = useState("");
  const [sentTo, setSentTo] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await askPasswordReset(email.trim(), currentLanguage());
      setSentTo(email.trim());
    } catch (failure) {
      setError(errorMessage(failure));
    }
    setBusy(false);
  }

  return html`<main class="auth" id="main">
    <div class="auth-card">
      <p class="brand" aria-hidden="true">Helptal</p>
      <h1>${t("forgot.title")}</h1>
      ${sentTo
        ? html`<p role="status">${t("forgot.sent", { email: sentTo })}</p>`
        : html`<p class="lead">${t("forgot.lead")}</p>
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
              <button type="submit" class="primary" disabled=${busy}>
                ${t("forgot.submit")}
              </button>
            </form>`}
      <p class="switch"><a href=${href("/login")}>${t("forgot.back")}</a></p>
    </div>
  </main>`;
}
