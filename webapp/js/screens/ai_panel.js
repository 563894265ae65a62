// The AI teammate on a ticket page, when AI is on for the workspace: triage suggestions to
// apply, a reply drafted from the knowledge base (with its citations, rewritten on request),
// a summary of the conversation, and a message translated into the agent's language. Each is
// a queued job: the panel asks, then polls the job (pollJob) until it is ready or failed.
import { call, get } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useEffect, useState } from "../html.js";
import { currentLanguage, t } from "../i18n.js";
import { href } from "../router.js";
import { ErrorNote } from "../ui.js";
import { languageName } from "./ticket_actions.js";
import { pollJob, useLifetime } from "./ticket_live.js";

/** The workspace's AI settings as they concern a ticket page: null while AI is off. */
export function useAi() {
  const [ai, setAi] = useState(null);
  useEffect(() => {
    let shown = true;
    get("/v1/workspace/ai")
      .then((settings) => {
        if (!shown) return;
        const features = settings.features || {};
        setAi(settings.enabled && settings.configured ? features : null);
      })
      .catch(() => shown && setAi(null));
    return () => {
      shown = false;
    };
  }, []);
  return ai;
}

function failureText(answer) {
  if (answer && answer.status === "pending") return t("aipanel.slow");
  return t("aipanel.failed");
}

function sentimentOf(sentiment) {
  if (sentiment === "negative") return t("aipanel.sentiment.negative");
  if (sentiment === "positive") return t("aipanel.sentiment.positive");
  return t("aipanel.sentiment.neutral");
}

