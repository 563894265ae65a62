// Booking: the event types invitees book (/v1/booking/event-types): the list, with each
// one's public link, and the editor (title, slug, Markdown description, durations, location,
// hosts, buffers, notice, horizon, step, caps, questions, confirmation, visibility, reminders,
// a ticket per booking). Owners and admins change them; agents read them. Also the pieces the
// other booking screens share: their navigation, the API's problems per field, time zones
// and the members.
import { API_BASE, call, get, post } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useCallback, useEffect, useRef, useState } from "../html.js";
import { t } from "../i18n.js";
import { currentRoute, href, navigate, queryParam } from "../router.js";
import { ErrorNote, Loading, useTitle } from "../ui.js";
import { MANAGERS } from "./settings_api_keys.js";

export const BOOKING_SECTIONS = [
  ["bookings", "/booking", () => t("booking.nav_bookings")],
  ["event-types", "/booking/event-types", () => t("booking.nav_event_types")],
  ["availability", "/booking/availability", () => t("booking.nav_availability")],
];

/** The booking screens' own navigation (the calendars are under Settings). */
export function BookingNav({ section }) {
  return html`<nav class="settings-nav booking-nav" aria-label=${t("booking.sections")}>
    ${BOOKING_SECTIONS.map(
      ([name, path, label]) => html`<a key=${name} href=${href(path)}
        aria-current=${section === name ? "page" : undefined}>${label()}</a>`,
    )}
    <a href=${href("/settings/calendars")}>${t("settings.calendars")}</a>
  </nav>`;
}

/** The IANA zones the browser knows, with `current` first when it does not know it. */
export function timeZones(current) {
  let zones = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = ["UTC"];
  }
  if (!zones.includes("UTC")) zones = ["UTC", ...zones];
  return !current || zones.includes(current) ? zones : [current, ...zones];
}

export function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** The workspace's members ([] while loading or when the list cannot be read). */
export function useMembers() {
  const [members, setMembers] = useState([]);
  useEffect(() => {
    let live = true;
    get("/v1/members?limit=100").then(
      (page) => live && setMembers(page.members || []),
      () => live && setMembers([]),
    );
    return () => {
      live = false;
    };
  }, []);
  return members;
}

/** What the API said about each field, by its path ("durations.0", "questions.1.label"). */
export function fieldProblems(failure) {
  const found = {};
  for (const detail of (failure && failure.details) || []) {
    const path = String(detail.field || "").replace(/^body\.?/, "");
    if (path && !found[path]) found[path] = detail.message || t("error.invalid_fields");
  }
  return found;
}

/** The first problem reported for `path` or anything under it. */
export function problemAt(problems, path) {
  const hit = Object.keys(problems).find((p) => p === path || p.startsWith(`${path}.`));
  return hit ? problems[hit] : null;
}

/** A failed save's words: the fields it names, else the API's code in the person's language. */
export function saveProblem(failure, problems) {
  if (Object.keys(problems).length) return t("error.invalid_fields");
  if (failure && failure.code === "slug_taken") return t("booking.slug_taken");
  return errorMessage(failure);
}

const describedBy = (...ids) => ids.filter(Boolean).join(" ") || undefined;

/** A labelled control with a hint and the API's message about it, tied by aria-describedby
 * (the control is given `describedBy(id)` by its caller through `aria`). */
export function BookingField({ id, label, hint, problem, children }) {
  return html`<div class=${problem ? "field invalid" : "field"}>
    <label for=${id}><span class="label">${label}</span></label>
    ${children}
    ${hint ? html`<span class="hint" id=${`${id}-hint`}>${hint}</span>` : null}
    ${problem ? html`<span class="field-problem" id=${`${id}-problem`}>${problem}</span>` : null}
  </div>`;
}

export const aria = (id, hint, problem) => ({
  "aria-invalid": problem ? "true" : undefined,
  "aria-describedby": describedBy(hint ? `${id}-hint` : "", problem ? `${id}-problem` : ""),
});

/** The page where invitees book `eventType`. */
export function publicLink(me, eventType) {
  if (eventType.public_url) return eventType.public_url;
  if (eventType.booking_url) return eventType.booking_url;
  const origin = API_BASE || location.origin;
  return `${origin}/book/${me.workspace.slug}/${eventType.slug}`;
}

