// Received mail and help articles may carry HTML. It is never put into the app's document:
// it is shown in a sandboxed frame (no scripts, no same-origin access, no forms, no top
// navigation; links open in a new tab), whose own policy lets nothing load but inline images.
// Before that, the HTML is parsed in an inert document (DOMParser: nothing runs or loads) and
// stripped of what could run or fetch anything, so that not even the browser's look-ahead
// parser can ask a remote host for an image while the frame's policy is being read.
import { html, useMemo } from "./html.js";
import { t } from "./i18n.js";

const FRAME_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";
const REMOVED_ELEMENTS =
  "script, noscript, link, meta, base, iframe, frame, frameset, object, embed, applet, " +
  "form, input, button, select, textarea, audio, video, source, track, portal, template";
// Attributes that make the browser fetch something.
const FETCHING = new Set([
  "src",
  "srcset",
  "poster",
  "background",
  "data",
  "action",
  "formaction",
  "ping",
  "lowsrc",
  "dynsrc",
  "longdesc",
  "manifest",
  "imagesrcset",
  "xlink:href",
]);
const SAFE_LINK = /^(https?:|mailto:|#)/i;
const INLINE_IMAGE = /^data:image\/(png|gif|jpeg|webp);/i;

/**
 * `body` as inert HTML: no element that can run or load, no event handler, no style, no
 * link but http(s), mailto and in-page ones; remote images dropped (counted in `blocked`).
 */
export function inertHtml(body) {
  const doc = new DOMParser().parseFromString(String(body), "text/html");
  let blocked = 0;
  for (const element of doc.querySelectorAll(REMOVED_ELEMENTS)) element.remove();
  for (const element of doc.querySelectorAll("style")) element.remove();
  for (const element of doc.body.querySelectorAll("*")) {
    for (const { name, value } of [...element.attributes]) {
      const lower = name.toLowerCase();
      if (lower.startsWith("on") || lower === "style" || lower === "srcdoc") {
        element.removeAttribute(name);
      } else if (FETCHING.has(lower)) {
        const isImage = element.localName === "img" && lower === "src";
        if (!(isImage && INLINE_IMAGE.test(value.trim()))) {
          if (element.localName === "img" && lower === "src") blocked += 1;
          element.removeAttribute(name);
        }
      } else if (lower === "href" && !(element.localName === "a" && SAFE_LINK.test(value.trim()))) {
        element.removeAttribute(name);
      }
    }
  }
  for (const svg of doc.body.querySelectorAll("svg, math")) svg.remove();
  return { html: doc.body.innerHTML, blocked };
}

/** The frame's whole document around already inert HTML. */
export function isolatedDocument(inert, lang) {
  const language = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(lang) ? lang : "und";
  return (
    `<!doctype html><html lang="${language}"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${FRAME_POLICY}">` +
    '<meta name="referrer" content="no-referrer"><base target="_blank">' +
    `</head><body>${inert}</body></html>`
  );
}

export function IsolatedHtml({ body, title, lang, tall }) {
  const inert = useMemo(() => inertHtml(body), [body]);
  return html`${inert.blocked
      ? html`<p class="frame-note">${t("frame.images_not_shown")}</p>`
      : null}<iframe
      class=${tall ? "isolated tall" : "isolated"}
      title=${title}
      sandbox="allow-popups allow-popups-to-escape-sandbox"
      referrerpolicy="no-referrer"
      srcdoc=${isolatedDocument(inert.html, lang)}
    ></iframe>`;
}
