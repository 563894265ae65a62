// The agent web client: starts the app, picks the language, and shows the screen of the
// current route (see router.js) for whoever the API says is logged in.
import { onUnauthenticated } from "./api.js";
import { html, render, useEffect, useRef, useState } from "./html.js";
import { chooseLanguage, currentLanguage, onLanguageChange, setLanguage, t } from "./i18n.js";
import { prefetch } from "./prefetch.js";
import { currentRoute, href, match, navigate, onRouteChange, pathOf, queryParam } from "./router.js";
import { Article } from "./screens/article.js";
import { Articles } from "./screens/articles.js";
import { Contact, Contacts } from "./screens/contacts.js";
import { ForgotPassword } from "./screens/forgot_password.js";
import { COUNTS_PATH, Inbox, VIEWS, firstPagePath } from "./screens/inbox.js";
import { ArticleEditor, Categories } from "./screens/kb_editor.js";
import { SearchInsights } from "./screens/kb_insights.js";
import { Login, safeNext } from "./screens/login.js";
import { NotFound } from "./screens/not_found.js";
import { NotificationSettings, Notifications } from "./screens/notifications.js";
import { Profile } from "./screens/profile.js";
import { TeamSettings, WorkspaceSettings } from "./screens/settings.js";
import { AiSettings } from "./screens/settings_ai.js";
import { ApiKeySettings } from "./screens/settings_api_keys.js";
import { HelpCentreSettings } from "./screens/settings_help_centre.js";
import { MailSettings } from "./screens/settings_mail.js";
import { Shell } from "./screens/shell.js";
import { Signup } from "./screens/signup.js";
import { Ticket } from "./screens/ticket.js";
import { ChatInsights } from "./screens/chat_insights.js";
import { ChatSettings } from "./screens/settings_chat.js";
import { BookingDetail, Bookings } from "./screens/booking_bookings.js";
import { EventTypeEditor, EventTypes } from "./screens/booking_event_types.js";
import { Availability } from "./screens/booking_schedule.js";
import { CalendarSettings } from "./screens/settings_calendars.js";
import { BillingSettings } from "./screens/settings_billing.js";
import { PrivacySettings } from "./screens/settings_privacy.js";
import { currentMember, onSessionChange, refreshSession, sessionEnded } from "./session.js";
import { ErrorNote, Redirect } from "./ui.js";

// Screens for a logged-in member: [pattern, section, screen(me, params)].
const MEMBER_ROUTES = [
  ["/", "inbox", (me, p, q, tag) => html`<${Inbox} me=${me} view="all" search=${q} tag=${tag} />`],
  [
    "/inbox/:view",
    "inbox",
    (me, p, q, tag) =>
      VIEWS.includes(p.view)
        ? html`<${Inbox} me=${me} view=${p.view} search=${q} tag=${tag} />`
        : null,
  ],
  ["/tickets/:id", "inbox", (me, p) => html`<${Ticket} key=${p.id} me=${me} id=${p.id} />`],
  ["/contacts", "contacts", (me, p, q) => html`<${Contacts} search=${q} />`],
  ["/contacts/:id", "contacts", (me, p) => html`<${Contact} key=${p.id} id=${p.id} />`],
  ["/kb", "kb", () => html`<${Articles} />`],
  ["/kb/articles/:id", "kb", (me, p) => html`<${Article} key=${p.id} me=${me} id=${p.id} />`],
  ["/settings", "settings", (me) => html`<${WorkspaceSettings} me=${me} />`],
  ["/settings/team", "settings", (me) => html`<${TeamSettings} me=${me} />`],
  ["/profile", "profile", () => html`<${Profile} />`],
  ["/notifications", "notifications", () => html`<${Notifications} />`],
  ["/settings/notifications", "settings", (me) => html`<${NotificationSettings} me=${me} />`],
  ["/settings/api-keys", "settings", (me) => html`<${ApiKeySettings} me=${me} />`],
  ["/settings/mailbox", "settings", (me) => html`<${MailSettings} me=${me} />`],
  ["/settings/ai", "settings", (me) => html`<${AiSettings} me=${me} />`],
  ["/settings/help-centre", "settings", (me) => html`<${HelpCentreSettings} me=${me} />`],
  [
    "/kb/new",
    "kb",
    (me) => {
      const route = currentRoute();
      const of = queryParam(route, "translation_of") || "";
      return html`<${ArticleEditor} key=${`new-${of}`} me=${me} id=${null} translationOf=${of}
        locale=${queryParam(route, "locale") || ""} />`;
    },
  ],
  ["/kb/articles/:id/edit", "kb", (me, p) => html`<${ArticleEditor} key=${p.id} me=${me} id=${p.id} />`],
  ["/kb/categories", "kb", (me) => html`<${Categories} me=${me} />`],
  ["/kb/insights", "kb", () => html`<${SearchInsights} />`],
  ["/settings/chat", "settings", (me) => html`<${ChatSettings} me=${me} />`],
  ["/chat/insights", "chat", () => html`<${ChatInsights} month=${queryParam(currentRoute(), "month") || ""} />`],
  ["/booking", "booking", (me) => html`<${Bookings} me=${me} />`],
  ["/booking/bookings/:id", "booking", (me, p) => html`<${BookingDetail} key=${p.id} me=${me} id=${p.id} />`],
  ["/booking/event-types", "booking", (me) => html`<${EventTypes} me=${me} />`],
  ["/booking/event-types/new", "booking", (me) => html`<${EventTypeEditor} key="new" me=${me} id=${null} />`],
  ["/booking/event-types/:id", "booking", (me, p) => html`<${EventTypeEditor} key=${p.id} me=${me} id=${p.id} />`],
  ["/booking/availability", "booking", (me) => html`<${Availability} me=${me} />`],
  ["/settings/calendars", "settings", () => html`<${CalendarSettings} />`],
  ["/settings/billing", "settings", (me) => html`<${BillingSettings} me=${me} />`],
  ["/settings/privacy", "settings", (me) => html`<${PrivacySettings} me=${me} />`],
];

