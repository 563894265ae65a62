// A route the app does not have: a page that says so, with a way back.
import { html } from "../html.js";
import { t } from "../i18n.js";
import { href } from "../router.js";
import { useTitle } from "../ui.js";

export function NotFound({ loggedIn }) {
  useTitle(t("not_found.title"));
  return html`<main class="not-found" id="main">
    <h1>${t("not_found.title")}</h1>
    <p>${t("not_found.text")}</p>
    <p>
      <a class="button primary" href=${href(loggedIn ? "/" : "/login")}>
        ${loggedIn ? t("not_found.to_inbox") : t("login.submit")}
      </a>
    </p>
  </main>`;
}
