// Search insights: what readers searched the help centre for without finding an answer,
// most frequent first (GET /v1/kb/search-insights): the articles worth writing next.
import { get } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useEffect, useState } from "../html.js";
import { formatDateTime, formatNumber, t } from "../i18n.js";
import { href } from "../router.js";
import { ErrorNote, Loading, useTitle } from "../ui.js";

export function SearchInsights() {
  useTitle(t("insights.title"));
  const [gaps, setGaps] = useState(null);
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    get("/v1/kb/search-insights")
      .then((answer) => setGaps(answer.failed_queries))
      .catch((failure) => setProblem(errorMessage(failure)));
  }, []);
  return html`<main id="main" class="articles-page">
    <p><a href=${href("/kb")}>${t("kb.back")}</a></p>
    <h1>${t("insights.title")}</h1>
    <p class="muted">${t("insights.intro")}</p>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    ${gaps === null && !problem ? html`<${Loading} />` : null}
    ${gaps && gaps.length === 0 ? html`<p>${t("insights.empty")}</p>` : null}
    ${gaps && gaps.length
      ? html`<table class="insights">
          <caption class="visually-hidden">${t("insights.title")}</caption>
          <thead>
            <tr>
              <th scope="col">${t("insights.query")}</th>
              <th scope="col">${t("insights.searches")}</th>
              <th scope="col">${t("insights.last")}</th>
              <th scope="col"><span class="visually-hidden">${t("insights.actions")}</span></th>
            </tr>
          </thead>
          <tbody>
            ${gaps.map(
              (gap) => html`<tr key=${gap.query}>
                <th scope="row">${gap.query}</th>
                <td>${formatNumber(gap.searches)}</td>
                <td>${gap.last_searched_at ? formatDateTime(gap.last_searched_at) : ""}</td>
                <td>
                  <a href=${href("/kb/new")} aria-label=${t("insights.write_for", { query: gap.query })}>
                    ${t("insights.write")}
                  </a>
                </td>
              </tr>`,
            )}
          </tbody>
        </table>`
      : null}
  </main>`;
}
