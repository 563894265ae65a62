// Booking: the bookings (/v1/booking/bookings): upcoming or past, by host and status, and one
// booking with the invitee's answers and the join link, where a host confirms or declines a
// pending booking, moves it (a free start of its event type, or any date and time) or
// cancels it with a reason.
import { call, get, post, withQuery } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useCallback, useEffect, useRef, useState } from "../html.js";
import { currentLanguage, formatDateTime, t } from "../i18n.js";
import { currentRoute, href, navigate, queryParam } from "../router.js";
import { ErrorNote, Loading, useTitle } from "../ui.js";
import { BookingNav, LOCATION_NAMES, browserZone, useMembers } from "./booking_event_types.js";

export const BOOKING_STATUSES = ["pending", "confirmed", "cancelled", "declined"];
export const BOOKING_STATUS_NAMES = {
  pending: () => t("booking.status_pending"),
  confirmed: () => t("booking.status_confirmed"),
  cancelled: () => t("booking.status_cancelled"),
  declined: () => t("booking.status_declined"),
};
const statusName = (status) => (BOOKING_STATUS_NAMES[status] ? BOOKING_STATUS_NAMES[status]() : status);

export function StatusBadge({ status }) {
  return html`<span class=${`badge booking-${status}`}>${statusName(status)}</span>`;
}

/** "Tue 4 Mar, 10:00–10:30" in the person's language and zone. */
export function whenText(start, end) {
  const from = new Date(start);
  const to = new Date(end);
  const language = currentLanguage();
  const day = new Intl.DateTimeFormat(language, { weekday: "short", day: "numeric", month: "short", year: "numeric" });
  const hour = new Intl.DateTimeFormat(language, { hour: "2-digit", minute: "2-digit" });
  return `${day.format(from)}, ${hour.format(from)}–${hour.format(to)}`;
}

const PAGE = 25;

export function Bookings({ me }) {
  useTitle(t("booking.bookings"));
  const route = currentRoute();
  const when = queryParam(route, "when") === "past" ? "past" : "upcoming";
  const host = queryParam(route, "host") || "";
  const status = queryParam(route, "status") || "";
  const members = useMembers();
  const [items, setItems] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(
    async (after) => {
      setBusy(true);
      setProblem(null);
      const now = new Date().toISOString();
      try {
        const page = await get(
          withQuery("/v1/booking/bookings", {
            from: when === "upcoming" ? now : undefined,
            to: when === "past" ? now : undefined,
            host_id: host,
            status,
            cursor: after,
            limit: PAGE,
          }),
        );
        setItems((shown) => (after && shown ? [...shown, ...page.bookings] : page.bookings));
        setCursor(page.next_cursor || null);
      } catch (failure) {
        setProblem(errorMessage(failure));
      }
      setBusy(false);
    },
    [when, host, status],
  );
  useEffect(() => {
    setItems(null);
    load(null);
  }, [load]);

  const go = (change) => {
    const next = { when, host, status, ...change };
    navigate(withQuery("/booking", { when: next.when === "past" ? "past" : "", host: next.host, status: next.status }), {
      replace: true,
    });
  };
  const names = Object.fromEntries(members.map((m) => [m.id, m.name]));
  return html`<main id="main" class="settings-page booking-page">
    <h1>${t("booking.bookings")}</h1>
    <${BookingNav} section="bookings" />
    <form class="filters booking-filters" aria-label=${t("booking.filters")} onSubmit=${(e) => e.preventDefault()}>
      <div class="field">
        <label for="bk-when"><span class="label">${t("booking.when_filter")}</span></label>
        <select id="bk-when" value=${when} onChange=${(e) => go({ when: e.currentTarget.value })}>
          <option value="upcoming">${t("booking.upcoming")}</option>
          <option value="past">${t("booking.past")}</option>
        </select>
      </div>
      <div class="field">
        <label for="bk-host"><span class="label">${t("booking.host")}</span></label>
        <select id="bk-host" value=${host} onChange=${(e) => go({ host: e.currentTarget.value })}>
          <option value="">${t("booking.any_host")}</option>
          ${members.map((m) => html`<option key=${m.id} value=${m.id}>${m.name}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="bk-status"><span class="label">${t("booking.status")}</span></label>
        <select id="bk-status" value=${status} onChange=${(e) => go({ status: e.currentTarget.value })}>
          <option value="">${t("booking.any_status")}</option>
          ${BOOKING_STATUSES.map((s) => html`<option key=${s} value=${s}>${statusName(s)}</option>`)}
        </select>
      </div>
    </form>
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${() => load(null)} />` : null}
    ${items === null
      ? problem
        ? null
        : html`<${Loading} />`
      : items.length
        ? html`<ul class="tickets booking-list" aria-label=${t("booking.bookings")}>
            ${items.map(
              (b) => html`<li key=${b.id} class="ticket-row">
                <a href=${href(`/booking/bookings/${encodeURIComponent(b.id)}`)}>
                  <span class="subject">${b.title} · ${(b.invitee && b.invitee.name) || ""}</span>
                  <span class="meta">
                    <${StatusBadge} status=${b.status} />
                    <time datetime=${b.start}>${whenText(b.start, b.end)}</time>
                    ${(b.host_ids || []).length
                      ? html`<span class="muted">${b.host_ids.map((id) => names[id] || "").filter(Boolean).join(", ")}</span>`
                      : null}
                  </span>
                </a>
              </li>`,
            )}
          </ul>`
        : html`<p class="empty">${when === "past" ? t("booking.no_past") : t("booking.no_upcoming")}</p>`}
    ${cursor
      ? html`<div class="more">
          <button type="button" class="secondary" disabled=${busy} onClick=${() => load(cursor)}>${t("contacts.more")}</button>
        </div>`
      : null}
  </main>`;
}

