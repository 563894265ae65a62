// Chat insights for a month (GET /v1/chat/insights?month=YYYY-MM): conversations, how many
// the answer bot answered and resolved, why conversations went to the team, and the
// questions no article answered (each with a way to write that article).
import { get, withQuery } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useEffect, useState } from "../html.js";
import { currentLanguage, formatNumber, t } from "../i18n.js";
import { href, navigate } from "../router.js";
import { ErrorNote, Loading, useTitle } from "../ui.js";

const HANDOFFS = [
  ["no_article", () => t("chat_insights.handoff_no_article")],
  ["visitor_asked", () => t("chat_insights.handoff_visitor_asked")],
  ["unhelpful", () => t("chat_insights.handoff_unhelpful")],
  ["bot_unavailable", () => t("chat_insights.handoff_bot_unavailable")],
];

/** This month, "YYYY-MM", until the API names it (in the workspace's time zone). */
export function thisMonth(now = new Date()) {
  return now.toISOString().slice(0, 7);
}

/** The last 12 months, newest first. */
function recentMonths(now = new Date()) {
  const months = [];
  for (let i = 0; i < 12; i += 1) {
    const when = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    months.push(when.toISOString().slice(0, 7));
  }
  return months;
}

function monthName(month) {
  const [year, number] = month.split("-").map(Number);
  return new Intl.DateTimeFormat(currentLanguage(), {
    month: "long",
    year: "numeric",
    timeZone: "UTC",
  }).format(new Date(Date.UTC(year, number - 1, 1)));
}

function share(value) {
  return new Intl.NumberFormat(currentLanguage(), { style: "percent", maximumFractionDigits: 0 }).format(
    value || 0,
  );
}

export function ChatInsights({ month }) {
  useTitle(t("chat_insights.title"));
  const asked = /^\d{4}-\d{2}$/.test(month || "") ? month : "";
  const [insights, setInsights] = useState(null);
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    let current = true;
    setInsights(null);
    setProblem(null);
    get(withQuery("/v1/chat/insights", { month: asked }))
      .then((answer) => current && setInsights(answer))
      .catch((failure) => current && setProblem(errorMessage(failure)));
    return () => {
      current = false;
    };
  }, [asked]);
  const shown = asked || (insights && insights.month) || thisMonth();
  const months = recentMonths();
  if (!months.includes(shown)) months.push(shown);

  return html`<main id="main" class="articles-page chat-insights">
    <h1>${t("chat_insights.title")}</h1>
    <p class="muted">${t("chat_insights.intro")}</p>
    <label class="field month-picker">
      <span class="label">${t("chat_insights.month")}</span>
      <select name="month" value=${shown}
        onChange=${(e) => navigate(`/chat/insights?month=${encodeURIComponent(e.currentTarget.value)}`)}>
        ${months.map((m) => html`<option key=${m} value=${m}>${monthName(m)}</option>`)}
      </select>
    </label>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    ${insights === null && !problem ? html`<${Loading} />` : null}
    ${insights
      ? html`<section aria-labelledby="chat-figures-heading">
            <h2 id="chat-figures-heading">${t("chat_insights.figures", { month: monthName(shown) })}</h2>
            <dl class="figures">
              <div><dt>${t("chat_insights.conversations")}</dt><dd>${formatNumber(insights.conversations)}</dd></div>
              <div><dt>${t("chat_insights.bot_answered")}</dt><dd>${formatNumber(insights.bot_answered)}</dd></div>
              <div><dt>${t("chat_insights.resolved_by_bot")}</dt><dd>${formatNumber(insights.resolved_by_bot)}</dd></div>
              <div><dt>${t("chat_insights.resolved_share")}</dt><dd>${share(insights.resolved_by_bot_share)}</dd></div>
            </dl>
          </section>
          <section aria-labelledby="chat-handoffs-heading">
            <h2 id="chat-handoffs-heading">${t("chat_insights.handoffs")}</h2>
            <table class="insights">
              <thead><tr>
                <th scope="col">${t("chat_insights.reason")}</th>
                <th scope="col">${t("chat_insights.count")}</th>
              </tr></thead>
              <tbody>
                ${HANDOFFS.map(
                  ([reason, name]) => html`<tr key=${reason}>
                    <th scope="row">${name()}</th>
                    <td>${formatNumber((insights.handoffs || {})[reason] || 0)}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </section>
          <section aria-labelledby="chat-unanswered-heading">
            <h2 id="chat-unanswered-heading">${t("chat_insights.unanswered")}</h2>
            ${(insights.unanswered_questions || []).length
              ? html`<table class="insights">
                  <thead><tr>
                    <th scope="col">${t("chat_insights.question")}</th>
                    <th scope="col">${t("chat_insights.count")}</th>
                    <th scope="col"><span class="visually-hidden">${t("insights.actions")}</span></th>
                  </tr></thead>
                  <tbody>
                    ${insights.unanswered_questions.map(
                      (q) => html`<tr key=${q.question}>
                        <th scope="row">${q.question}</th>
                        <td>${formatNumber(q.count)}</td>
                        <td>
                          <a href=${href("/kb/new")}
                            aria-label=${t("insights.write_for", { query: q.question })}>${t("insights.write")}</a>
                        </td>
                      </tr>`,
                    )}
                  </tbody>
                </table>`
              : html`<p class="empty">${t("chat_insights.no_unanswered")}</p>`}
          </section>`
      : null}
  </main>`;
}