export function CopyLink({ url, label }) {
  const [copied, setCopied] = useState("");
  async function copy() {
    try {
      await navigator.clipboard.writeText(url);
      setCopied(t("common.copied"));
    } catch {
      setCopied(t("common.copy_failed"));
    }
  }
  return html`<span class="copy-link">
    <button type="button" class="secondary" aria-label=${label} onClick=${copy}>
      ${t("booking.copy_link")}
    </button>
    <span role="status">${copied}</span>
  </span>`;
}

const LOCATION_KINDS = ["zoom", "teams", "phone", "in_person", "link"];
export const LOCATION_NAMES = {
  zoom: () => t("booking.location_zoom"),
  teams: () => t("booking.location_teams"),
  phone: () => t("booking.location_phone"),
  in_person: () => t("booking.location_in_person"),
  link: () => t("booking.location_link"),
};
const LOCATION_VALUE = {
  phone: () => [t("booking.location_phone_value"), t("booking.location_phone_hint"), "tel"],
  in_person: () => [t("booking.location_address"), "", "text"],
  link: () => [t("booking.location_url"), "", "url"],
};
const HOST_MODES = ["one", "round_robin", "collective"];
const HOST_MODE_NAMES = {
  one: () => t("booking.host_one"),
  round_robin: () => t("booking.host_round_robin"),
  collective: () => t("booking.host_collective"),
};
const QUESTION_KINDS = ["text", "long_text", "phone", "choice"];
const QUESTION_KIND_NAMES = {
  text: () => t("booking.question_text"),
  long_text: () => t("booking.question_long_text"),
  phone: () => t("booking.question_phone"),
  choice: () => t("booking.question_choice"),
};

const minutesList = (list) => (list || []).join(", ");

/** "30, 60" -> [30, 60]; null when a part is not a whole number. */
function parseMinutes(text) {
  const parts = String(text)
    .split(/[\s,;]+/)
    .filter(Boolean);
  const numbers = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  return numbers.some((n) => Number.isNaN(n)) ? null : numbers;
}

const numberOrNull = (text) => (String(text).trim() === "" ? null : Number(text));

function blankEventType(me) {
  return {
    title: "",
    slug: "",
    description: "",
    durations: "30",
    location_kind: "zoom",
    location_value: "",
    host_mode: "one",
    host_ids: me.user ? [me.user.id] : [],
    time_zone: me.workspace.timezone || browserZone(),
    buffer_before: "0",
    buffer_after: "0",
    minimum_notice: "240",
    horizon_days: "60",
    slot_step: "0",
    daily_cap: "",
    weekly_cap: "",
    cancel_notice: "0",
    questions: [],
    requires_confirmation: false,
    public: true,
    active: true,
    reminders: "1440, 60",
    opens_ticket: false,
  };
}

/** The form's values from the API's event type (numbers and lists as typed text). */
function fieldsOf(et) {
  const location = et.location || { kind: et.location_kind, value: et.location_value };
  const text = (v) => (v === null || v === undefined ? "" : String(v));
  return {
    title: et.title || "",
    slug: et.slug || "",
    description: et.description || "",
    durations: minutesList(et.durations),
    location_kind: location.kind || "zoom",
    location_value: location.value || "",
    host_mode: et.host_mode || "one",
    host_ids: [...(et.host_ids || [])],
    time_zone: et.time_zone || "UTC",
    buffer_before: text(et.buffer_before),
    buffer_after: text(et.buffer_after),
    minimum_notice: text(et.minimum_notice),
    horizon_days: text(et.horizon_days),
    slot_step: text(et.slot_step),
    daily_cap: text(et.daily_cap),
    weekly_cap: text(et.weekly_cap),
    cancel_notice: text(et.cancel_notice),
    questions: (et.questions || []).map((q) => ({
      id: q.id,
      label: q.label,
      kind: q.kind || "text",
      required: Boolean(q.required),
      options: (q.options || []).join("\n"),
    })),
    requires_confirmation: Boolean(et.requires_confirmation),
    public: et.public !== false,
    active: et.active !== false,
    reminders: minutesList(et.reminders),
    opens_ticket: Boolean(et.opens_ticket),
  };
}

