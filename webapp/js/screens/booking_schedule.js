// Booking: a member's availability (/v1/booking/schedules/{user_id}, `me` for one's own): the
// time zone, weekly hours per weekday (several spans a day), and date overrides (other hours
// that day, or none: a holiday). Members edit their own; owners and admins pick anyone's.
import { call, get } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useCallback, useEffect, useRef, useState } from "../html.js";
import { currentLanguage, t } from "../i18n.js";
import { currentRoute, navigate, queryParam } from "../router.js";
import { ErrorNote, Loading, useTitle } from "../ui.js";
import {
  BookingField,
  BookingNav,
  aria,
  browserZone,
  fieldProblems,
  problemAt,
  timeZones,
  useMembers,
} from "./booking_event_types.js";
import { MANAGERS } from "./settings_api_keys.js";
import { WEEKDAYS } from "./settings_chat.js";

// Monday first, as the schedule numbers them (0 Monday .. 6 Sunday).
const DAY_NAMES = [
  () => t("chat.day_mon"),
  () => t("chat.day_tue"),
  () => t("chat.day_wed"),
  () => t("chat.day_thu"),
  () => t("chat.day_fri"),
  () => t("chat.day_sat"),
  () => t("chat.day_sun"),
];

const hhmm = (value) => String(value || "").slice(0, 5);
// A time input cannot say 24:00: midnight at the end of a day shows as 00:00 and goes back as
// 24:00 (an end is after its start).
const spansOf = (list) =>
  (list || []).map((s) => ({ start: hhmm(s.start), end: hhmm(s.end) === "24:00" ? "00:00" : hhmm(s.end) }));
const sentSpans = (list) =>
  list
    .map((s) => ({ start: s.start, end: s.end === "00:00" ? "24:00" : s.end }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));

/** The form's values from the API's schedule; weekly hours keyed by day name (`mon`) or
 * number, and overrides as a map of dates or a list, whichever the API sends (it is sent
 * back so). */
export function fieldsOf(schedule) {
  const weekly = [[], [], [], [], [], [], []];
  const keys = Object.keys(schedule.weekly || {});
  const named = !keys.length || keys.some((k) => WEEKDAYS.includes(k));
  for (const [key, spans] of Object.entries(schedule.weekly || {})) {
    const day = named ? WEEKDAYS.indexOf(key) : Number(key);
    if (day >= 0 && day < 7) weekly[day] = spansOf(spans);
  }
  const raw = schedule.overrides || {};
  const overrides = Array.isArray(raw)
    ? raw.map((o) => ({ date: o.date, spans: spansOf(o.hours || o.spans) }))
    : Object.entries(raw).map(([date, spans]) => ({ date, spans: spansOf(spans) }));
  overrides.sort((a, b) => (a.date < b.date ? -1 : 1));
  return {
    time_zone: schedule.time_zone || browserZone(),
    weekly,
    overrides,
    named,
    overridesAsList: Array.isArray(raw),
  };
}

export function bodyOf(fields) {
  const weekly = {};
  fields.weekly.forEach((spans, day) => {
    weekly[fields.named ? WEEKDAYS[day] : String(day)] = sentSpans(spans);
  });
  const kept = fields.overrides.filter((o) => o.date);
  const overrides = fields.overridesAsList
    ? kept.map((o) => ({ date: o.date, hours: sentSpans(o.spans) }))
    : Object.fromEntries(kept.map((o) => [o.date, sentSpans(o.spans)]));
  return { time_zone: fields.time_zone, weekly, overrides };
}

