// The planned sub-processor changes in their notice period (/v1/privacy/subprocessor-changes),
// asked once per session and shared: the banner every screen shows owners and admins until
// each of them dismisses it, and Settings > Privacy, which tells the banner what changed.
import { get, post } from "../api.js";
import { html, useEffect, useState } from "../html.js";
import { currentLanguage, t } from "../i18n.js";
import { formatDate } from "../money.js";
import { href } from "../router.js";

const MANAGERS = ["owner", "admin"];
const PATH = "/v1/privacy/subprocessor-changes";

let shared = { key: "", answer: null, asked: null };
const listeners = new Set();

function publish(key, answer) {
  shared = { key, answer, asked: null };
  listeners.forEach((listener) => listener(key, answer));
}

/** Who sees the notices: one member of one workspace. */
export const noticeKey = (me) => `${me.workspace.id}:${me.user ? me.user.id : "key"}`;

/** The answer for `key`, asked once (again with `fresh`). */
export function loadNotices(key, { fresh = false } = {}) {
  if (!fresh && shared.key === key && shared.answer) return Promise.resolve(shared.answer);
  if (!fresh && shared.key === key && shared.asked) return shared.asked;
  const asked = get(PATH).then((answer) => {
    publish(key, answer);
    return answer;
  });
  shared = { key, answer: shared.key === key ? shared.answer : null, asked };
  return asked;
}

/** Settings > Privacy changed something: the banner shows the answer given. */
export function noticesChanged(key, answer) {
  publish(key, answer);
}

/** A change's words in the reader's language. */
export const inLanguage = (words) => (words ? words[currentLanguage()] || words.en : "");

/** The public list, in the reader's language. */
export function publicPage(url) {
  return `${url}${url.includes("?") ? "&" : "?"}lang=${currentLanguage()}`;
}

export function PrivacyBanner({ me }) {
  const manager = Boolean(me.user) && MANAGERS.includes(me.role);
  const key = noticeKey(me);
  const [answer, setAnswer] = useState(() => (shared.key === key ? shared.answer : null));
  const [busy, setBusy] = useState("");

  useEffect(() => {
    if (!manager) return undefined;
    let gone = false;
    const listener = (changedKey, changed) => changedKey === key && !gone && setAnswer(changed);
    listeners.add(listener);
    // Not shown is better than in the way: a failure to ask leaves the screen as it was.
    loadNotices(key).then((loaded) => !gone && setAnswer(loaded), () => {});
    return () => {
      gone = true;
      listeners.delete(listener);
    };
  }, [key, manager]);

  if (!manager || !answer) return null;
  const shown = answer.changes.filter((notice) => !notice.dismissed);
  if (shown.length === 0) return null;

  async function dismiss(notice) {
    setBusy(notice.change.id);
    try {
      const dismissed = await post(`${PATH}/${encodeURIComponent(notice.change.id)}/dismiss`, {});
      const changes = answer.changes.map((n) => (n.change.id === dismissed.change.id ? dismissed : n));
      publish(key, { ...answer, changes });
    } catch {
      setBusy("");
      return;
    }
    setBusy("");
  }

  return html`<section class="banner privacy-banner" aria-label=${t("privacy.banner_label")}>
    <ul>
      ${shown.map(
        (notice) => html`<li key=${notice.change.id}>
          <p>
            <strong>${t("privacy.banner_title", { date: formatDate(notice.change.effective_at) })}</strong>
            ${" "}${inLanguage(notice.change.summary)}
          </p>
          <div class="privacy-banner-actions">
            <a href=${publicPage(answer.page_url)}>${t("privacy.public_list")}</a>
            <a href=${href("/settings/privacy")}>${t("privacy.banner_review")}</a>
            <button type="button" class="secondary" disabled=${busy === notice.change.id}
              onClick=${() => dismiss(notice)}>${t("privacy.banner_dismiss")}</button>
          </div>
        </li>`,
      )}
    </ul>
  </section>`;
}
