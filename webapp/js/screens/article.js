// A knowledge-base article as the team sees it (links in e-mails lead here).
import { API_BASE, get } from "../api.js";
import { errorMessage } from "../errors.js";
import { IsolatedHtml } from "../frames.js";
import { html, useCallback, useEffect, useState } from "../html.js";
import { formatDateTime, t } from "../i18n.js";
import { href } from "../router.js";
import { ErrorNote, Loading, useTitle } from "../ui.js";

export function Article({ me, id }) {
  const [article, setArticle] = useState(null);
  const [error, setError] = useState(null);
  useTitle(article ? article.title : t("article.title"));

  const load = useCallback(async () => {
    setError(null);
    try {
      setArticle(await get(`/v1/kb/articles/${encodeURIComponent(id)}`));
    } catch (failure) {
      setError(failure);
    }
  }, [id]);
  useEffect(() => {
    setArticle(null);
    load();
  }, [load]);

  if (error) {
    return html`<main id="main" class="article-page">
      <h1>${error.status === 404 ? t("article.not_found") : t("article.title")}</h1>
      ${error.status === 404
        ? html`<p><a href=${href("/")}>${t("not_found.to_inbox")}</a></p>`
        : html`<${ErrorNote} message=${errorMessage(error)} onRetry=${load} />`}
    </main>`;
  }
  if (!article) return html`<main id="main" class="article-page"><${Loading} /></main>`;
  const published = article.status === "published";
  const publicUrl = `${API_BASE}/hc/${me.workspace.slug}/${article.locale}/articles/${article.slug}`;
  return html`<main id="main" class="article-page">
    <a class="back" href=${href("/kb")}>${t("kb.back")}</a>
    <h1>${article.title}</h1>
    <p class="meta">
      <span class=${`badge article-${article.status}`}>${t(`article.status.${article.status}`)}</span>
      <span>${t(`language.${article.locale}`)}</span>
      <span>${t("article.updated", { when: formatDateTime(article.updated_at) })}</span>
      ${published
        ? html`<a href=${publicUrl} target="_blank" rel="noopener">${t("article.on_help_centre")}</a>`
        : null}
    </p>
    <${IsolatedHtml} body=${article.html} title=${article.title} lang=${article.locale} tall=${true} />
  </main>`;
}
