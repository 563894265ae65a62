// A ticket's activity log: who changed what, when (the API's `activity`, oldest first, shown
// newest first), and where a merge took its messages.
import { html } from "../html.js";
import { formatDateTime, t } from "../i18n.js";
import { href } from "../router.js";

// What a change says, by its action (literal ids: every one is in the message files).
const CHANGED = {
  status: (params) => t("activity.status", params),
  priority: (params) => t("activity.priority", params),
  assignee: (params) => t("activity.assignee", params),
  tags: (params) => t("activity.tags", params),
  subject: (params) => t("activity.subject", params),
};

function whoDid(actor, members) {
  if (!actor || actor === "system") return t("activity.system");
  const [kind, id] = String(actor).includes(":") ? String(actor).split(":") : ["user", actor];
  const member = kind === "user" ? members.find((m) => m.id === id) : null;
  if (member) return member.name;
  return kind === "api_key" ? t("message.api_key") : t("activity.someone");
}

function valueOf(action, value, members) {
  if (value === null || value === undefined || value === "") return t("activity.none");
  if (action === "status") return t(`status.${value}`);
  if (action === "priority") return t(`priority.${value}`);
  if (action === "assignee") {
    const member = members.find((m) => m.id === value);
    return member ? member.name : t("ticket.assigned");
  }
  return String(value);
}

/** A ticket number (`#12`) in an entry, as a link to that ticket. */
function ticketLink(number) {
  const plain = String(number || "").replace(/^#/, "");
  return html`<a href=${href(`/tickets/${plain}`)}>#${plain}</a>`;
}

function Entry({ entry, members }) {
  const who = whoDid(entry.actor, members);
  const action = entry.action;
  let what;
  if (action === "merged") {
    what = html`${t("activity.merged", { who })} ${ticketLink(entry.after)}`;
  } else if (action === "merged_in") {
    what = html`${t("activity.merged_in", { who })} ${ticketLink(entry.after)}`;
  } else if (action === "created") {
    what = t("activity.created", { who });
  } else if (action === "sender_not_verified") {
    what = t("activity.sender_not_verified");
  } else {
    const params = {
      who,
      field: entry.action,
      before: valueOf(entry.action, entry.before, members),
      after: valueOf(entry.action, entry.after, members),
    };
    what = CHANGED[action] ? CHANGED[action](params) : t("activity.other", params);
  }
  return html`<li>
    <span class="what">${what}</span>
    <time datetime=${entry.at}>${formatDateTime(entry.at)}</time>
  </li>`;
}

export function ActivityLog({ ticket, members }) {
  const entries = [...(ticket.activity || [])].reverse();
  return html`<section class="activity-log" aria-labelledby="activity-heading">
    <h2 id="activity-heading">${t("activity.heading")}</h2>
    ${entries.length
      ? html`<ol aria-label=${t("activity.list")}>
          ${entries.map((e) => html`<${Entry} key=${e.id} entry=${e} members=${members} />`)}
        </ol>`
      : html`<p class="muted">${t("activity.empty")}</p>`}
  </section>`;
}

/** The numbers of the tickets merged into this one (the API's `merged_from`), newest first. */
export function mergedIn(ticket) {
  return (ticket.merged_from || []).map(String).reverse();
}
