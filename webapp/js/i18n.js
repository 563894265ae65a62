// Every word the app shows comes from i18n/<language>.json. The language is the person's (the
// one in their profile, else the browser's languages in their order), else the workspace's,
// else English.

export const LANGUAGES = ["en", "fr"];
let language = "en";
let messages = {};
const loaded = {};
const listeners = new Set();

export function browserLanguage() {
  for (const tag of navigator.languages || [navigator.language || ""]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return null;
}

function supported(locale) {
  const base = String(locale || "").toLowerCase().split("-")[0];
  return LANGUAGES.includes(base) ? base : null;
}

export function chooseLanguage(workspaceLocale, personLocale) {
  return supported(personLocale) || browserLanguage() || supported(workspaceLocale) || "en";
}

async function load(lang) {
  if (!loaded[lang]) {
    const response = await fetch(new URL(`i18n/${lang}.json`, document.baseURI), {
      cache: "no-cache",
    });
    loaded[lang] = await response.json();
  }
  return loaded[lang];
}

export async function setLanguage(lang) {
  messages = await load(lang);
  language = lang;
  document.documentElement.lang = lang;
  for (const listener of listeners) listener(lang);
}

export function currentLanguage() {
  return language;
}

export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * The message `id`, with `{name}` placeholders filled from `params`; a message with plural
 * forms ({"one": ..., "other": ...}) is chosen by `params.count`.
 */
export function t(id, params = {}) {
  let message = messages[id];
  if (message && typeof message === "object") {
    const form = new Intl.PluralRules(language).select(params.count ?? 0);
    message = message[form] ?? message.other;
  }
  if (typeof message !== "string") return id;
  return message.replace(/\{(\w+)\}/g, (whole, name) =>
    name in params ? String(params[name]) : whole,
  );
}

export function formatNumber(value) {
  return new Intl.NumberFormat(language).format(value);
}

/** A time in the list: the time of day for today, else the date. */
export function formatShortTime(iso) {
  const when = new Date(iso);
  const now = new Date();
  const sameDay = when.toDateString() === now.toDateString();
  return new Intl.DateTimeFormat(
    language,
    sameDay ? { hour: "2-digit", minute: "2-digit" } : { day: "numeric", month: "short" },
  ).format(when);
}

export function formatDateTime(iso) {
  return new Intl.DateTimeFormat(language, { dateStyle: "medium", timeStyle: "short" }).format(
    new Date(iso),
  );
}
