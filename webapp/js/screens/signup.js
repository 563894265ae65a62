// Sign up: a new workspace and its first owner, then straight into the inbox.
import { errorMessage, invalidFields } from "../errors.js";
import { html, useState } from "../html.js";
import { currentLanguage, t } from "../i18n.js";
import { href, navigate } from "../router.js";
import { signUp } from "../session.js";
import { ErrorNote, Field, useTitle } from "../ui.js";

function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;
  } catch {
    return undefined;
  }
}

export function Signup() {
  useTitle(t("signup.title"));
  const [fields, setFields] = useState({ workspace_name: "", name: "", email: "", password: "" });
  const [error, setError] = useState(null);
  const [invalid, setInvalid] = useState({});
  const [busy, setBusy] = useState(false);
  const [alreadyMember, setAlreadyMember] = useState(false);
  const update = (name) => (e) => setFields({ ...fields, [name]: e.currentTarget.value });

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setInvalid({});
    const body = {
      workspace_name: fields.workspace_name.trim(),
      name: fields.name.trim(),
      email: fields.email.trim(),
      password: fields.password,
      locale: currentLanguage(),
    };
    const zone = browserTimeZone();
    try {
      let member;
      try {
        member = await signUp(zone ? { ...body, timezone: zone } : body);
      } catch (failure) {
        // A zone the API does not know: the workspace starts in UTC (changeable later).
        if (!zone || !invalidFields(failure).timezone) throw failure;
        member = await signUp(body);
      }
      if (member) navigate("/", { replace: true });
      else setAlreadyMember(true);
    } catch (failure) {
      setError(errorMessage(failure));
      setInvalid(invalidFields(failure));
    }
    setBusy(false);
  }

  if (alreadyMember) {
    return html`<main class="auth" id="main">
      <div class="auth-card">
        <p class="brand" aria-hidden="true">Helptal</p>
        <h1>${t("signup.check_mail_title")}</h1>
        <p>${t("signup.check_mail", { email: fields.email.trim() })}</p>
        <p><a class="button primary" href=${href("/login")}>${t("login.submit")}</a></p>
      </div>
    </main>`;
  }

  return html`<main class="auth" id="main">
    <div class="auth-card">
      <p class="brand" aria-hidden="true">Helptal</p>
      <h1>${t("signup.title")}</h1>
      <p class="lead">${t("signup.lead")}</p>
      <form onSubmit=${submit} aria-busy=${busy}>
        ${error ? html`<${ErrorNote} message=${error} />` : null}
        <${Field} label=${t("signup.workspace_name")} invalid=${invalid.workspace_name}>
          <input
            name="workspace_name"
            autocomplete="organization"
            required
            maxlength="120"
            value=${fields.workspace_name}
            onInput=${update("workspace_name")}
          />
        <//>
        <${Field} label=${t("signup.name")} invalid=${invalid.name}>
          <input
            name="name"
            autocomplete="name"
            required
            maxlength="120"
            value=${fields.name}
            onInput=${update("name")}
          />
        <//>
        <${Field} label=${t("login.email")} invalid=${invalid.email}>
          <input
            type="email"
            name="email"
            autocomplete="email"
            required
            value=${fields.email}
            onInput=${update("email")}
          />
        <//>
        <${Field}
          label=${t("login.password")}
          hint=${t("signup.password_hint")}
          hintId="password-hint"
          invalid=${invalid.password}
        >
          <input
            type="password"
            name="password"
            autocomplete="new-password"
            required
            minlength="10"
            aria-describedby="password-hint"
            value=${fields.password}
            onInput=${update("password")}
          />
        <//>
        <button type="submit" class="primary" disabled=${busy}>${t("signup.submit")}</button>
      </form>
      <p class="switch">
        ${t("signup.have_account")} <a href=${href("/login")}>${t("signup.to_login")}</a>
      </p>
    </div>
  </main>`;
}