/** A question's id from its label ("Company name" -> "company_name"). */
export function questionId(label, taken) {
  const base =
    String(label)
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "_")
      .replace(/^_+|_+$/g, "")
      .slice(0, 36) || "question";
  let id = base;
  for (let n = 2; taken.includes(id); n += 1) id = `${base}_${n}`;
  return id;
}

/** The API's body from the form's values, and the problems found before sending it. */
function bodyOf(fields) {
  const local = {};
  const durations = parseMinutes(fields.durations);
  const reminders = parseMinutes(fields.reminders);
  if (!durations || !durations.length) local.durations = t("booking.minutes_list_problem");
  if (!reminders) local.reminders = t("booking.minutes_list_problem");
  const ids = [];
  const questions = fields.questions.map((q) => {
    const id = q.id || questionId(q.label, ids);
    ids.push(id);
    const question = { id, label: q.label.trim(), kind: q.kind, required: q.required };
    if (q.kind === "choice") {
      question.options = q.options
        .split("\n")
        .map((o) => o.trim())
        .filter(Boolean);
    }
    return question;
  });
  const body = {
    title: fields.title.trim(),
    slug: fields.slug.trim(),
    description: fields.description,
    durations: durations || [],
    location: {
      kind: fields.location_kind,
      value: LOCATION_VALUE[fields.location_kind] ? fields.location_value.trim() : "",
    },
    host_mode: fields.host_mode,
    host_ids: fields.host_mode === "one" ? fields.host_ids.slice(0, 1) : fields.host_ids,
    time_zone: fields.time_zone,
    buffer_before: Number(fields.buffer_before || 0),
    buffer_after: Number(fields.buffer_after || 0),
    minimum_notice: Number(fields.minimum_notice || 0),
    horizon_days: Number(fields.horizon_days || 0),
    slot_step: Number(fields.slot_step || 0),
    daily_cap: numberOrNull(fields.daily_cap),
    weekly_cap: numberOrNull(fields.weekly_cap),
    cancel_notice: Number(fields.cancel_notice || 0),
    questions,
    requires_confirmation: fields.requires_confirmation,
    public: fields.public,
    active: fields.active,
    reminders: reminders || [],
    opens_ticket: fields.opens_ticket,
  };
  return [body, local];
}

/** "30 min" / "30, 60 min". */
export function durationsText(durations) {
  return t("booking.minutes", { minutes: (durations || []).join(", ") });
}