/** The next 14 days' free starts of the booking's event type (the public slots), to pick one;
 * or any date and time typed in. */
function Reschedule({ me, booking, onDone, onCancel }) {
  const zone = browserZone();
  const duration = Math.round((new Date(booking.end) - new Date(booking.start)) / 60000);
  const [slots, setSlots] = useState(null);
  const [chosen, setChosen] = useState("");
  const [typed, setTyped] = useState("");
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const first = useRef(null);
  useEffect(() => {
    if (first.current) first.current.focus();
  }, []);
  useEffect(() => {
    let live = true;
    const from = new Date();
    const to = new Date(from.getTime() + 14 * 86400000);
    const slug = booking.event_type_slug;
    get(
      withQuery(`/v1/booking/${encodeURIComponent(me.workspace.slug)}/${encodeURIComponent(slug)}/slots`, {
        from: from.toISOString().slice(0, 10),
        to: to.toISOString().slice(0, 10),
        time_zone: zone,
        duration,
      }),
    ).then(
      (answer) => live && setSlots((answer.slots || []).filter((s) => s.start !== booking.start)),
      () => live && setSlots([]),
    );
    return () => {
      live = false;
    };
  }, [booking.id]);

  async function submit(event) {
    event.preventDefault();
    const start = typed ? new Date(typed).toISOString() : chosen;
    if (!start) {
      setProblem(t("booking.pick_a_time"));
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      onDone(await post(`/v1/booking/bookings/${encodeURIComponent(booking.id)}/reschedule`, { start }), t("booking.rescheduled"));
    } catch (failure) {
      setProblem(failure.code === "slot_taken" ? t("booking.slot_taken") : failure.message || errorMessage(failure));
      setBusy(false);
    }
  }

  const byDay = [];
  for (const slot of slots || []) {
    const day = slot.local_date || slot.start.slice(0, 10);
    if (!byDay.length || byDay[byDay.length - 1][0] !== day) byDay.push([day, []]);
    byDay[byDay.length - 1][1].push(slot);
  }
  const dayName = (iso) => {
    const [y, m, d] = iso.split("-").map(Number);
    return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: "full", timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, d)));
  };
  return html`<form class="settings-form reschedule" onSubmit=${submit} aria-busy=${busy} aria-labelledby="reschedule-heading">
    <h2 id="reschedule-heading" tabindex="-1" ref=${first}>${t("booking.reschedule")}</h2>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <fieldset class="slot-pick" disabled=${busy}>
      <legend>${t("booking.free_times", { zone })}</legend>
      ${slots === null
        ? html`<${Loading} />`
        : byDay.length
          ? byDay.slice(0, 7).map(
              ([day, list]) => html`<div key=${day} class="slot-day" role="group" aria-label=${dayName(day)}>
                <span class="day-name">${dayName(day)}</span>
                <div class="slot-times">
                  ${list.map(
                    (slot) => html`<label key=${slot.start} class="slot-time">
                      <input type="radio" name="start" value=${slot.start} checked=${chosen === slot.start}
                        onChange=${() => {
                          setChosen(slot.start);
                          setTyped("");
                        }} />
                      <span>${slot.local_time || new Intl.DateTimeFormat(currentLanguage(), { hour: "2-digit", minute: "2-digit" }).format(new Date(slot.start))}</span>
                    </label>`,
                  )}
                </div>
              </div>`,
            )
          : html`<p class="muted">${t("booking.no_free_times")}</p>`}
    </fieldset>
    <div class="field">
      <label for="reschedule-at"><span class="label">${t("booking.other_time")}</span></label>
      <input id="reschedule-at" type="datetime-local" step="300" value=${typed} aria-describedby="reschedule-at-hint"
        onInput=${(e) => {
          setTyped(e.currentTarget.value);
          if (e.currentTarget.value) setChosen("");
        }} />
      <span class="hint" id="reschedule-at-hint">${t("booking.other_time_hint", { zone })}</span>
    </div>
    <div class="form-actions">
      <button type="submit" class="primary" disabled=${busy}>${t("booking.move")}</button>
      <button type="button" class="secondary" onClick=${onCancel}>${t("common.cancel")}</button>
    </div>
  </form>`;
}