function screenFor(route, me) {
  const path = pathOf(route);
  const next = queryParam(route, "next");
  if (path === "/login") {
    return me ? html`<${Redirect} to=${safeNext(next)} />` : html`<${Login} next=${next} />`;
  }
  if (path === "/signup") return me ? html`<${Redirect} to="/" />` : html`<${Signup} />`;
  if (path === "/forgot-password") {
    return me ? html`<${Redirect} to="/" />` : html`<${ForgotPassword} />`;
  }
  for (const [pattern, section, screen] of MEMBER_ROUTES) {
    const params = match(pattern, path);
    if (!params) continue;
    if (!me) {
      const back = route === "/" ? "" : `?next=${encodeURIComponent(route)}`;
      return html`<${Redirect} to=${`/login${back}`} />`;
    }
    const shown = screen(me, params, queryParam(route, "q") || "", queryParam(route, "tag") || "");
    if (shown) return html`<${Shell} me=${me} section=${section}>${shown}<//>`;
  }
  return me
    ? html`<${Shell} me=${me} section="">${html`<${NotFound} loggedIn=${true} />`}<//>`
    : html`<${NotFound} loggedIn=${false} />`;
}

/** After a change of route (not the first load), the new screen's heading takes the focus,
 * so a screen reader announces the page and the keyboard continues from its top. */
function useRouteFocus(route) {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return undefined;
    }
    window.scrollTo(0, 0);
    const timer = setTimeout(() => {
      const heading = document.querySelector("main h1");
      if (heading && !heading.contains(document.activeElement)) {
        heading.setAttribute("tabindex", "-1");
        heading.focus({ preventScroll: true });
      }
    }, 0);
    return () => clearTimeout(timer);
  }, [route]);
}

function App() {
  const [route, setRoute] = useState(currentRoute());
  const [me, setMe] = useState(currentMember());
  const [, setLanguageShown] = useState(currentLanguage());
  // Children's effects run before these: catch up with what changed meanwhile.
  useEffect(() => {
    const stop = onRouteChange(setRoute);
    setRoute(currentRoute());
    return stop;
  }, []);
  useEffect(() => {
    const stop = onSessionChange(setMe);
    setMe(currentMember());
    return stop;
  }, []);
  useEffect(() => {
    const stop = onLanguageChange(setLanguageShown);
    setLanguageShown(currentLanguage());
    return stop;
  }, []);
  useEffect(() => {
    const wanted = chooseLanguage(me && me.workspace.locale, me && me.locale);
    if (wanted !== currentLanguage()) setLanguage(wanted);
  }, [me]);
  useRouteFocus(route);
  return screenFor(route, me);
}

/** On a cold load of an inbox view, its first page and the counts leave with /v1/me. */
function prefetchFirstScreen(route) {
  const path = pathOf(route);
  const params = path === "/" ? { view: "all" } : match("/inbox/:view", path);
  if (!params || !VIEWS.includes(params.view)) return;
  prefetch(firstPagePath(params.view, queryParam(route, "q") || "", queryParam(route, "tag") || ""));
  prefetch(COUNTS_PATH);
}

/** A link to the app's old hash form (`/app/#/settings/calendars?connected=google`, as an
 * OAuth redirect may name it) becomes the route it names. */
function routeFromHash() {
  if (location.hash.startsWith("#/")) {
    history.replaceState(null, "", href(location.hash.slice(2)));
  }
}

async function start() {
  routeFromHash();
  const root = document.getElementById("app");
  onUnauthenticated(() => {
    sessionEnded();
    const route = currentRoute();
    if (!["/login", "/signup", "/forgot-password"].includes(pathOf(route))) {
      navigate(`/login?next=${encodeURIComponent(route)}`, { replace: true });
    }
  });
  prefetchFirstScreen(currentRoute());
  // The words and the session are asked for together (the words of the person's own
  // language follow if theirs differs from the browser's).
  const words = setLanguage(chooseLanguage(null));
  try {
    await Promise.all([words, refreshSession()]);
  } catch (failure) {
    root.classList.remove("booting");
    render(
      html`<main class="auth" id="main">
        <${ErrorNote} message=${t("error.unavailable")} onRetry=${() => location.reload()} />
      </main>`,
      root,
    );
    return;
  }
  root.classList.remove("booting");
  root.removeAttribute("aria-busy");
  root.textContent = "";
  render(html`<${App} />`, root);
}

start();
