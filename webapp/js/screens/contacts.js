// Contacts: the people who wrote in, found by address or name, and one contact with their
// tickets (newest activity first).
import { get, withQuery } from "../api.js";
import { errorMessage } from "../errors.js";
import { html, useCallback, useEffect, useState } from "../html.js";
import { formatShortTime, t } from "../i18n.js";
import { href, navigate } from "../router.js";
import { ErrorNote, Loading, useTitle } from "../ui.js";
import { StatusBadge, whenText } from "./booking_bookings.js";

export function Contacts({ search = "" }) {
  useTitle(t("contacts.title"));
  const [words, setWords] = useState(search);
  const [contacts, setContacts] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setWords(search), [search]);

  const load = useCallback(
    async (after) => {
      setBusy(true);
      setProblem(null);
      try {
        const page = await get(withQuery("/v1/contacts", { q: search, cursor: after }));
        setContacts((shown) => (after && shown ? [...shown, ...page.contacts] : page.contacts));
        setCursor(page.next_cursor || null);
      } catch (failure) {
        setProblem(failure);
      }
      setBusy(false);
    },
    [search],
  );
  useEffect(() => {
    setContacts(null);
    load(null);
  }, [load]);

  function submit(event) {
    event.preventDefault();
    const q = words.trim();
    navigate(q ? `/contacts?q=${encodeURIComponent(q)}` : "/contacts");
  }

  return html`<main id="main" class="contacts-page">
    <h1>${t("contacts.title")}</h1>
    <form class="search" role="search" onSubmit=${submit}>
      <label>
        <span class="visually-hidden">${t("contacts.search_label")}</span>
        <input
          type="search"
          name="q"
          maxlength="254"
          placeholder=${t("contacts.search_placeholder")}
          value=${words}
          onInput=${(e) => setWords(e.currentTarget.value)}
        />
      </label>
      <button type="submit" class="secondary">${t("inbox.search")}</button>
    </form>
    ${problem ? html`<${ErrorNote} message=${errorMessage(problem)} onRetry=${() => load(null)} />` : null}
    ${contacts === null
      ? html`<${Loading} />`
      : contacts.length
        ? html`<ul class="people contacts" aria-label=${t("contacts.list")}>
            ${contacts.map(
              (c) => html`<li key=${c.id}>
                <a class="person" href=${href(`/contacts/${c.id}`)}>
                  <strong>${c.name || c.email}</strong>
                  ${c.name ? html`<span class="muted">${c.email}</span>` : null}
                </a>
              </li>`,
            )}
          </ul>`
        : html`<p class="empty">${search ? t("contacts.no_results") : t("contacts.empty")}</p>`}
    ${cursor
      ? html`<div class="more">
          <button type="button" class="secondary" disabled=${busy} onClick=${() => load(cursor)}>
            ${t("contacts.more")}
          </button>
        </div>`
      : null}
  </main>`;
}

export function Contact({ id }) {
  const [contact, setContact] = useState(null);
  const [problem, setProblem] = useState(null);
  useTitle(contact ? contact.name || contact.email : t("contacts.title"));

  const load = useCallback(async () => {
    setProblem(null);
    try {
      setContact(await get(`/v1/contacts/${encodeURIComponent(id)}`));
    } catch (failure) {
      setProblem(failure);
    }
  }, [id]);
  useEffect(() => {
    setContact(null);
    load();
  }, [load]);

  if (problem) {
    return html`<main id="main" class="contacts-page">
      <a class="back" href=${href("/contacts")}>${t("contacts.back")}</a>
      <h1>${problem.status === 404 ? t("contacts.not_found") : t("contacts.title")}</h1>
      ${problem.status === 404 ? null : html`<${ErrorNote} message=${errorMessage(problem)} onRetry=${load} />`}
    </main>`;
  }
  if (!contact) return html`<main id="main" class="contacts-page"><${Loading} /></main>`;
  return html`<main id="main" class="contacts-page">
    <a class="back" href=${href("/contacts")}>${t("contacts.back")}</a>
    <h1>${contact.name || contact.email}</h1>
    <p class="meta"><span>${contact.email}</span></p>
    <h2>${t("contacts.tickets")}</h2>
    ${contact.tickets.length
      ? html`<ul class="tickets" role="list" aria-label=${t("contacts.tickets")}>
          ${contact.tickets.map(
            (ticket) => html`<li key=${ticket.id} class="ticket-row">
              <a href=${href(`/tickets/${ticket.id}`)}>
                <span class="subject">${ticket.subject || t("ticket.no_subject")}</span>
                <span class="meta">
                  <span class="number">#${ticket.number}</span>
                  <span class=${`badge status-${ticket.status}`}>${t(`status.${ticket.status}`)}</span>
                  <time datetime=${ticket.last_activity_at}>${formatShortTime(ticket.last_activity_at)}</time>
                </span>
              </a>
            </li>`,
          )}
        </ul>`
      : html`<p class="empty">${t("ticket.no_other_tickets")}</p>`}
    ${contact.bookings && contact.bookings.length ? html`<${ContactBookings} bookings=${contact.bookings} />` : null}
  </main>`;
}

/** The contact's bookings (newest first, as the API lists them), each opening its page. */
function ContactBookings({ bookings }) {
  return html`<section aria-labelledby="contact-bookings">
    <h2 id="contact-bookings">${t("contacts.bookings")}</h2>
    <ul class="tickets" role="list" aria-labelledby="contact-bookings">
      ${bookings.map(
        (b) => html`<li key=${b.id} class="ticket-row">
          <a href=${href(`/booking/bookings/${encodeURIComponent(b.id)}`)}>
            <span class="subject">${b.title}</span>
            <span class="meta">
              <${StatusBadge} status=${b.status} />
              <time datetime=${b.start}>${whenText(b.start, b.end)}</time>
            </span>
          </a>
        </li>`,
      )}
    </ul>
  </section>`;
}