/** Cancelling (or declining a pending booking) with a reason the invitee is told. */
function WithReason({ booking, action, onDone, onCancel }) {
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const box = useRef(null);
  useEffect(() => {
    if (box.current) box.current.focus();
  }, []);
  const decline = action === "decline";
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const answer = await post(`/v1/booking/bookings/${encodeURIComponent(booking.id)}/${action}`, { reason: reason.trim() });
      onDone(answer, decline ? t("booking.declined") : t("booking.cancelled"));
    } catch (failure) {
      setProblem(failure.message || errorMessage(failure));
      setBusy(false);
    }
  }
  return html`<form class="settings-form" onSubmit=${submit} aria-busy=${busy} aria-labelledby="reason-heading">
    <h2 id="reason-heading">${decline ? t("booking.decline") : t("booking.cancel_booking")}</h2>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <div class="field">
      <label for="booking-reason"><span class="label">${t("booking.reason")}</span></label>
      <textarea id="booking-reason" ref=${box} rows="3" maxlength="1000" value=${reason} aria-describedby="booking-reason-hint"
        onInput=${(e) => setReason(e.currentTarget.value)}></textarea>
      <span class="hint" id="booking-reason-hint">${t("booking.reason_hint")}</span>
    </div>
    <div class="form-actions">
      <button type="submit" class="primary danger" disabled=${busy}>
        ${decline ? t("booking.decline_confirm") : t("booking.cancel_confirm")}
      </button>
      <button type="button" class="secondary" onClick=${onCancel}>${t("booking.keep")}</button>
    </div>
  </form>`;
}

