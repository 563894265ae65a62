// Settings > Privacy, "Retention" (/v1/privacy/retention): how long the workspace keeps closed
// tickets: forever, or deleted a number of months (1 to 120) after their last activity by a
// schedule. Shows who changed it and when, and what the schedule's last run deleted.
import { call, get } from "../api.js";
import { html, useCallback, useEffect, useRef, useState } from "../html.js";
import { formatDateTime, formatNumber, t } from "../i18n.js";
import { ErrorNote, Field, Loading } from "../ui.js";
import { actorName, apiProblem } from "./privacy_words.js";

const PATH = "/v1/privacy/retention";
const MONTHS_MIN = 1;
const MONTHS_MAX = 120;
const MONTHS_SUGGESTED = 12;

/** The rule in force, in words. */
function ruleText(months) {
  return months === null || months === undefined
    ? t("privacy.retention_now_forever")
    : t("privacy.retention_now_months", { count: months });
}

/** The months typed, when they are a whole number from 1 to 120; else null. */
function monthsOf(text) {
  const value = Number(String(text).trim());
  return Number.isInteger(value) && value >= MONTHS_MIN && value <= MONTHS_MAX ? value : null;
}

/** The schedule's last run (none until it first applies a rule). */
function LastRun({ policy }) {
  if (!policy.last_applied_at) return null;
  return html`<p class="muted retention-applied">
    ${t("privacy.retention_applied_count", {
      when: formatDateTime(policy.last_applied_at),
      count: policy.last_deleted,
      number: formatNumber(policy.last_deleted),
      total: formatNumber(policy.deleted_total),
    })}
  </p>`;
}

export function RetentionSection({ names }) {
  const [policy, setPolicy] = useState(null);
  const [forever, setForever] = useState(true);
  const [months, setMonths] = useState(String(MONTHS_SUGGESTED));
  const [invalid, setInvalid] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [saved, setSaved] = useState("");
  const monthsInput = useRef(null);

  const shown = (answer) => {
    setPolicy(answer);
    const kept = answer.closed_tickets_after_months;
    setForever(kept === null || kept === undefined);
    if (kept) setMonths(String(kept));
  };

  const load = useCallback(async () => {
    setProblem(null);
    try {
      shown(await get(PATH));
    } catch (failure) {
      setProblem(apiProblem(failure));
    }
  }, []);
  useEffect(() => {
    load();
  }, [load]);

  async function save(event) {
    event.preventDefault();
    setSaved("");
    const chosen = forever ? null : monthsOf(months);
    if (!forever && chosen === null) {
      setInvalid(true);
      if (monthsInput.current) monthsInput.current.focus();
      return;
    }
    setInvalid(false);
    setBusy(true);
    setProblem(null);
    try {
      const answer = await call("PUT", PATH, { body: { closed_tickets_after_months: chosen } });
      shown(answer);
      setSaved(t("privacy.retention_saved", { rule: ruleText(answer.closed_tickets_after_months) }));
    } catch (failure) {
      setProblem(apiProblem(failure));
    }
    setBusy(false);
  }

  return html`<section class="retention-section" aria-labelledby="privacy-retention">
    <h2 id="privacy-retention">${t("privacy.retention_title")}</h2>
    <p class="muted">${t("privacy.retention_lead")}</p>
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${policy ? undefined : load} />` : null}
    ${policy === null
      ? problem
        ? null
        : html`<${Loading} />`
      : html`<form class="retention-form" onSubmit=${save} aria-busy=${busy}>
          <fieldset disabled=${busy}>
            <legend>${t("privacy.retention_closed_tickets")}</legend>
            <label class="check">
              <input type="radio" name="retention" value="forever" checked=${forever}
                onChange=${() => {
                  setForever(true);
                  setInvalid(false);
                }} />
              ${t("privacy.retention_forever")}
            </label>
            <label class="check">
              <input type="radio" name="retention" value="months" checked=${!forever}
                onChange=${() => setForever(false)} />
              ${t("privacy.retention_after")}
            </label>
            ${forever
              ? null
              : html`<div class="retention-months">
                  <${Field} label=${t("privacy.retention_months")} invalid=${invalid}
                    hint=${invalid ? t("privacy.retention_months_invalid", { min: MONTHS_MIN, max: MONTHS_MAX }) : t("privacy.retention_months_hint", { min: MONTHS_MIN, max: MONTHS_MAX })}
                    hintId="retention-months-hint">
                    <input type="number" name="months" inputmode="numeric" required min=${MONTHS_MIN} max=${MONTHS_MAX}
                      step="1" ref=${monthsInput} aria-describedby="retention-months-hint"
                      aria-invalid=${invalid ? "true" : undefined} value=${months}
                      onInput=${(e) => setMonths(e.currentTarget.value)} />
                  <//>
                </div>`}
          </fieldset>
          <div class="form-actions">
            <button type="submit" class="primary" disabled=${busy}>${t("privacy.retention_save")}</button>
          </div>
        </form>
        <p class="retention-rule">
          ${ruleText(policy.closed_tickets_after_months)}
          ${policy.updated_at
            ? html` <span class="muted">${t("privacy.retention_changed", {
                who: actorName(names, policy.updated_by),
                when: formatDateTime(policy.updated_at),
              })}</span>`
            : null}
        </p>
        <${LastRun} policy=${policy} />`}
    <p role="status" class=${saved ? "statement retention-note" : "retention-note"}>${saved}</p>
  </section>`;
}
