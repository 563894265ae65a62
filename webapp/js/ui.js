// Small pieces every screen uses.
import { html, useEffect } from "./html.js";
import { t } from "./i18n.js";
import { navigate } from "./router.js";

/** Sets the tab's title while the screen is shown. */
export function useTitle(text) {
  useEffect(() => {
    document.title = text ? `${text} · Helptal` : "Helptal";
  }, [text]);
}

/** Goes to `to` (replacing the current history entry) as soon as it renders. */
export function Redirect({ to }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

export function Loading({ label }) {
  return html`<p class="loading" role="status">${label || t("common.loading")}</p>`;
}

export function ErrorNote({ message, onRetry }) {
  return html`<div class="error" role="alert">
    <p>${message}</p>
    ${onRetry
      ? html`<button type="button" class="secondary" onClick=${onRetry}>
          ${t("common.retry")}
        </button>`
      : null}
  </div>`;
}

/** A labelled form field: the label's text is the control's accessible name; a hint, given
 * with `hintId`, is outside the label (the control names it with aria-describedby). */
export function Field({ label, hint, hintId, invalid, children }) {
  return html`<div class=${invalid ? "field invalid" : "field"}>
    <label>
      <span class="label">${label}</span>
      ${children}
    </label>
    ${hint ? html`<span class="hint" id=${hintId}>${hint}</span>` : null}
  </div>`;
}