function safeLink(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

export function BookingDetail({ me, id }) {
  const [booking, setBooking] = useState(null);
  const [eventType, setEventType] = useState(null);
  const [problem, setProblem] = useState(null);
  const [doing, setDoing] = useState("");
  const [done, setDone] = useState("");
  const [busy, setBusy] = useState(false);
  const members = useMembers();
  const actionsRef = useRef(null);
  useTitle(booking ? booking.title : t("booking.bookings"));

  const load = useCallback(async () => {
    setProblem(null);
    try {
      const found = await get(`/v1/booking/bookings/${encodeURIComponent(id)}`);
      const shown = found.booking || found;
      setBooking(shown);
      if (shown.event_type_id) {
        get(`/v1/booking/event-types/${encodeURIComponent(shown.event_type_id)}`).then(setEventType, () => setEventType(null));
      }
    } catch (failure) {
      setProblem(failure);
    }
  }, [id]);
  useEffect(() => {
    load();
  }, [load]);

  function changed(answer, message) {
    const shown = (answer && (answer.booking || answer)) || null;
    if (shown && shown.id) setBooking(shown);
    else load();
    setDoing("");
    setDone(message);
    setTimeout(() => actionsRef.current && actionsRef.current.focus(), 0);
  }

  async function confirm() {
    setBusy(true);
    setDone("");
    try {
      changed(await post(`/v1/booking/bookings/${encodeURIComponent(id)}/confirm`, {}), t("booking.confirmed"));
    } catch (failure) {
      setDone(failure.message || errorMessage(failure));
    }
    setBusy(false);
  }

  const back = html`<a class="back" href=${href("/booking")}>${t("booking.back_to_bookings")}</a>`;
  if (problem) {
    return html`<main id="main" class="settings-page booking-page">
      ${back}
      <h1>${problem.status === 404 ? t("booking.not_found") : t("booking.bookings")}</h1>
      ${problem.status === 404 ? null : html`<${ErrorNote} message=${errorMessage(problem)} onRetry=${load} />`}
    </main>`;
  }
  if (!booking) return html`<main id="main" class="settings-page booking-page">${back}<${Loading} /></main>`;

  const names = Object.fromEntries(members.map((m) => [m.id, m.name]));
  const labels = Object.fromEntries(((eventType && eventType.questions) || []).map((q) => [q.id, q.label]));
  const invitee = booking.invitee || {};
  const join = safeLink((booking.meeting && booking.meeting.join_url) || booking.join_url || "");
  const location = booking.location || {};
  const active = booking.status === "pending" || booking.status === "confirmed";
  const future = new Date(booking.end) > new Date();
  const answers = Object.entries(booking.answers || {}).filter(([, v]) => String(v || "").trim());
  return html`<main id="main" class="settings-page booking-page booking-detail">
    ${back}
    <h1>${booking.title}</h1>
    <p class="meta">
      <${StatusBadge} status=${booking.status} />
      <time datetime=${booking.start}>${whenText(booking.start, booking.end)}</time>
    </p>
    <section aria-labelledby="booking-who">
      <h2 id="booking-who">${t("booking.invitee")}</h2>
      <dl class="booking-facts">
        <div><dt>${t("booking.name")}</dt><dd>${invitee.name}</dd></div>
        <div><dt>${t("login.email")}</dt><dd><a href=${`mailto:${invitee.email}`}>${invitee.email}</a></dd></div>
        ${invitee.time_zone ? html`<div><dt>${t("booking.invitee_zone")}</dt><dd>${invitee.time_zone}</dd></div>` : null}
        <div><dt>${t("booking.hosts")}</dt><dd>${(booking.host_ids || []).map((h) => names[h] || h).join(", ")}</dd></div>
        <div>
          <dt>${t("booking.location")}</dt>
          <dd>
            ${LOCATION_NAMES[location.kind] ? LOCATION_NAMES[location.kind]() : location.kind}
            ${location.value && location.kind !== "link" ? html` · ${location.value}` : null}
          </dd>
        </div>
        ${join
          ? html`<div><dt>${t("booking.join_link")}</dt><dd><a href=${join} target="_blank" rel="noopener noreferrer">${join}</a></dd></div>`
          : null}
        ${booking.ticket_id
          ? html`<div><dt>${t("booking.ticket")}</dt><dd><a href=${href(`/tickets/${booking.ticket_id}`)}>${t("booking.open_ticket")}</a></dd></div>`
          : null}
        ${booking.contact_id
          ? html`<div><dt>${t("booking.contact")}</dt><dd><a href=${href(`/contacts/${booking.contact_id}`)}>${invitee.name || invitee.email}</a></dd></div>`
          : null}
        ${booking.cancel_reason
          ? html`<div><dt>${t("booking.reason")}</dt><dd class="message-text">${booking.cancel_reason}</dd></div>`
          : null}
        ${booking.rescheduled_from
          ? html`<div><dt>${t("booking.moved_from")}</dt><dd>${formatDateTime(booking.rescheduled_from)}</dd></div>`
          : null}
      </dl>
    </section>
    <section aria-labelledby="booking-answers">
      <h2 id="booking-answers">${t("booking.answers")}</h2>
      ${answers.length
        ? html`<dl class="booking-facts">
            ${answers.map(([key, value]) => html`<div key=${key}><dt>${labels[key] || key}</dt><dd class="message-text">${value}</dd></div>`)}
          </dl>`
        : html`<p class="muted">${t("booking.no_answers")}</p>`}
    </section>
    <div class="booking-actions" tabindex="-1" ref=${actionsRef} aria-label=${t("booking.actions")} role="group">
      <p role="status">${done}</p>
      ${active && future && !doing
        ? html`<div class="actions">
            ${booking.status === "pending"
              ? html`<button type="button" class="primary" disabled=${busy} onClick=${confirm}>${t("booking.confirm")}</button>
                  <button type="button" class="secondary" disabled=${busy} onClick=${() => setDoing("decline")}>${t("booking.decline")}</button>`
              : null}
            <button type="button" class="secondary" disabled=${busy} onClick=${() => setDoing("reschedule")}>${t("booking.reschedule")}</button>
            <button type="button" class="secondary danger" disabled=${busy} onClick=${() => setDoing("cancel")}>${t("booking.cancel_booking")}</button>
          </div>`
        : null}
    </div>
    ${doing === "reschedule"
      ? html`<${Reschedule} me=${me} booking=${booking} onDone=${changed} onCancel=${() => setDoing("")} />`
      : null}
    ${doing === "cancel" || doing === "decline"
      ? html`<${WithReason} booking=${booking} action=${doing} onDone=${changed} onCancel=${() => setDoing("")} />`
      : null}
  </main>`;
}
