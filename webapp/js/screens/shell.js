// The frame around every screen of a logged-in member: the product, the workspace, the
// main navigation and the member's own menu (with "Log out").
import { errorMessage } from "../errors.js";
import { html, useEffect, useMemo, useRef, useState } from "../html.js";
import { t } from "../i18n.js";
import { href, navigate } from "../router.js";
import { logOut, resendConfirmation } from "../session.js";
import { SHORTCUTS, useShortcuts } from "../shortcuts.js";
import { NotificationBell } from "./notifications.js";
import { PrivacyBanner } from "./privacy_notices.js";
import { DeletionBanner } from "./workspace_deletion.js";

/** The list of keyboard shortcuts, in a modal dialog ("?" opens it, Escape closes it). */
function ShortcutsHelp({ onClose }) {
  const dialog = useRef(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element && element.open && element.close();
  }, []);
  return html`<dialog
    class="shortcuts"
    ref=${dialog}
    aria-labelledby="shortcuts-title"
    onClose=${onClose}
  >
    <h2 id="shortcuts-title">${t("shortcuts.title")}</h2>
    <dl>
      ${SHORTCUTS.map(
        ([key, label]) => html`<div key=${key}><dt><kbd>${key}</kbd></dt><dd>${t(label)}</dd></div>`,
      )}
    </dl>
    <form method="dialog"><button class="secondary">${t("shortcuts.close_help")}</button></form>
  </dialog>`;
}

/** Until the person confirms their address, the workspace sends customers nothing. */
function ConfirmAddress({ email }) {
  const [state, setState] = useState("");
  async function resend() {
    setState("busy");
    try {
      await resendConfirmation();
      setState(t("confirm.sent", { email }));
    } catch (failure) {
      setState(errorMessage(failure));
    }
  }
  return html`<div class="banner" role="region" aria-label=${t("confirm.label")}>
    <p>${t("confirm.text", { email })}</p>
    <button type="button" class="secondary" onClick=${resend} disabled=${state === "busy"}>
      ${t("confirm.resend")}
    </button>
    <span role="status">${state === "busy" ? "" : state}</span>
  </div>`;
}

export function Shell({ me, section, children }) {
  const menu = useRef(null);
  const name = (me.user && me.user.name) || t("shell.api_key");
  const [help, setHelp] = useState(false);
  const keys = useMemo(() => ({ "?": () => setHelp(true) }), []);
  useShortcuts(keys);

  async function leave() {
    if (menu.current) menu.current.open = false;
    try {
      await logOut();
    } finally {
      navigate("/login", { replace: true });
    }
  }

  return html`<div class="shell">
    <a class="skip" href="#main">${t("shell.skip")}</a>
    <header class="topbar">
      <a class="brand" href=${href("/")}>Helptal</a>
      <span class="workspace" title=${t("shell.workspace")}>${me.workspace.name}</span>
      <nav class="primary-nav" aria-label=${t("shell.navigation")}>
        <a href=${href("/")} aria-current=${section === "inbox" ? "page" : undefined}>
          ${t("shell.inbox")}
        </a>
        <a href=${href("/contacts")} aria-current=${section === "contacts" ? "page" : undefined}>
          ${t("shell.contacts")}
        </a>
        <a href=${href("/kb")} aria-current=${section === "kb" ? "page" : undefined}>
          ${t("shell.kb")}
        </a>
        <a href=${href("/chat/insights")} aria-current=${section === "chat" ? "page" : undefined}>
          ${t("shell.chat_insights")}
        </a>
        <a href=${href("/booking")} aria-current=${section === "booking" ? "page" : undefined}>
          ${t("shell.booking")}
        </a>
        <a href=${href("/settings")} aria-current=${section === "settings" ? "page" : undefined}>
          ${t("shell.settings")}
        </a>
      </nav>
      ${me.user ? html`<${NotificationBell} current=${section === "notifications"} />` : null}
      <details class="user-menu" ref=${menu}>
        <summary aria-label=${t("shell.user_menu", { name })}>
          <span class="avatar" aria-hidden="true" data-initials=${initials(name)}></span>
          <span class="user-name">${name}</span>
        </summary>
        <div class="menu">
          ${me.user
            ? html`<p class="who">
                <strong>${me.user.name}</strong><br /><span>${me.user.email}</span><br />
                <span class="role">${t(`role.${me.role}`)}</span>
              </p>`
            : null}
          ${me.user
            ? html`<a class="menu-link" href=${href("/profile")}
                onClick=${() => menu.current && (menu.current.open = false)}>${t("shell.profile")}</a>`
            : null}
          <button type="button" class="secondary" onClick=${leave}>${t("shell.log_out")}</button>
        </div>
      </details>
    </header>
    ${me.user && me.user.email_confirmed === false
      ? html`<${ConfirmAddress} email=${me.user.email} />`
      : null}
    <${PrivacyBanner} me=${me} />
    <${DeletionBanner} me=${me} />
    ${children}
    ${help ? html`<${ShortcutsHelp} onClose=${() => setHelp(false)} />` : null}
  </div>`;
}

/* The account menu draws these with CSS (data-initials), so that the only visible text of
 * the menu's button is the person's name, which its label contains. */
function initials(name) {
  const words = String(name).trim().split(/\s+/).filter(Boolean);
  return (words[0]?.[0] || "?").toUpperCase() + (words[1]?.[0] || "").toUpperCase();
}
