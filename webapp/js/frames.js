// Received mail and help articles may carry HTML. It is never put into the app's document:
// it is shown in a sandboxed frame (no scripts, no same-origin access, no forms, no top
// navigation; links open in a new tab), whose own policy lets nothing load but inline images.
import { html } from "./html.js";

const FRAME_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

export function isolatedDocument(body, lang) {
  return (
    `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${FRAME_POLICY}">` +
    '<meta name="referrer" content="no-referrer"><base target="_blank">' +
    `</head><body>${body}</body></html>`
  );
}

export function IsolatedHtml({ body, title, lang, tall }) {
  return html`<iframe
    class=${tall ? "isolated tall" : "isolated"}
    title=${title}
    sandbox="allow-popups allow-popups-to-escape-sandbox"
    referrerpolicy="no-referrer"
    srcdoc=${isolatedDocument(body, lang)}
  ></iframe>`;
}
