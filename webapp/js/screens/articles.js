// The knowledge base's articles, by status and language, newest update first (the editor
// comes later); each opens the article as the team sees it.
import { get, withQuery } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useCallback, useEffect, useState } from "../html.js";
import { LANGUAGES, formatShortTime, t } from "../i18n.js";
import { href } from "../router.js";
import { ErrorNote, Loading, useTitle } from "../ui.js";

export const ARTICLE_STATUSES = ["published", "draft", "internal"];

export function Articles() {
  useTitle(t("kb.title"));
  const [status, setStatus] = useState("");
  const [locale, setLocale] = useState("");
  const [articles, setArticles] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(
    async (after) => {
      setBusy(true);
      setProblem(null);
      try {
        const page = await get(
          withQuery("/v1/kb/articles", { status, locale, cursor: after, limit: 50 }),
        );
        setArticles((shown) => (after && shown ? [...shown, ...page.articles] : page.articles));
        setCursor(page.next_cursor || null);
      } catch (failure) {
        setProblem(failure);
      }
      setBusy(false);
    },
    [status, locale],
  );
  useEffect(() => {
    setArticles(null);
    load(null);
  }, [load]);

  return html`<main id="main" class="articles-page">
    <div class="list-head">
      <h1>${t("kb.title")}</h1>
      <span class="actions">
        <a href=${href("/kb/categories")}>${t("categories.title")}</a>
        <a href=${href("/kb/insights")}>${t("insights.title")}</a>
        <a class="button primary" href=${href("/kb/new")}>${t("editor.new")}</a>
      </span>
    </div>
    <div class="filters">
      <label class="field">
        <span class="label">${t("kb.status")}</span>
        <select value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
          <option value="">${t("kb.any_status")}</option>
          ${ARTICLE_STATUSES.map((s) => html`<option key=${s} value=${s}>${t(`article.status.${s}`)}</option>`)}
        </select>
      </label>
      <label class="field">
        <span class="label">${t("settings.language")}</span>
        <select value=${locale} onChange=${(e) => setLocale(e.currentTarget.value)}>
          <option value="">${t("kb.any_language")}</option>
          ${LANGUAGES.map((l) => html`<option key=${l} value=${l}>${t(`language.${l}`)}</option>`)}
        </select>
      </label>
    </div>
    ${problem ? html`<${ErrorNote} message=${errorMessage(problem)} onRetry=${() => load(null)} />` : null}
    ${articles === null
      ? html`<${Loading} />`
      : articles.length
        ? html`<ul class="tickets" role="list" aria-label=${t("kb.list")}>
            ${articles.map(
              (a) => html`<li key=${a.id} class="ticket-row">
                <a href=${href(`/kb/articles/${a.id}`)}>
                  <span class="subject">${a.title}</span>
                  <span class="meta">
                    <span class=${`badge article-${a.status}`}>${t(`article.status.${a.status}`)}</span>
                    <span>${t(`language.${a.locale}`)}</span>
                    <time datetime=${a.updated_at}>${formatShortTime(a.updated_at)}</time>
                  </span>
                </a>
                <a class="row-action" href=${href(`/kb/articles/${a.id}/edit`)}
                  aria-label=${t("editor.edit_named", { title: a.title })}>${t("editor.edit")}</a>
              </li>`,
            )}
          </ul>`
        : html`<p class="empty">${t("kb.empty")}</p>`}
    ${cursor
      ? html`<div class="more">
          <button type="button" class="secondary" disabled=${busy} onClick=${() => load(cursor)}>
            ${t("kb.more")}
          </button>
        </div>`
      : null}
  </main>`;
}