/** A span after `last` (an hour from its end), or 09:00–17:00 for a day's first. */
function nextSpan(last) {
  if (!last || !last.end || last.end === "00:00") return { start: "09:00", end: "17:00" };
  const [h, m] = last.end.split(":").map(Number);
  const end = h >= 23 ? "00:00" : `${String(h + 1).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
  return { start: last.end, end };
}

/** The spans of one day (a weekday or a date), each with its start and end. */
function Spans({ spans, name, onChange, idPrefix }) {
  return html`<div class="slots">
    ${spans.length ? null : html`<span class="muted">${t("booking.unavailable")}</span>`}
    ${spans.map(
      (span, i) => html`<div class="slot" key=${i}>
        <input type="time" step="300" value=${span.start} required id=${`${idPrefix}-${i}-start`}
          aria-label=${t("booking.span_from", { day: name })}
          onInput=${(e) => onChange(spans.map((s, j) => (j === i ? { ...s, start: e.currentTarget.value } : s)))} />
        <span aria-hidden="true">–</span>
        <input type="time" step="300" value=${span.end} required
          aria-label=${t("booking.span_to", { day: name })}
          onInput=${(e) => onChange(spans.map((s, j) => (j === i ? { ...s, end: e.currentTarget.value } : s)))} />
        <button type="button" class="link" aria-label=${t("booking.remove_span", { day: name })}
          onClick=${() => onChange(spans.filter((s, j) => j !== i))}>${t("chat.remove")}</button>
      </div>`,
    )}
    <button type="button" class="link" aria-label=${t("booking.add_span_for", { day: name })}
      onClick=${() => {
        onChange([...spans, nextSpan(spans[spans.length - 1])]);
        setTimeout(() => {
          const added = document.getElementById(`${idPrefix}-${spans.length}-start`);
          if (added) added.focus();
        }, 0);
      }}>
      ${t("booking.add_span")}
    </button>
  </div>`;
}

function dateName(iso) {
  if (!iso) return t("booking.new_date");
  const [y, m, d] = iso.split("-").map(Number);
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: "full", timeZone: "UTC" }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

function Overrides({ fields, setFields, problems }) {
  const list = fields.overrides;
  const set = (i, change) =>
    setFields({ ...fields, overrides: list.map((o, j) => (j === i ? { ...o, ...change } : o)) });
  const add = (holiday) => {
    setFields({ ...fields, overrides: [...list, { date: "", spans: holiday ? [] : [{ start: "09:00", end: "13:00" }] }] });
    setTimeout(() => {
      const inputs = document.querySelectorAll(".overrides input[type='date']");
      if (inputs.length) inputs[inputs.length - 1].focus();
    }, 0);
  };
  return html`<fieldset class="overrides">
    <legend>${t("booking.overrides")}</legend>
    <p class="muted">${t("booking.overrides_lead")}</p>
    ${list.length ? null : html`<p class="muted">${t("booking.no_overrides")}</p>`}
    <ul class="weekdays">
      ${list.map((o, i) => {
        const name = dateName(o.date);
        const problem = problemAt(problems, `overrides.${o.date}`) || problemAt(problems, `overrides.${i}`);
        return html`<li key=${i}><div class="weekday" role="group" aria-label=${name}>
          <div>
            <${BookingField} id=${`ov-${i}-date`} label=${t("booking.override_date")} problem=${problem}>
              <input id=${`ov-${i}-date`} type="date" value=${o.date} required
                ...${aria(`ov-${i}-date`, false, problem)}
                onInput=${(e) => set(i, { date: e.currentTarget.value })} />
            <//>
            <label class="check">
              <input type="checkbox" checked=${o.spans.length === 0}
                onChange=${(e) => set(i, { spans: e.currentTarget.checked ? [] : [{ start: "09:00", end: "17:00" }] })} />
              ${t("booking.unavailable_all_day")}
            </label>
          </div>
          <div>
            ${o.spans.length
              ? html`<${Spans} spans=${o.spans} name=${name} idPrefix=${`ov-${i}`}
                  onChange=${(spans) => set(i, { spans })} />`
              : null}
            <button type="button" class="link" aria-label=${t("booking.remove_override", { date: name })}
              onClick=${() => setFields({ ...fields, overrides: list.filter((x, j) => j !== i) })}>
              ${t("booking.remove_override_short")}
            </button>
          </div>
        </div></li>`;
      })}
    </ul>
    <div class="actions">
      <button type="button" class="secondary" onClick=${() => add(false)}>${t("booking.add_override")}</button>
      <button type="button" class="secondary" onClick=${() => add(true)}>${t("booking.add_holiday")}</button>
    </div>
  </fieldset>`;
}

export function Availability({ me }) {
  useTitle(t("booking.availability"));
  const manager = MANAGERS.includes(me.role);
  const own = me.user ? me.user.id : "";
  const wanted = (manager && queryParam(currentRoute(), "user")) || own || "me";
  const [userId, setUserId] = useState(wanted);
  const [fields, setFields] = useState(null);
  const [problem, setProblem] = useState(null);
  const [problems, setProblems] = useState({});
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState("");
  const members = useMembers();
  const errorRef = useRef(null);
  const editable = manager || userId === own || userId === "me";

  const load = useCallback(async () => {
    setProblem(null);
    setFields(null);
    try {
      const path = userId === own ? "me" : userId;
      const answer = await get(`/v1/booking/schedules/${encodeURIComponent(path)}`);
      setFields(fieldsOf(answer.schedule || answer));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }, [userId, own]);
  useEffect(() => {
    load();
  }, [load]);

  function pickMember(id) {
    setUserId(id);
    setSaved("");
    setProblems({});
    navigate(id === own ? "/booking/availability" : `/booking/availability?user=${encodeURIComponent(id)}`, {
      replace: true,
    });
  }

  async function save(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setProblems({});
    setSaved("");
    try {
      const path = userId === own ? "me" : userId;
      const answer = await call("PUT", `/v1/booking/schedules/${encodeURIComponent(path)}`, { body: bodyOf(fields) });
      setFields(fieldsOf(answer.schedule || answer));
      setSaved(t("settings.saved"));
    } catch (failure) {
      const found = fieldProblems(failure);
      setProblems(found);
      setProblem(Object.keys(found).length ? t("error.invalid_fields") : errorMessage(failure));
      setTimeout(() => errorRef.current && errorRef.current.focus(), 0);
    }
    setBusy(false);
  }

  const setDay = (day, spans) => setFields({ ...fields, weekly: fields.weekly.map((s, d) => (d === day ? spans : s)) });
  const zoneProblem = problems && problemAt(problems, "time_zone");
  return html`<main id="main" class="settings-page booking-page">
    <h1>${t("booking.availability")}</h1>
    <${BookingNav} section="availability" />
    <p class="muted">${t("booking.availability_lead")}</p>
    ${manager && members.length
      ? html`<div class="field member-pick">
          <label for="schedule-member"><span class="label">${t("booking.whose_schedule")}</span></label>
          <select id="schedule-member" value=${userId === "me" ? own : userId}
            onChange=${(e) => pickMember(e.currentTarget.value)}>
            ${members.map((m) => html`<option key=${m.id} value=${m.id}>${m.name}${m.id === own ? ` (${t("booking.you")})` : ""}</option>`)}
          </select>
        </div>`
      : null}
    <div tabindex="-1" ref=${errorRef}>
      ${problem ? html`<${ErrorNote} message=${problem} onRetry=${fields ? undefined : load} />` : null}
    </div>
    ${fields === null
      ? problem
        ? null
        : html`<${Loading} />`
      : html`<form class="settings-form schedule-form" onSubmit=${save} aria-busy=${busy} novalidate>
          <fieldset disabled=${!editable || busy}>
            <${BookingField} id="schedule-zone" label=${t("settings.timezone")} hint=${t("booking.zone_hint")}
              problem=${zoneProblem}>
              <select id="schedule-zone" name="time_zone" value=${fields.time_zone}
                ...${aria("schedule-zone", true, zoneProblem)}
                onChange=${(e) => setFields({ ...fields, time_zone: e.currentTarget.value })}>
                ${timeZones(fields.time_zone).map((zone) => html`<option key=${zone} value=${zone}>${zone}</option>`)}
              </select>
            <//>
          </fieldset>
          <fieldset disabled=${!editable || busy}>
            <legend>${t("booking.weekly_hours")}</legend>
            <div class="weekdays">
              ${DAY_NAMES.map((dayName, day) => {
                const name = dayName();
                const problem =
                  problemAt(problems, `weekly.${day}`) || problemAt(problems, `weekly.${WEEKDAYS[day]}`);
                return html`<div key=${day} class="weekday" role="group" aria-labelledby=${`schedule-day-${day}`}>
                  <span class="day-name" id=${`schedule-day-${day}`}>${name}</span>
                  <div>
                    <${Spans} spans=${fields.weekly[day]} name=${name} idPrefix=${`wk-${day}`}
                      onChange=${(spans) => setDay(day, spans)} />
                    ${problem ? html`<span class="field-problem">${problem}</span>` : null}
                  </div>
                </div>`;
              })}
            </div>
          </fieldset>
          <fieldset disabled=${!editable || busy}>
            <${Overrides} fields=${fields} setFields=${setFields} problems=${problems} />
          </fieldset>
          <div class="form-actions">
            <button type="submit" class="primary" disabled=${!editable || busy}>${t("settings.save")}</button>
            <span role="status">${saved}</span>
          </div>
        </form>`}
  </main>`;
}