export function EventTypes({ me }) {
  useTitle(t("booking.event_types"));
  const manager = MANAGERS.includes(me.role);
  const [items, setItems] = useState(null);
  const [problem, setProblem] = useState(null);
  const load = useCallback(async () => {
    setProblem(null);
    try {
      setItems((await get("/v1/booking/event-types")).event_types || []);
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }, []);
  useEffect(() => {
    load();
  }, [load]);

  return html`<main id="main" class="settings-page booking-page">
    <div class="list-head">
      <h1>${t("booking.event_types")}</h1>
      ${manager
        ? html`<a class="button primary" href=${href("/booking/event-types/new")}>${t("booking.new_event_type")}</a>`
        : null}
    </div>
    <${BookingNav} section="event-types" />
    ${manager ? null : html`<p class="muted">${t("settings.managers_only")}</p>`}
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${load} />` : null}
    ${items === null
      ? problem
        ? null
        : html`<${Loading} />`
      : items.length
        ? html`<ul class="people event-types" aria-label=${t("booking.event_types")}>
            ${items.map(
              (et) => html`<li key=${et.id}>
                <span class="person">
                  <a href=${href(`/booking/event-types/${encodeURIComponent(et.id)}`)}><strong>${et.title}</strong></a>
                  <span class="muted"> ${durationsText(et.durations)} · ${HOST_MODE_NAMES[et.host_mode]
                    ? HOST_MODE_NAMES[et.host_mode]()
                    : et.host_mode}</span>
                </span>
                ${et.active === false ? html`<span class="badge">${t("booking.inactive")}</span>` : null}
                ${et.public === false ? html`<span class="badge">${t("booking.unlisted")}</span>` : null}
                ${et.requires_confirmation ? html`<span class="badge">${t("booking.confirms")}</span>` : null}
                <${CopyLink} url=${publicLink(me, et)} label=${t("booking.copy_link_of", { title: et.title })} />
              </li>`,
            )}
          </ul>`
        : html`<p class="empty">${t("booking.no_event_types")}</p>`}
  </main>`;
}

/** The hosts: one member (radio buttons) or several (check boxes). */
function HostPicker({ fields, setFields, members, problem }) {
  const one = fields.host_mode === "one";
  const pick = (id, on) => {
    const chosen = one ? [id] : on ? [...fields.host_ids, id] : fields.host_ids.filter((h) => h !== id);
    setFields({ ...fields, host_ids: chosen });
  };
  const known = new Set(members.map((m) => m.id));
  const unknown = fields.host_ids.filter((id) => !known.has(id));
  return html`<fieldset class="hosts" aria-describedby=${problem ? "et-hosts-problem" : "et-hosts-hint"}>
    <legend>${t("booking.hosts")}</legend>
    <p class="hint muted" id="et-hosts-hint">${one ? t("booking.hosts_one_hint") : t("booking.hosts_many_hint")}</p>
    ${members.length ? null : html`<${Loading} />`}
    ${members.map(
      (m) => html`<label class="check" key=${m.id}>
        <input type=${one ? "radio" : "checkbox"} name="host_ids" value=${m.id}
          checked=${fields.host_ids.includes(m.id)}
          onChange=${(e) => pick(m.id, e.currentTarget.checked)} />
        ${m.name} <span class="muted">${m.email}</span>
      </label>`,
    )}
    ${unknown.map((id) => html`<p class="muted" key=${id}>${t("booking.host_unknown", { id })}</p>`)}
    ${problem ? html`<span class="field-problem" id="et-hosts-problem">${problem}</span>` : null}
  </fieldset>`;
}

/** The questions asked beyond name and e-mail: label, kind, required, options. */
function Questions({ fields, setFields, problems }) {
  const list = fields.questions;
  const focusLast = useRef(false);
  const container = useRef(null);
  useEffect(() => {
    if (!focusLast.current || !container.current) return;
    focusLast.current = false;
    const inputs = container.current.querySelectorAll("input[data-question-label]");
    if (inputs.length) inputs[inputs.length - 1].focus();
  });
  const set = (i, change) => setFields({ ...fields, questions: list.map((q, j) => (j === i ? { ...q, ...change } : q)) });
  const move = (i, by) => {
    const next = [...list];
    const [taken] = next.splice(i, 1);
    next.splice(i + by, 0, taken);
    setFields({ ...fields, questions: next });
  };
  const add = () => {
    focusLast.current = true;
    setFields({ ...fields, questions: [...list, { id: "", label: "", kind: "text", required: false, options: "" }] });
  };
  return html`<fieldset class="questions" ref=${container}>
    <legend>${t("booking.questions")}</legend>
    <p class="muted">${t("booking.questions_lead")}</p>
    <ol class="plain">
      ${list.map((q, i) => {
        const n = i + 1;
        const labelProblem = problemAt(problems, `questions.${i}.label`) || problemAt(problems, `questions.${i}.id`);
        const optionsProblem = problemAt(problems, `questions.${i}.options`);
        return html`<li key=${i} class="question">
          <${BookingField} id=${`q-${i}-label`} label=${t("booking.question_label", { n })} problem=${labelProblem}>
            <input id=${`q-${i}-label`} data-question-label="1" required maxlength="200" value=${q.label}
              ...${aria(`q-${i}-label`, false, labelProblem)}
              onInput=${(e) => set(i, { label: e.currentTarget.value })} />
          <//>
          <div class="question-row">
            <${BookingField} id=${`q-${i}-kind`} label=${t("booking.question_kind", { n })}>
              <select id=${`q-${i}-kind`} value=${q.kind} onChange=${(e) => set(i, { kind: e.currentTarget.value })}>
                ${QUESTION_KINDS.map((k) => html`<option key=${k} value=${k}>${QUESTION_KIND_NAMES[k]()}</option>`)}
              </select>
            <//>
            <label class="check">
              <input type="checkbox" checked=${q.required} onChange=${(e) => set(i, { required: e.currentTarget.checked })} />
              ${t("booking.question_required", { n })}
            </label>
          </div>
          ${q.kind === "choice"
            ? html`<${BookingField} id=${`q-${i}-options`} label=${t("booking.question_options", { n })}
                hint=${t("booking.question_options_hint")} problem=${optionsProblem}>
                <textarea id=${`q-${i}-options`} rows="3" value=${q.options}
                  ...${aria(`q-${i}-options`, true, optionsProblem)}
                  onInput=${(e) => set(i, { options: e.currentTarget.value })}></textarea>
              <//>`
            : null}
          <div class="actions">
            <button type="button" class="link" disabled=${i === 0} onClick=${() => move(i, -1)}
              aria-label=${t("booking.question_up", { n })}>${t("booking.up")}</button>
            <button type="button" class="link" disabled=${i === list.length - 1} onClick=${() => move(i, 1)}
              aria-label=${t("booking.question_down", { n })}>${t("booking.down")}</button>
            <button type="button" class="link"
              onClick=${() => setFields({ ...fields, questions: list.filter((x, j) => j !== i) })}
              aria-label=${t("booking.question_remove", { n })}>${t("chat.remove")}</button>
          </div>
        </li>`;
      })}
    </ol>
    <button type="button" class="secondary" onClick=${add}>${t("booking.add_question")}</button>
  </fieldset>`;
}

export function EventTypeEditor({ me, id }) {
  const manager = MANAGERS.includes(me.role);
  const creating = !id;
  const [eventType, setEventType] = useState(null);
  const [fields, setFields] = useState(creating ? blankEventType(me) : null);
  const [problem, setProblem] = useState(null);
  const [problems, setProblems] = useState({});
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(() => (queryParam(currentRoute(), "saved") ? t("settings.saved") : ""));
  const members = useMembers();
  const errorRef = useRef(null);
  useTitle(creating ? t("booking.new_event_type") : eventType ? eventType.title : t("booking.event_types"));

  const load = useCallback(async () => {
    if (creating) return;
    setProblem(null);
    try {
      const found = await get(`/v1/booking/event-types/${encodeURIComponent(id)}`);
      setEventType(found);
      setFields(fieldsOf(found));
    } catch (failure) {
      setProblem(failure.status === 404 ? t("booking.event_type_not_found") : errorMessage(failure));
    }
  }, [id, creating]);
  useEffect(() => {
    load();
  }, [load]);

  async function save(event) {
    event.preventDefault();
    setSaved("");
    const [body, local] = bodyOf(fields);
    if (Object.keys(local).length) {
      setProblems(local);
      setProblem(t("error.invalid_fields"));
      focusProblem();
      return;
    }
    setBusy(true);
    setProblem(null);
    setProblems({});
    try {
      const answer = creating
        ? await post("/v1/booking/event-types", body)
        : await call("PATCH", `/v1/booking/event-types/${encodeURIComponent(id)}`, { body });
      const stored = answer.event_type || answer;
      setEventType(stored);
      setFields(fieldsOf(stored));
      setSaved(t("settings.saved"));
      if (creating && stored.id) navigate(`/booking/event-types/${encodeURIComponent(stored.id)}?saved=1`, { replace: true });
    } catch (failure) {
      const found = fieldProblems(failure);
      if (failure.code === "slug_taken" && !found.slug) found.slug = t("booking.slug_taken");
      setProblems(found);
      setProblem(saveProblem(failure, found));
      focusProblem();
    }
    setBusy(false);
  }

  /** The first field named by a problem takes the focus (else the message itself). */
  function focusProblem() {
    setTimeout(() => {
      const field = document.querySelector(".booking-editor [aria-invalid='true']");
      if (field) field.focus();
      else if (errorRef.current) errorRef.current.focus();
    }, 0);
  }

  async function remove() {
    if (!window.confirm(t("booking.delete_confirm", { title: eventType.title }))) return;
    setBusy(true);
    try {
      await call("DELETE", `/v1/booking/event-types/${encodeURIComponent(id)}`);
      navigate("/booking/event-types");
    } catch (failure) {
      setProblem(errorMessage(failure));
      setBusy(false);
    }
  }

  const set = (name) => (e) => setFields({ ...fields, [name]: e.currentTarget.value });
  const check = (name) => (e) => setFields({ ...fields, [name]: e.currentTarget.checked });
  const number = (name, label, { hint, min = "0", step = "5", path = name, ...rest } = {}) => {
    const found = problemAt(problems, path);
    const elementId = `et-${name}`;
    return html`<${BookingField} id=${elementId} label=${label} hint=${hint} problem=${found}>
      <input id=${elementId} name=${name} type="number" inputmode="numeric" min=${min} step=${step}
        value=${fields[name]} onInput=${set(name)} ...${aria(elementId, hint, found)} ...${rest} />
    <//>`;
  };
  const text = (name, label, { hint, type = "text", path = name, ...rest } = {}) => {
    const found = problemAt(problems, path);
    const elementId = `et-${name}`;
    return html`<${BookingField} id=${elementId} label=${label} hint=${hint} problem=${found}>
      <input id=${elementId} name=${name} type=${type} value=${fields[name]} onInput=${set(name)}
        ...${aria(elementId, hint, found)} ...${rest} />
    <//>`;
  };

  const heading = creating ? t("booking.new_event_type") : eventType ? eventType.title : t("booking.event_types");
  const back = html`<a class="back" href=${href("/booking/event-types")}>${t("booking.back_to_event_types")}</a>`;
  if (fields === null) {
    return html`<main id="main" class="settings-page booking-page">
      ${back}
      <h1>${heading}</h1>
      ${problem ? html`<${ErrorNote} message=${problem} onRetry=${load} />` : html`<${Loading} />`}
    </main>`;
  }
  const valueOfLocation = LOCATION_VALUE[fields.location_kind] && LOCATION_VALUE[fields.location_kind]();
  return html`<main id="main" class="settings-page booking-page">
    ${back}
    <h1>${heading}</h1>
    ${manager ? null : html`<p class="muted">${t("settings.managers_only")}</p>`}
    ${eventType && eventType.id
      ? html`<p class="public-link">
          <span class="muted">${t("booking.public_link")}</span>
          <a href=${publicLink(me, eventType)} target="_blank" rel="noopener">${publicLink(me, eventType)}</a>
          <${CopyLink} url=${publicLink(me, eventType)} label=${t("booking.copy_link_of", { title: eventType.title })} />
        </p>`
      : null}
    <div tabindex="-1" ref=${errorRef}>${problem ? html`<${ErrorNote} message=${problem} />` : null}</div>
    <form class="settings-form booking-editor" onSubmit=${save} aria-busy=${busy} novalidate>
      <fieldset disabled=${!manager || busy}>
        <legend>${t("booking.about")}</legend>
        ${text("title", t("booking.title"), { required: true, maxlength: "120" })}
        ${text("slug", t("booking.slug"), {
          hint: t("booking.slug_hint"),
          pattern: "[a-z0-9]+(-[a-z0-9]+)*",
          maxlength: "60",
          autocapitalize: "none",
          spellcheck: false,
        })}
        <${BookingField} id="et-description" label=${t("booking.description")} hint=${t("booking.description_hint")}
          problem=${problemAt(problems, "description")}>
          <textarea id="et-description" name="description" rows="5" class="markdown-small" value=${fields.description}
            ...${aria("et-description", true, problemAt(problems, "description"))}
            onInput=${set("description")}></textarea>
        <//>
        ${text("durations", t("booking.durations"), { hint: t("booking.durations_hint"), inputmode: "numeric" })}
      </fieldset>
      <fieldset disabled=${!manager || busy}>
        <legend>${t("booking.where")}</legend>
        <${BookingField} id="et-location-kind" label=${t("booking.location")} problem=${problemAt(problems, "location.kind")}>
          <select id="et-location-kind" name="location_kind" value=${fields.location_kind} onChange=${set("location_kind")}>
            ${LOCATION_KINDS.map((k) => html`<option key=${k} value=${k}>${LOCATION_NAMES[k]()}</option>`)}
          </select>
        <//>
        ${valueOfLocation
          ? text("location_value", valueOfLocation[0], {
              hint: valueOfLocation[1] || undefined,
              type: valueOfLocation[2],
              path: "location.value",
              maxlength: "500",
            })
          : null}
      </fieldset>
      <fieldset disabled=${!manager || busy}>
        <legend>${t("booking.who")}</legend>
        <${BookingField} id="et-host-mode" label=${t("booking.host_mode")} problem=${problemAt(problems, "host_mode")}>
          <select id="et-host-mode" name="host_mode" value=${fields.host_mode}
            onChange=${(e) => {
              const mode = e.currentTarget.value;
              setFields({ ...fields, host_mode: mode, host_ids: mode === "one" ? fields.host_ids.slice(0, 1) : fields.host_ids });
            }}>
            ${HOST_MODES.map((m) => html`<option key=${m} value=${m}>${HOST_MODE_NAMES[m]()}</option>`)}
          </select>
        <//>
        <${HostPicker} fields=${fields} setFields=${setFields} members=${members} problem=${problemAt(problems, "host_ids")} />
      </fieldset>
      <fieldset disabled=${!manager || busy}>
        <legend>${t("booking.when")}</legend>
        <div class="number-grid">
          ${number("buffer_before", t("booking.buffer_before"))}
          ${number("buffer_after", t("booking.buffer_after"))}
          ${number("minimum_notice", t("booking.minimum_notice"))}
          ${number("horizon_days", t("booking.horizon_days"), { step: "1", min: "1" })}
          ${number("slot_step", t("booking.slot_step"), { hint: t("booking.slot_step_hint") })}
          ${number("cancel_notice", t("booking.cancel_notice"), { hint: t("booking.cancel_notice_hint") })}
          ${number("daily_cap", t("booking.daily_cap"), { step: "1", min: "1", hint: t("booking.cap_hint") })}
          ${number("weekly_cap", t("booking.weekly_cap"), { step: "1", min: "1", hint: t("booking.cap_hint") })}
        </div>
        <${BookingField} id="et-time-zone" label=${t("booking.cap_time_zone")} hint=${t("booking.cap_time_zone_hint")}
          problem=${problemAt(problems, "time_zone")}>
          <select id="et-time-zone" name="time_zone" value=${fields.time_zone} onChange=${set("time_zone")}
            ...${aria("et-time-zone", true, problemAt(problems, "time_zone"))}>
            ${timeZones(fields.time_zone).map((zone) => html`<option key=${zone} value=${zone}>${zone}</option>`)}
          </select>
        <//>
      </fieldset>
      <fieldset disabled=${!manager || busy}>
        <${Questions} fields=${fields} setFields=${setFields} problems=${problems} />
      </fieldset>
      <fieldset disabled=${!manager || busy}>
        <legend>${t("booking.after_booking")}</legend>
        ${text("reminders", t("booking.reminders"), { hint: t("booking.reminders_hint"), inputmode: "numeric" })}
        <label class="check">
          <input type="checkbox" name="requires_confirmation" checked=${fields.requires_confirmation}
            onChange=${check("requires_confirmation")} />
          ${t("booking.requires_confirmation")}
        </label>
        <label class="check">
          <input type="checkbox" name="opens_ticket" checked=${fields.opens_ticket} onChange=${check("opens_ticket")} />
          ${t("booking.opens_ticket")}
        </label>
        <label class="check">
          <input type="checkbox" role="switch" name="public" checked=${fields.public} onChange=${check("public")} />
          ${t("booking.public")}
        </label>
        <label class="check">
          <input type="checkbox" role="switch" name="active" checked=${fields.active} onChange=${check("active")} />
          ${t("booking.active")}
        </label>
      </fieldset>
      <div class="form-actions">
        <button type="submit" class="primary" disabled=${!manager || busy}>
          ${creating ? t("booking.create") : t("settings.save")}
        </button>
        ${!creating && manager
          ? html`<button type="button" class="secondary danger" disabled=${busy} onClick=${remove}>
              ${t("booking.delete")}
            </button>`
          : null}
        <span role="status">${saved}</span>
      </div>
    </form>
  </main>`;
}