function Triage({ ticket, onChanged }) {
  const triage = ticket.ai && ticket.ai.triage;
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  if (!triage) return null;
  if (triage.status === "pending") {
    return html`<p class="ai-pending" role="status">${t("aipanel.triage_pending")}</p>`;
  }
  if (triage.status !== "ready") return null;
  const tags = (triage.tags || []).filter((tag) => !ticket.tags.includes(tag));
  const priorityDiffers = triage.priority && triage.priority !== ticket.priority;
  async function apply() {
    setBusy(true);
    setProblem(null);
    const changes = {};
    if (priorityDiffers) changes.priority = triage.priority;
    if (tags.length) changes.tags = [...ticket.tags, ...tags];
    try {
      onChanged(await call("PATCH", `/v1/tickets/${ticket.id}`, { body: changes }));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
    setBusy(false);
  }
  return html`<section class="ai-triage" aria-labelledby="ai-triage-heading">
    <h3 id="ai-triage-heading">${t("aipanel.triage")}</h3>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <dl>
      ${triage.priority
        ? html`<dt>${t("ticket.priority")}</dt>
            <dd>
              ${t(`priority.${triage.priority}`)}
              ${triage.priority_reason ? html`<span class="muted"> — ${triage.priority_reason}</span>` : null}
            </dd>`
        : null}
      ${triage.tags && triage.tags.length
        ? html`<dt>${t("ticket.tags")}</dt><dd>${triage.tags.join(", ")}</dd>`
        : null}
      ${triage.sentiment
        ? html`<dt>${t("aipanel.sentiment")}</dt><dd>${sentimentOf(triage.sentiment)}</dd>`
        : null}
      ${triage.summary ? html`<dt>${t("aipanel.summary")}</dt><dd>${triage.summary}</dd>` : null}
    </dl>
    ${priorityDiffers || tags.length
      ? html`<button type="button" class="secondary" disabled=${busy} onClick=${apply}>
          ${t("aipanel.apply_triage")}
        </button>`
      : html`<p class="muted">${t("aipanel.triage_applied")}</p>`}
  </section>`;
}

function Citations({ citations }) {
  if (!citations || !citations.length) return null;
  return html`<ol class="citations" aria-label=${t("aipanel.citations")}>
    ${citations.map(
      (c) => html`<li key=${c.number} value=${c.number}>
        <a href=${href(`/kb/articles/${c.article_id}`)}>${c.title}</a>
      </li>`,
    )}
  </ol>`;
}

function Draft({ ticket, onUse }) {
  const signal = useLifetime();
  const [draft, setDraft] = useState(null);
  const [state, setState] = useState("idle"); // idle, pending, ready, failed
  const [instruction, setInstruction] = useState("");
  const [problem, setProblem] = useState(null);

  useEffect(() => {
    // A draft asked for earlier (another tab, a teammate) is shown as it is.
    get(`/v1/tickets/${ticket.id}/drafts/latest`, { signal })
      .then((latest) => {
        if (latest && latest.status === "ready") {
          setDraft(latest);
          setState("ready");
        }
      })
      .catch(() => null);
  }, [ticket.id]);

  async function ask(body) {
    setState("pending");
    setProblem(null);
    try {
      const first = await call("POST", `/v1/tickets/${ticket.id}/drafts`, { body, signal });
      const answer = await pollJob(`/v1/tickets/${ticket.id}/drafts/latest`, {
        signal,
        first: first.status === "pending" ? null : first,
      });
      if (answer.status === "ready") {
        setDraft(answer);
        setState("ready");
        setInstruction("");
      } else {
        setProblem(failureText(answer));
        setState(draft ? "ready" : "failed");
      }
    } catch (failure) {
      if (failure.name === "AbortError") return;
      setProblem(errorMessage(failure));
      setState(draft ? "ready" : "failed");
    }
  }

  return html`<section class="ai-draft" aria-labelledby="ai-draft-heading" aria-busy=${state === "pending"}>
    <h3 id="ai-draft-heading">${t("aipanel.draft")}</h3>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    ${state === "pending"
      ? html`<p class="ai-pending" role="status">${t("aipanel.drafting")}</p>`
      : null}
    ${draft && state !== "pending"
      ? html`<div class="draft">
          ${draft.answered === false
            ? html`<p class="warning">${t("aipanel.not_answered")}</p>`
            : null}
          <div class="message-text" aria-label=${t("aipanel.draft_text")}>${draft.body}</div>
          <${Citations} citations=${draft.citations} />
          <button type="button" class="primary" onClick=${() => onUse(draft.body)}>
            ${t("aipanel.use_draft")}
          </button>
          <form
            class="rewrite"
            onSubmit=${(e) => {
              e.preventDefault();
              if (instruction.trim()) ask({ instruction: instruction.trim() });
            }}
          >
            <label class="field">
              <span class="label">${t("aipanel.instruction")}</span>
              <input
                type="text"
                maxlength="500"
                placeholder=${t("aipanel.instruction_placeholder")}
                value=${instruction}
                onInput=${(e) => setInstruction(e.currentTarget.value)}
              />
            </label>
            <button type="submit" class="secondary" disabled=${!instruction.trim()}>
              ${t("aipanel.rewrite")}
            </button>
          </form>
        </div>`
      : null}
    ${state !== "pending"
      ? html`<button type="button" class=${draft ? "secondary" : "primary"} onClick=${() => ask({})}>
          ${draft ? t("aipanel.draft_again") : t("aipanel.draft_reply")}
        </button>`
      : null}
  </section>`;
}

function Summary({ ticket }) {
  const signal = useLifetime();
  const [summary, setSummary] = useState(null);
  const [state, setState] = useState("idle");

  async function ask() {
    setState("pending");
    const path = `/v1/tickets/${ticket.id}/summary`;
    try {
      let answer = await pollJob(path, { signal });
      if (answer.status === "failed") {
        answer = await pollJob(path, { signal, first: await call("POST", path, { signal }) });
      }
      setSummary(answer);
      setState(answer.status === "ready" ? "ready" : "failed");
    } catch (failure) {
      if (failure.name !== "AbortError") setState("failed");
    }
  }

  return html`<section class="ai-summary" aria-labelledby="ai-summary-heading">
    <h3 id="ai-summary-heading">${t("aipanel.summary")}</h3>
    ${state === "pending" ? html`<p class="ai-pending" role="status">${t("aipanel.summarising")}</p>` : null}
    ${state === "failed" ? html`<${ErrorNote} message=${failureText(summary)} />` : null}
    ${state === "ready"
      ? html`<p>${summary.summary}</p>
          ${summary.next_step
            ? html`<p><strong>${t("aipanel.next_step")}</strong> ${summary.next_step}</p>`
            : null}`
      : null}
    ${state !== "pending"
      ? html`<button type="button" class="secondary" onClick=${ask}>
          ${state === "ready" ? t("aipanel.summarise_again") : t("aipanel.summarise")}
        </button>`
      : null}
  </section>`;
}

/** The AI panel beside the conversation. `onUse(text)` puts a draft into the reply. */
export function AiPanel({ ai, ticket, onChanged, onUse }) {
  if (!ai) return null;
  return html`<section class="ai-panel" aria-labelledby="ai-panel-heading">
    <h2 id="ai-panel-heading">${t("aipanel.heading")}</h2>
    ${ai.triage !== false ? html`<${Triage} ticket=${ticket} onChanged=${onChanged} />` : null}
    ${ai.drafts !== false && !ticket.merged_into
      ? html`<${Draft} ticket=${ticket} onUse=${onUse} />`
      : null}
    ${ai.summaries !== false ? html`<${Summary} ticket=${ticket} />` : null}
  </section>`;
}

/** "Translate" under a customer's message: its text in the agent's language. */
export function MessageTranslation({ ticket, message }) {
  const signal = useLifetime();
  const [state, setState] = useState("idle");
  const [translation, setTranslation] = useState(null);
  const to = currentLanguage();

  async function translate() {
    setState("pending");
    try {
      const first = await call(
        "POST",
        `/v1/tickets/${ticket.id}/messages/${message.id}/translate`,
        { body: { to }, signal },
      );
      const answer = await pollJob(
        `/v1/tickets/${ticket.id}/messages/${message.id}/translations/${to}`,
        { signal, first: first.status === "pending" ? null : first },
      );
      setTranslation(answer);
      setState(answer.status === "ready" ? "ready" : "failed");
    } catch (failure) {
      if (failure.name !== "AbortError") setState("failed");
    }
  }

  if (state === "idle") {
    return html`<button type="button" class="link" onClick=${translate}>
      ${t("aipanel.translate", { language: languageName(to) })}
    </button>`;
  }
  if (state === "pending") {
    return html`<p class="ai-pending" role="status">${t("aipanel.translating")}</p>`;
  }
  if (state === "failed") return html`<${ErrorNote} message=${failureText(translation)} />`;
  return html`<div class="translation" lang=${to}>
    <p class="muted">
      ${t("aipanel.translated_from", { language: languageName(translation.source_language || "") })}
    </p>
    <div class="message-text">${translation.text}</div>
  </div>`;
}
