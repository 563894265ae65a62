// Helptal live chat: the bubble a workspace puts on its own site with one tag,
//   <script src="<API>/chat/widget.js" data-workspace="pk_..." async></script>
// Plain script, no framework, no build step. Rules it keeps on someone else's page:
// - one global only, window.HelptalChat (the host may set {user: {id, email, name, hash}}
//   before it to identify a logged-in user); no cookies (the conversation is remembered in
//   localStorage under "helptal-chat:<key>");
// - everything drawn in an open shadow root, styled by a constructed stylesheet (a strict
//   host policy that allows this script's origin in script-src and connect-src is enough:
//   no inline script, no inline style attribute, no eval);
// - every text a visitor, an agent or the bot wrote is put in with textContent, never as
//   HTML; links only for http(s) citations.
(function () {
  "use strict";

  var script = document.currentScript;
  var existing = window.HelptalChat;
  if (!script || (existing && existing.started)) return;
  var publicKey = script.getAttribute("data-workspace") || "";
  if (!/^pk_[A-Za-z0-9]{6,64}$/.test(publicKey)) return;
  // The API is where this script came from (a stage path kept).
  var apiBase = String(script.src).replace(/\/chat\/widget\.js(?:[?#].*)?$/, "");
  var chatBase = apiBase + "/v1/chat/" + encodeURIComponent(publicKey);
  var STORAGE_KEY = "helptal-chat:" + publicKey;
  var WAIT_SECONDS = 20;
  var MAX_BACKOFF_MS = 30000;
  var TYPING_EVERY_MS = 3000;
  var TURNSTILE_URL = "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit";

  var WORDS = {
    en: {
      bubble: "Chat with us",
      close: "Close",
      message: "Message",
      send: "Send",
      you: "You",
      bot: "Answer bot",
      helped: "This helped",
      person: "Talk to a person",
      thanksFeedback: "Thank you for telling us.",
      handedOff: "A person from the team will answer here.",
      offline: "We reply by e-mail",
      emailAsk: "Leave your e-mail address and we will answer you there.",
      name: "Name",
      email: "E-mail",
      optional: "(optional)",
      saveEmail: "Save",
      emailSaved: "Thank you, we will answer at this address.",
      typing: "The team is typing…",
      seen: "Seen",
      sending: "Sending…",
      failed: "Not sent.",
      retry: "Retry",
      sources: "Sources",
      end: "End chat",
      ended: "This conversation has ended.",
      rate: "How was this conversation?",
      good: "Good",
      bad: "Bad",
      rated: "Thank you for your rating.",
      transcript: "Email me the transcript",
      transcriptSent: "The transcript is on its way.",
      newChat: "New conversation",
      messages: "Messages",
      tooFast: "Too many messages: wait a moment and try again.",
      humanCheck: "Please confirm you are human, then send again.",
      problem: "Something went wrong. Try again.",
      attach: "Attach a file",
      uploading: "Uploading {name}…",
      fileRefused: "This file could not be sent.",
    },
    fr: {
      bubble: "Discuter avec nous",
      close: "Fermer",
      message: "Message",
      send: "Envoyer",
      you: "Vous",
      bot: "Assistant automatique",
      helped: "Cela m’a aidé",
      person: "Parler à une personne",
      thanksFeedback: "Merci de nous l’avoir dit.",
      handedOff: "Une personne de l’équipe va vous répondre ici.",
      offline: "Nous répondons par e-mail",
      emailAsk: "Laissez votre adresse e-mail, nous vous y répondrons.",
      name: "Nom",
      email: "E-mail",
      optional: "(facultatif)",
      saveEmail: "Enregistrer",
      emailSaved: "Merci, nous répondrons à cette adresse.",
      typing: "L’équipe écrit…",
      seen: "Vu",
      sending: "Envoi…",
      failed: "Non envoyé.",
      retry: "Réessayer",
      sources: "Sources",
      end: "Terminer la discussion",
      ended: "Cette conversation est terminée.",
      rate: "Comment s’est passée cette conversation ?",
      good: "Bien",
      bad: "Pas bien",
      rated: "Merci pour votre avis.",
      transcript: "M’envoyer la transcription par e-mail",
      transcriptSent: "La transcription est en route.",
      newChat: "Nouvelle conversation",
      messages: "Messages",
      tooFast: "Trop de messages : attendez un instant et réessayez.",
      humanCheck: "Confirmez que vous êtes humain, puis renvoyez.",
      problem: "Un problème est survenu. Réessayez.",
      attach: "Joindre un fichier",
      uploading: "Envoi de {name}…",
      fileRefused: "Ce fichier n’a pas pu être envoyé.",
    },
  };

  var CSS = [
    ":host{all:initial;}",
    ".hc{--accent:#1f5fbf;--on-accent:#fff;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24;}",
    ".hc *,.hc *::before,.hc *::after{box-sizing:border-box;}",
    ".bubble{position:fixed;bottom:20px;right:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;border:0;background:var(--accent);color:var(--on-accent);cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center;padding:0;}",
    ".left .bubble{right:auto;left:20px;}",
    ".bubble svg{width:28px;height:28px;fill:currentColor;}",
    "button:focus-visible,textarea:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #1b1f24;outline-offset:2px;box-shadow:0 0 0 5px #fff;}",
    ".panel{position:fixed;bottom:88px;right:20px;z-index:2147483001;width:370px;max-width:calc(100vw - 40px);height:560px;max-height:calc(100vh - 110px);background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);display:flex;flex-direction:column;overflow:hidden;}",
    ".left .panel{right:auto;left:20px;}",
    ".panel[hidden],[hidden]{display:none!important;}",
    "@media (max-width:479px){.panel{inset:0;width:100%;max-width:none;height:100%;max-height:none;border-radius:0;}.open .bubble{display:none;}}",
    ".head{background:var(--accent);color:var(--on-accent);padding:12px 14px;display:flex;align-items:center;gap:10px;}",
    ".head img{width:36px;height:36px;border-radius:50%;object-fit:cover;background:#fff;}",
    ".head h2{font-size:16px;font-weight:600;margin:0;flex:1;overflow-wrap:anywhere;}",
    ".head button{background:transparent;border:1px solid currentColor;color:inherit;border-radius:6px;padding:4px 8px;font:inherit;font-size:13px;cursor:pointer;}",
    ".body{flex:1;overflow-y:auto;padding:12px 14px;display:flex;flex-direction:column;gap:8px;}",
    ".note{margin:0;color:#3d4550;font-size:14px;overflow-wrap:anywhere;white-space:pre-wrap;}",
    ".offline{background:#fff4d6;color:#3b2f00;border-radius:8px;padding:8px 10px;font-weight:600;}",
    ".log{display:flex;flex-direction:column;gap:8px;}",
    ".msg{max-width:85%;border-radius:10px;padding:8px 10px;background:#eef1f5;align-self:flex-start;}",
    ".msg.visitor{align-self:flex-end;background:#dfe9fb;}",
    ".msg.bot{border:1px solid #b8c2cf;background:#fff;}",
    ".who{display:block;font-size:12px;color:#46505c;margin-bottom:2px;}",
    ".badge{display:inline-block;margin-left:6px;padding:0 6px;border-radius:8px;background:#3b4a5e;color:#fff;font-size:11px;}",
    ".text{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;word-break:normal;}",
    ".meta{display:block;font-size:12px;color:#46505c;margin-top:2px;text-align:right;}",
    ".meta.failed{color:#a4161a;}",
    ".meta button{font:inherit;background:none;border:0;color:#1f4ea0;text-decoration:underline;cursor:pointer;padding:0 0 0 4px;}",
    ".sources{margin:6px 0 0;padding-left:20px;font-size:13px;}",
    ".sources a{color:#1f4ea0;overflow-wrap:anywhere;}",
    ".actions{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px;}",
    ".actions button,.end button,.ask button{font:inherit;font-size:13px;border:1px solid #5c6773;background:#fff;color:#1b1f24;border-radius:6px;padding:4px 10px;cursor:pointer;}",
    ".typing{margin:0;font-size:13px;color:#46505c;font-style:italic;min-height:1em;}",
    ".ask,.end{border-top:1px solid #d5dbe2;padding:10px 14px;display:flex;flex-direction:column;gap:6px;}",
    ".ask p,.end p{margin:0;font-size:14px;}",
    ".field{display:flex;flex-direction:column;gap:2px;font-size:13px;}",
    ".field input{font:inherit;border:1px solid #6b7580;border-radius:6px;padding:6px 8px;color:#1b1f24;background:#fff;}",
    ".compose{border-top:1px solid #d5dbe2;padding:10px 14px;display:flex;flex-direction:column;gap:6px;}",
    ".compose .row{display:flex;gap:8px;align-items:flex-end;}",
    ".compose label.lbl{font-size:13px;color:#3d4550;}",
    ".compose textarea{flex:1;font:inherit;resize:none;min-height:44px;max-height:120px;border:1px solid #6b7580;border-radius:8px;padding:8px;color:#1b1f24;background:#fff;}",
    ".send{font:inherit;font-weight:600;border:0;border-radius:8px;padding:10px 14px;background:var(--accent);color:var(--on-accent);cursor:pointer;}",
    ".send:disabled{opacity:.6;cursor:default;}",
    ".error{margin:0;color:#a4161a;font-size:13px;}",
    ".row2{display:flex;gap:6px;flex-wrap:wrap;}",
    ".files{list-style:none;margin:6px 0 0;padding:0;display:flex;flex-direction:column;gap:4px;font-size:13px;}",
    ".files a{color:#1f4ea0;overflow-wrap:anywhere;}",
    ".files img{display:block;max-width:200px;max-height:140px;border-radius:6px;border:1px solid #b8c2cf;}",
    ".attach{font:inherit;border:1px solid #6b7580;border-radius:8px;padding:8px 10px;background:#fff;color:#1b1f24;cursor:pointer;}",
    ".attach svg{width:18px;height:18px;fill:currentColor;display:block;}",
    ".upload{display:flex;flex-direction:column;gap:2px;font-size:13px;color:#3d4550;}",
    ".upload progress{width:100%;}",
    ".handoff{background:#e7f4ea;color:#123d1c;border-radius:8px;padding:8px 10px;}",
  ].join("\n");

  var ICON_PATH = "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z";
  var CLIP_PATH =
    "M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z";

  // ---- state ------------------------------------------------------------------------
  var config = null;
  var words = WORDS.en;
  var lang = "en";
  var saved = loadSaved();
  var conversation = null; // {id, status, online, email_known}
  var cursor = saved.cursor || "";
  var knownVersion = null; // the conversation's version the last poll answered
  var shown = {}; // message id -> element (dedupe)
  var pendingByClientId = {}; // client_id -> element of a message not yet confirmed
  var lastOwnIds = [];
  var agentSeen = "";
  var polling = null; // the AbortController of the running poll
  var pollTimer = 0;
  var backoffMs = 0;
  var lastTypingSent = 0;
  var typingOn = false;
  var turnstileToken = "";
  var turnstileWidget = null;
  var lastSeenSent = "";
  var dom = {};

  // ---- small helpers ----------------------------------------------------------------
  function loadSaved() {
    try {
      var raw = window.localStorage.getItem(STORAGE_KEY);
      var value = raw ? JSON.parse(raw) : null;
      return value && typeof value === "object" ? value : {};
    } catch (e) {
      return {};
    }
  }

  function save() {
    try {
      if (saved.conversation_id) window.localStorage.setItem(STORAGE_KEY, JSON.stringify(saved));
      else window.localStorage.removeItem(STORAGE_KEY);
    } catch (e) {
      /* storage refused (private mode): the chat lasts as long as the page */
    }
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var name in attrs) {
        if (Object.prototype.hasOwnProperty.call(attrs, name) && attrs[name] !== null) {
          node.setAttribute(name, attrs[name]);
        }
      }
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function newClientId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    var out = "c_";
    for (var i = 0; i < bytes.length; i++) out += ("0" + bytes[i].toString(16)).slice(-2);
    return out;
  }

  function localTime() {
    var now = new Date();
    var offset = -now.getTimezoneOffset();
    var sign = offset >= 0 ? "+" : "-";
    var abs = Math.abs(offset);
    function two(n) {
      return ("0" + n).slice(-2);
    }
    return (
      now.getFullYear() + "-" + two(now.getMonth() + 1) + "-" + two(now.getDate()) +
      "T" + two(now.getHours()) + ":" + two(now.getMinutes()) + ":" + two(now.getSeconds()) +
      sign + two(Math.floor(abs / 60)) + ":" + two(abs % 60)
    );
  }

  function hostLanguage() {
    var tag = (document.documentElement.getAttribute("lang") || "").toLowerCase();
    var primary = tag.split("-")[0];
    return WORDS[primary] ? primary : "";
  }

  function isWebLink(url) {
    try {
      var parsed = new URL(String(url));
      return parsed.protocol === "https:" || parsed.protocol === "http:";
    } catch (e) {
      return false;
    }
  }

  // Black or white text, whichever reads better on the workspace's colour.
  function textOn(hex) {
    var rgb = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var luminance = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    return (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) ? "#000" : "#fff";
  }

  function identity() {
    var user = (existing && existing.user) || null;
    var data = script.dataset || {};
    var id = (user && user.id) || data.userId;
    var email = (user && user.email) || data.userEmail;
    var hash = (user && user.hash) || data.userHash;
    if (!id || !email || !hash) return null;
    var found = { user_id: String(id), email: String(email), user_hash: String(hash) };
    var name = (user && user.name) || data.userName;
    if (name) found.name = String(name);
    return found;
  }

  // ---- the API ----------------------------------------------------------------------
  function call(method, path, body, options) {
    var headers = {};
    var token = options && options.anonymous ? "" : saved.visitor_token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = "Bearer " + token;
    return fetch(chatBase + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      mode: "cors",
      cache: "no-store",
      referrerPolicy: "strict-origin-when-cross-origin",
      signal: options && options.signal,
    }).then(function (response) {
      return response.text().then(function (raw) {
        var data = null;
        try {
          data = raw ? JSON.parse(raw) : null;
        } catch (e) {
          data = null;
        }
        if (!response.ok) {
          var failure = new Error((data && data.error && data.error.message) || "HTTP " + response.status);
          failure.status = response.status;
          failure.code = data && data.error && data.error.code;
          failure.retryAfter = Number(response.headers.get("Retry-After")) || 0;
          throw failure;
        }
        return data;
      });
    });
  }

  function conversationPath(suffix) {
    return "/conversations/" + encodeURIComponent(saved.conversation_id) + (suffix || "");
  }

  // ---- drawing ----------------------------------------------------------------------
  function build() {
    var host = el("div", { "data-helptal-chat": "" });
    var root = host.attachShadow({ mode: "open" });
    var sheetAdopted = false;
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
      sheetAdopted = true;
    } catch (e) {
      sheetAdopted = false;
    }
    if (!sheetAdopted) root.appendChild(el("style", null, CSS));

    var wrap = el("div", { class: "hc" + (config.position === "left" ? " left" : "") });
    if (/^#[0-9a-fA-F]{6}$/.test(config.colour || "")) {
      wrap.style.setProperty("--accent", config.colour);
      wrap.style.setProperty("--on-accent", textOn(config.colour));
    }
    wrap.setAttribute("lang", lang);

    var bubble = el("button", {
      type: "button",
      class: "bubble",
      "aria-label": words.bubble,
      "aria-expanded": "false",
      "aria-controls": "helptal-panel",
      title: words.bubble,
    });
    bubble.appendChild(icon(ICON_PATH));

    var panel = el("div", {
      id: "helptal-panel",
      class: "panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": "helptal-title",
    });
    panel.hidden = true;

    var head = el("div", { class: "head" });
    if (config.team_photo_url && isWebLink(config.team_photo_url)) {
      head.appendChild(el("img", { src: config.team_photo_url, alt: "" }));
    }
    var title = el("h2", { id: "helptal-title", dir: "auto" }, config.team_name || words.bubble);
    var endButton = el("button", { type: "button", class: "end-chat" }, words.end);
    endButton.hidden = true;
    var closeButton = el("button", { type: "button", class: "close" }, words.close);
    head.appendChild(title);
    head.appendChild(endButton);
    head.appendChild(closeButton);

    var body = el("div", { class: "body" });
    var greeting = el("p", { class: "note greeting", dir: "auto" }, config.greeting || "");
    greeting.hidden = !config.greeting;
    var offline = el("p", { class: "note offline" }, words.offline);
    offline.hidden = config.online !== false;
    var log = el("div", {
      class: "log",
      role: "log",
      "aria-live": "polite",
      "aria-label": words.messages,
    });
    var typing = el("p", { class: "typing", "aria-live": "polite" });
    var handoff = el("p", { class: "note handoff", role: "status" }, words.handedOff); // added when shown
    body.appendChild(greeting);
    body.appendChild(offline);
    body.appendChild(log);
    body.appendChild(typing);

    // Asks for an address when the team replies by e-mail and none is known.
    var ask = el("form", { class: "ask", novalidate: "" });
    ask.hidden = true;
    ask.appendChild(el("p", null, words.emailAsk));
    var askField = field("helptal-ask-email", words.email, "email", true);
    ask.appendChild(askField.label);
    var askButton = el("button", { type: "submit" }, words.saveEmail);
    ask.appendChild(askButton);
    var askStatus = el("p", { class: "note", role: "status" });
    ask.appendChild(askStatus);

    // The end of a conversation: rating and transcript.
    var end = el("div", { class: "end" });
    end.hidden = true;
    var endNote = el("p", { role: "status" });
    var rateQuestion = el("p", null, words.rate);
    var rateRow = el("div", { class: "row2" });
    var good = el("button", { type: "button", "data-rating": "good" }, "👍 " + words.good);
    var bad = el("button", { type: "button", "data-rating": "bad" }, "👎 " + words.bad);
    rateRow.appendChild(good);
    rateRow.appendChild(bad);
    var transcript = el("button", { type: "button", class: "transcript" }, words.transcript);
    var newChat = el("button", { type: "button", class: "new-chat" }, words.newChat);
    end.appendChild(endNote);
    end.appendChild(rateQuestion);
    end.appendChild(rateRow);
    end.appendChild(transcript);
    end.appendChild(newChat);

    var compose = el("form", { class: "compose", novalidate: "" });
    var pre = el("div", { class: "pre" });
    var nameField = null;
    var emailField = null;
    var fields = config.pre_chat_fields || {};
    if (fields.name && fields.name !== "off") {
      nameField = field("helptal-name", words.name, "text", fields.name === "required");
      pre.appendChild(nameField.label);
    }
    var emailMode = fields.email || "off";
    if (config.online === false && emailMode === "off") emailMode = "optional";
    if (emailMode !== "off") {
      emailField = field("helptal-email", words.email, "email", emailMode === "required");
      pre.appendChild(emailField.label);
    }
    compose.appendChild(pre);
    // Turnstile renders in the page's own DOM (its frame needs it), shown here by a slot.
    var challengeSlot = el("slot", { name: "challenge" });
    compose.appendChild(challengeSlot);
    var messageLabel = el("label", { for: "helptal-message", class: "lbl" }, words.message);
    var row = el("div", { class: "row" });
    var textarea = el("textarea", {
      id: "helptal-message",
      rows: "2",
      maxlength: "4000",
      dir: "auto",
      autocomplete: "off",
    });
    var send = el("button", { type: "submit", class: "send" }, words.send);
    // Files go with an open conversation (the paperclip shows once it has started).
    var attach = el("button", { type: "button", class: "attach", "aria-label": words.attach, title: words.attach });
    attach.appendChild(icon(CLIP_PATH));
    attach.hidden = true;
    var fileInput = el("input", { type: "file", accept: "image/*,application/pdf,text/plain,text/csv", tabindex: "-1", "aria-hidden": "true" });
    fileInput.hidden = true;
    var uploads = el("div", { class: "uploads", "aria-live": "polite" });
    row.appendChild(attach);
    row.appendChild(textarea);
    row.appendChild(send);
    compose.appendChild(fileInput);
    compose.appendChild(uploads);
    var error = el("p", { class: "error", role: "alert" });
    compose.appendChild(messageLabel);
    compose.appendChild(row);
    compose.appendChild(error);

    panel.appendChild(head);
    panel.appendChild(body);
    panel.appendChild(ask);
    panel.appendChild(end);
    panel.appendChild(compose);
    wrap.appendChild(panel);
    wrap.appendChild(bubble);
    root.appendChild(wrap);

    dom = {
      host: host,
      root: root,
      wrap: wrap,
      bubble: bubble,
      panel: panel,
      close: closeButton,
      endButton: endButton,
      body: body,
      log: log,
      typing: typing,
      pre: pre,
      name: nameField && nameField.input,
      email: emailField && emailField.input,
      textarea: textarea,
      send: send,
      compose: compose,
      error: error,
      ask: ask,
      askEmail: askField.input,
      askStatus: askStatus,
      end: end,
      endNote: endNote,
      rateQuestion: rateQuestion,
      rateRow: rateRow,
      transcript: transcript,
      newChat: newChat,
      attach: attach,
      fileInput: fileInput,
      uploads: uploads,
      handoff: handoff,
    };

    attach.addEventListener("click", function () {
      fileInput.click();
    });
    fileInput.addEventListener("change", function () {
      Array.prototype.forEach.call(fileInput.files || [], sendFile);
      fileInput.value = "";
    });
    panel.addEventListener("dragover", function (event) {
      if (saved.conversation_id && event.dataTransfer) event.preventDefault();
    });
    panel.addEventListener("drop", function (event) {
      if (!saved.conversation_id || !event.dataTransfer) return;
      event.preventDefault();
      Array.prototype.forEach.call(event.dataTransfer.files || [], sendFile);
    });

    bubble.addEventListener("click", function () {
      if (panel.hidden) open();
      else close();
    });
    closeButton.addEventListener("click", close);
    endButton.addEventListener("click", endConversation);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.stopPropagation();
        close();
      }
    });
    compose.addEventListener("submit", function (event) {
      event.preventDefault();
      sendFromBox();
    });
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendFromBox();
      }
    });
    textarea.addEventListener("input", signalTyping);
    textarea.addEventListener("blur", function () {
      stopTyping();
    });
    ask.addEventListener("submit", function (event) {
      event.preventDefault();
      leaveEmail();
    });
    good.addEventListener("click", function () {
      rate("good");
    });
    bad.addEventListener("click", function () {
      rate("bad");
    });
    transcript.addEventListener("click", function () {
      sendTranscript();
    });
    newChat.addEventListener("click", startOver);

    (document.body || document.documentElement).appendChild(host);
  }

  // The bubble's speech-balloon icon (drawn, never parsed from markup).
  function icon(pathData) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", pathData);
    svg.appendChild(path);
    return svg;
  }

  function field(id, labelText, type, required) {
    var label = el("label", { class: "field", for: id });
    label.appendChild(el("span", null, labelText + (required ? "" : " " + words.optional)));
    var input = el("input", {
      id: id,
      type: type,
      autocomplete: type === "email" ? "email" : "name",
      maxlength: "200",
    });
    if (required) input.required = true;
    label.appendChild(input);
    return { label: label, input: input };
  }

  function formatTime(iso) {
    try {
      return new Date(iso).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
    } catch (e) {
      return "";
    }
  }

  function fileSize(bytes) {
    var n = Number(bytes) || 0;
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return Math.round(n / 1024) + " KB";
    return (n / 1024 / 1024).toFixed(1) + " MB";
  }

  function scrollToEnd() {
    dom.body.scrollTop = dom.body.scrollHeight;
  }

  // One message: author, the text as text, citations as links, the bot's two questions.
  function drawMessage(message, pending) {
    var author = message.author === "visitor" || message.author === "agent" || message.author === "bot"
      ? message.author
      : "agent";
    var box = el("div", { class: "msg " + author });
    if (message.id) box.setAttribute("data-id", message.id);
    if (message.client_id) box.setAttribute("data-client-id", message.client_id);
    var who = el("span", { class: "who", dir: "auto" });
    who.textContent = author === "visitor" ? words.you : message.author_name || config.team_name || "";
    if (author === "bot") who.appendChild(el("span", { class: "badge" }, words.bot));
    box.appendChild(who);
    box.appendChild(el("p", { class: "text", dir: "auto" }, message.text || ""));
    var citations = Array.isArray(message.citations) ? message.citations : [];
    if (citations.length) {
      var list = el("ol", { class: "sources", "aria-label": words.sources });
      citations.forEach(function (citation) {
        var item = el("li", { value: String(Number(citation.number) || 1) });
        var label = citation.title || citation.url || "";
        if (isWebLink(citation.url)) {
          item.appendChild(
            el("a", { href: String(citation.url), target: "_blank", rel: "noopener noreferrer", dir: "auto" }, label)
          );
        } else {
          item.appendChild(el("span", { dir: "auto" }, label));
        }
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    var files = Array.isArray(message.attachments) ? message.attachments : [];
    if (files.length) {
      var fileList = el("ul", { class: "files" });
      files.forEach(function (file) {
        var item = el("li");
        var url = /^\/v1\/chat\//.test(String(file.url || "")) ? apiBase + file.url : "";
        var label = (file.filename || "") + " (" + fileSize(file.size) + ")";
        var link = url
          ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer", dir: "auto" })
          : el("span", { dir: "auto" });
        if (url && /^image\/(png|jpeg|gif|webp)$/.test(String(file.content_type || ""))) {
          link.appendChild(el("img", { src: url, alt: file.filename || "", loading: "lazy" }));
        }
        link.appendChild(el("span", null, label));
        item.appendChild(link);
        fileList.appendChild(item);
      });
      box.appendChild(fileList);
    }
    if (author === "bot" && message.id) {
      var actions = el("div", { class: "actions" });
      var helped = el("button", { type: "button" }, words.helped);
      var person = el("button", { type: "button" }, words.person);
      helped.addEventListener("click", function () {
        feedback(message.id, true, actions);
      });
      person.addEventListener("click", function () {
        feedback(message.id, false, actions);
      });
      actions.appendChild(helped);
      actions.appendChild(person);
      box.appendChild(actions);
    }
    var meta = el("span", { class: "meta" });
    if (pending) meta.textContent = words.sending;
    else if (message.created_at) meta.appendChild(el("time", { datetime: message.created_at }, formatTime(message.created_at)));
    box.appendChild(meta);
    return box;
  }

  // Adds messages once each (by id), reconciling own messages by client_id.
  function receive(messages) {
    var arrived = false;
    (messages || []).forEach(function (message) {
      if (!message || !message.id || shown[message.id]) return;
      var node = drawMessage(message, false);
      var mine = message.client_id && pendingByClientId[message.client_id];
      if (mine) {
        dom.log.replaceChild(node, mine);
        delete pendingByClientId[message.client_id];
      } else {
        dom.log.appendChild(node);
        if (message.author !== "visitor") arrived = true;
      }
      shown[message.id] = node;
      if (message.author === "visitor") lastOwnIds.push(message.id);
      if (!cursor || message.id > cursor) cursor = message.id;
    });
    saved.cursor = cursor;
    save();
    markSeen();
    scrollToEnd();
    if (arrived) markSeenByVisitor();
  }

  function markSeen() {
    for (var i = 0; i < lastOwnIds.length; i++) {
      var node = shown[lastOwnIds[i]];
      var seenMeta = node && node.querySelector(".seen");
      if (seenMeta) seenMeta.remove();
    }
    var latestSeen = "";
    lastOwnIds.forEach(function (id) {
      if (agentSeen && id <= agentSeen) latestSeen = id;
    });
    if (latestSeen && shown[latestSeen]) {
      shown[latestSeen].appendChild(el("span", { class: "meta seen" }, words.seen));
    }
  }

  // Tells the team the visitor has read up to the newest message (only while open).
  function markSeenByVisitor() {
    if (!saved.conversation_id || dom.panel.hidden || document.hidden) return;
    if (!cursor || cursor === lastSeenSent) return;
    lastSeenSent = cursor;
    call("POST", conversationPath("/seen"), { message_id: cursor }).catch(function () {});
  }

  function showError(text) {
    dom.error.textContent = text || "";
  }

  function applyConversation(found) {
    if (!found) return;
    conversation = found;
    if (found.online === false) dom.wrap.querySelector(".offline").hidden = false;
    var over = found.ended || isOver(found.status);
    dom.ask.hidden = !(found.online === false && !found.email_known) || over;
    dom.endButton.hidden = over;
    dom.pre.hidden = true;
    dom.attach.hidden = over;
    if (found.handed_off) showHandoff();
    if (over) showEnd(words.ended);
  }

  // The team has the conversation: say a person answers here (and, while the team is away,
  // ask for an address when none is known).
  function showHandoff() {
    if (!dom.handoff.parentNode) dom.body.insertBefore(dom.handoff, dom.typing);
    if (conversation && conversation.online === false && !conversation.email_known && dom.end.hidden) {
      dom.ask.hidden = false;
    }
  }

  function isOver(status) {
    return status === "solved" || status === "closed" || status === "ended";
  }

  function showEnd(note) {
    dom.end.hidden = false;
    dom.endNote.textContent = note || "";
    dom.compose.hidden = true;
    dom.ask.hidden = true;
    dom.endButton.hidden = true;
    dom.transcript.hidden = !(conversation && conversation.email_known);
  }

  // ---- opening and closing ----------------------------------------------------------
  function open() {
    dom.panel.hidden = false;
    dom.wrap.classList.add("open");
    dom.bubble.setAttribute("aria-expanded", "true");
    if (!saved.conversation_id) prepareTurnstile();
    var target = dom.compose.hidden ? dom.close : firstEmpty() || dom.textarea;
    target.focus();
    scrollToEnd();
    markSeenByVisitor();
  }

  function close() {
    dom.panel.hidden = true;
    dom.wrap.classList.remove("open");
    dom.bubble.setAttribute("aria-expanded", "false");
    stopTyping();
    dom.bubble.focus();
  }

  function firstEmpty() {
    if (saved.conversation_id) return null;
    if (dom.name && dom.name.required && !dom.name.value) return dom.name;
    if (dom.email && dom.email.required && !dom.email.value) return dom.email;
    return null;
  }

  // ---- Turnstile --------------------------------------------------------------------
  function prepareTurnstile() {
    if (!config.turnstile_site_key || turnstileWidget !== null) return;
    turnstileWidget = "loading";
    var holder = el("div", { slot: "challenge" });
    dom.host.appendChild(holder);
    function render() {
      turnstileWidget = window.turnstile.render(holder, {
        sitekey: config.turnstile_site_key,
        language: lang,
        callback: function (token) {
          turnstileToken = token;
        },
        "expired-callback": function () {
          turnstileToken = "";
        },
      });
    }
    if (window.turnstile) return render();
    var loader = el("script", { src: TURNSTILE_URL, async: "" });
    loader.addEventListener("load", render);
    document.head.appendChild(loader);
  }

  function resetTurnstile() {
    turnstileToken = "";
    if (window.turnstile && turnstileWidget && turnstileWidget !== "loading") {
      try {
        window.turnstile.reset(turnstileWidget);
      } catch (e) {
        /* the widget went away with its page */
      }
    }
  }

  // ---- sending ----------------------------------------------------------------------
  function sendFromBox() {
    var text = dom.textarea.value.trim();
    showError("");
    if (!text) {
      dom.textarea.focus();
      return;
    }
    var missing = firstEmpty();
    if (missing) {
      missing.focus();
      return;
    }
    dom.textarea.value = "";
    stopTyping();
    sendText(text, newClientId());
  }

  function sendText(text, clientId, retryNode) {
    var draft = { author: "visitor", text: text, client_id: clientId };
    var node = drawMessage(draft, true);
    if (retryNode && retryNode.parentNode) dom.log.replaceChild(node, retryNode);
    else dom.log.appendChild(node);
    pendingByClientId[clientId] = node;
    scrollToEnd();
    var request = saved.conversation_id ? sendMessage(text, clientId) : startConversation(text, clientId);
    request.catch(function (failure) {
      if (pendingByClientId[clientId] !== node) return;
      var meta = node.querySelector(".meta");
      meta.textContent = words.failed;
      meta.classList.add("failed");
      var retry = el("button", { type: "button" }, words.retry);
      retry.addEventListener("click", function () {
        delete pendingByClientId[clientId];
        sendText(text, clientId, node);
      });
      meta.appendChild(retry);
      showError(
        failure && failure.status === 429
          ? words.tooFast
          : failure && failure.code === "human_check_failed"
            ? words.humanCheck
            : (failure && failure.status < 500 && failure.message) || words.problem
      );
    });
  }

  function startConversation(text, clientId) {
    var body = {
      message: text,
      page_url: String(window.location.href).slice(0, 2000),
      language: navigator.language || lang,
      local_time: localTime(),
      client_id: clientId,
    };
    if (dom.name && dom.name.value.trim()) body.name = dom.name.value.trim();
    if (dom.email && dom.email.value.trim()) body.email = dom.email.value.trim();
    if (turnstileToken) body.turnstile_token = turnstileToken;
    var who = identity();
    if (who) body.identity = who;
    return call("POST", "/conversations", body, { anonymous: true }).then(function (started) {
      resetTurnstile();
      saved = { conversation_id: started.conversation.id, visitor_token: started.visitor_token, cursor: "" };
      save();
      applyConversation(started.conversation);
      receive(started.messages);
      if (started.cursor && started.cursor > cursor) cursor = started.cursor;
      poll();
    }, function (failure) {
      resetTurnstile();
      throw failure;
    });
  }

  function sendMessage(text, clientId) {
    return call("POST", conversationPath("/messages"), {
      text: text,
      client_id: clientId,
      page_url: String(window.location.href).slice(0, 2000),
      local_time: localTime(),
    }).then(function (message) {
      receive([message]);
    }, function (failure) {
      forgetIfGone(failure);
      throw failure;
    });
  }

  // A file: asked for (the API checks type and size), posted to storage as a plain form
  // (storage's answer is not readable from this page: the message's check says whether the
  // file arrived), then sent as a message.
  function sendFile(file) {
    if (!saved.conversation_id || !file) return;
    showError("");
    var status = el("div", { class: "upload" });
    var note = el("span", { dir: "auto" }, words.uploading.replace("{name}", file.name));
    var bar = el("progress", { "aria-label": words.uploading.replace("{name}", file.name) });
    status.appendChild(note);
    status.appendChild(bar);
    dom.uploads.appendChild(status);
    var clientId = newClientId();
    call("POST", conversationPath("/attachments"), {
      filename: file.name,
      content_type: file.type || "application/octet-stream",
      size: file.size,
    })
      .then(function (permit) {
        var form = new FormData();
        Object.keys(permit.fields || {}).forEach(function (name) {
          form.append(name, permit.fields[name]);
        });
        form.append("file", file);
        bar.setAttribute("max", "1");
        bar.setAttribute("value", "0.5");
        return fetch(permit.upload_url, { method: "POST", mode: "no-cors", body: form, credentials: "omit" }).then(
          function () {
            bar.setAttribute("value", "1");
            return call("POST", conversationPath("/messages"), {
              text: "",
              attachment_ids: [permit.id],
              client_id: clientId,
              page_url: String(window.location.href).slice(0, 2000),
              local_time: localTime(),
            });
          }
        );
      })
      .then(
        function (message) {
          status.remove();
          receive([message]);
        },
        function (failure) {
          status.remove();
          if (forgetIfGone(failure)) return;
          showError(
            failure && failure.status === 429
              ? words.tooFast
              : words.fileRefused + (failure && failure.status < 500 && failure.message ? " " + failure.message : "")
          );
        }
      );
  }

  function signalTyping() {
    if (!saved.conversation_id) return;
    var now = Date.now();
    if (typingOn && now - lastTypingSent < TYPING_EVERY_MS) return;
    typingOn = true;
    lastTypingSent = now;
    call("POST", conversationPath("/typing"), { typing: true }).catch(function () {});
  }

  function stopTyping() {
    if (!typingOn || !saved.conversation_id) return;
    typingOn = false;
    call("POST", conversationPath("/typing"), { typing: false }).catch(function () {});
  }

  function feedback(messageId, helped, actions) {
    Array.prototype.forEach.call(actions.querySelectorAll("button"), function (button) {
      button.disabled = true;
    });
    var done = call("POST", conversationPath("/feedback"), { message_id: messageId, helped: helped });
    if (!helped) {
      done = done.catch(function () {}).then(function () {
        return call("POST", conversationPath("/handoff"), {});
      });
    }
    done.then(
      function () {
        actions.textContent = "";
        if (helped) actions.appendChild(el("span", { class: "note", role: "status" }, words.thanksFeedback));
        else showHandoff();
      },
      function () {
        Array.prototype.forEach.call(actions.querySelectorAll("button"), function (button) {
          button.disabled = false;
        });
        showError(words.problem);
      }
    );
  }

  function leaveEmail() {
    var email = dom.askEmail.value.trim();
    if (!email || !dom.askEmail.checkValidity()) {
      dom.askEmail.focus();
      return;
    }
    var body = { email: email };
    if (dom.name && dom.name.value.trim()) body.name = dom.name.value.trim();
    call("POST", conversationPath("/email"), body).then(
      function () {
        if (conversation) conversation.email_known = true;
        dom.askStatus.textContent = words.emailSaved;
        dom.askEmail.disabled = true;
        dom.transcript.hidden = !!dom.end.hidden;
      },
      function (failure) {
        dom.askStatus.textContent = (failure && failure.status < 500 && failure.message) || words.problem;
      }
    );
  }

  function endConversation() {
    if (!saved.conversation_id) return;
    stopTyping();
    showEnd(words.ended);
    dom.rateRow.querySelector("button").focus();
    call("POST", conversationPath("/end"), { transcript: false }).then(
      function (result) {
        if (result && result.conversation) conversation = result.conversation;
        dom.transcript.hidden = !(conversation && conversation.email_known);
      },
      function () {
        dom.endNote.textContent = words.problem;
      }
    );
  }

  function rate(rating) {
    Array.prototype.forEach.call(dom.rateRow.querySelectorAll("button"), function (button) {
      button.disabled = true;
      button.setAttribute("aria-pressed", String(button.getAttribute("data-rating") === rating));
    });
    call("POST", conversationPath("/rating"), { rating: rating }).then(
      function () {
        dom.endNote.textContent = words.rated;
      },
      function () {
        Array.prototype.forEach.call(dom.rateRow.querySelectorAll("button"), function (button) {
          button.disabled = false;
        });
        dom.endNote.textContent = words.problem;
      }
    );
  }

  function sendTranscript() {
    dom.transcript.disabled = true;
    call("POST", conversationPath("/end"), { transcript: true }).then(
      function () {
        dom.endNote.textContent = words.transcriptSent;
      },
      function () {
        dom.transcript.disabled = false;
        dom.endNote.textContent = words.problem;
      }
    );
  }

  function startOver() {
    stopPolling();
    saved = {};
    save();
    conversation = null;
    cursor = "";
    knownVersion = null;
    shown = {};
    pendingByClientId = {};
    lastOwnIds = [];
    agentSeen = "";
    lastSeenSent = "";
    dom.log.textContent = "";
    dom.end.hidden = true;
    dom.compose.hidden = false;
    dom.pre.hidden = false;
    dom.ask.hidden = true;
    dom.askEmail.disabled = false;
    dom.askStatus.textContent = "";
    dom.transcript.disabled = false;
    dom.endButton.hidden = true;
    dom.typing.textContent = "";
    dom.handoff.remove();
    dom.attach.hidden = true;
    dom.uploads.textContent = "";
    Array.prototype.forEach.call(dom.rateRow.querySelectorAll("button"), function (button) {
      button.disabled = false;
      button.removeAttribute("aria-pressed");
    });
    prepareTurnstile();
    dom.textarea.focus();
  }

  // A token that no longer opens its conversation: start afresh on the next message.
  function forgetIfGone(failure) {
    if (failure && (failure.status === 401 || failure.status === 404)) {
      stopPolling();
      saved = {};
      save();
      conversation = null;
      dom.pre.hidden = false;
      return true;
    }
    return false;
  }

  // ---- real time: long poll ---------------------------------------------------------
  function poll() {
    if (!saved.conversation_id || polling || document.hidden) return;
    clearTimeout(pollTimer);
    var mine = { controller: typeof AbortController === "function" ? new AbortController() : null };
    polling = mine;
    liveConnect();
    var query =
      "?wait=" + (liveOpen ? 0 : WAIT_SECONDS) +
      (cursor ? "&after=" + encodeURIComponent(cursor) : "") +
      (knownVersion !== null ? "&version=" + knownVersion : "");
    var signal = mine.controller ? mine.controller.signal : undefined;
    call("GET", conversationPath("/messages" + query), undefined, { signal: signal }).then(
      function (news) {
        if (polling !== mine) return;
        polling = null;
        backoffMs = 0;
        try {
          showNews(news || {});
        } finally {
          schedulePoll(liveOpen ? LIVE_POLL_MS : 0);
        }
      },
      function (failure) {
        if (polling !== mine) return;
        polling = null;
        if (forgetIfGone(failure)) return;
        var retryAfterMs = failure && failure.retryAfter ? failure.retryAfter * 1000 : 0;
        backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(1000, backoffMs * 2, retryAfterMs));
        schedulePoll(backoffMs + Math.floor(Math.random() * 500));
      }
    );
  }

  function showNews(news) {
    receive(news.messages);
    if (typeof news.version === "number") knownVersion = news.version;
    if (news.cursor && news.cursor > cursor) cursor = news.cursor;
    agentSeen = news.agent_seen_message_id || agentSeen;
    markSeen();
    dom.typing.textContent = news.agent_typing ? words.typing : "";
    if (news.handed_off) showHandoff();
    if (news.status && conversation) {
      conversation.status = news.status;
      if (isOver(news.status) && dom.end.hidden) showEnd(words.ended);
    }
  }

  function schedulePoll(delayMs) {
    clearTimeout(pollTimer);
    if (delayMs <= 0) poll();
    else pollTimer = setTimeout(poll, delayMs);
  }

  function stopPolling() {
    clearTimeout(pollTimer);
    var running = polling;
    polling = null;
    if (running && running.controller) running.controller.abort();
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) stopPolling();
    else {
      backoffMs = 0;
      poll();
      markSeenByVisitor();
    }
  });

  // ---- start ------------------------------------------------------------------------
  function resume() {
    if (!saved.conversation_id) return Promise.resolve();
    return call("GET", conversationPath("")).then(
      function (found) {
        applyConversation(found);
        cursor = "";
        knownVersion = null;
        poll();
      },
      function (failure) {
        forgetIfGone(failure);
      }
    );
  }

  // A verified visitor of the host site finds their latest conversation on any device.
  function history() {
    var who = identity();
    if (!who || saved.conversation_id) return Promise.resolve();
    return call("POST", "/history", { identity: who }, { anonymous: true }).then(
      function (found) {
        var latest = found && found.conversations && found.conversations[0];
        var id = latest && (latest.conversation ? latest.conversation.id : latest.id);
        if (id && latest.visitor_token) {
          saved = { conversation_id: id, visitor_token: latest.visitor_token, cursor: "" };
          save();
        }
      },
      function () {}
    );
  }

  // ---- live pushes ------------------------------------------------------------------
  // Where the deployment has a WebSocket API (`live_url`), the conversation's pushes make
  // the widget read at once, and the poll slows to every 30 s (a fallback: pushes carry no
  // content and may be lost). Reconnects after 1 s, then twice as long (at most a minute);
  // pings every 5 minutes.
  var LIVE_POLL_MS = 30000;
  var liveSocket = null;
  var liveOpen = false;
  var liveRetryMs = 1000;
  var liveTimer = 0;
  var livePing = 0;
  var liveBlocked = false; // the host page's policy refuses the socket: poll only, quietly

  document.addEventListener("securitypolicyviolation", function (event) {
    var live = config && config.live_url;
    if (live && String(event.blockedURI || "").indexOf(live.split("/").slice(0, 3).join("/")) === 0) {
      liveBlocked = true;
    }
  });

  function liveConnect() {
    if (liveSocket || liveTimer || liveBlocked || !config || !config.live_url) return;
    if (typeof WebSocket !== "function") return;
    if (!saved.conversation_id || !saved.visitor_token) return;
    var conversationId = saved.conversation_id;
    var url =
      config.live_url.replace(/\/+$/, "") +
      "/?visitor_token=" + encodeURIComponent(saved.visitor_token) +
      "&public_key=" + encodeURIComponent(publicKey);
    var socket;
    try {
      socket = new WebSocket(url);
    } catch (e) {
      return;
    }
    liveSocket = socket;
    socket.onopen = function () {
      liveOpen = true;
      liveRetryMs = 1000;
      livePing = setInterval(function () {
        socket.send(JSON.stringify({ action: "ping" }));
      }, 300000);
      api.live = "open";
      liveWake();
    };
    socket.onmessage = function (message) {
      var event = null;
      try {
        event = JSON.parse(message.data);
      } catch (e) {
        return;
      }
      if (!event || event.type !== "conversation.moved" || event.ticket_id !== conversationId) return;
      api.liveEvents = (api.liveEvents || 0) + 1;
      liveWake();
    };
    socket.onclose = function () {
      if (liveSocket !== socket) return;
      liveSocket = null;
      liveOpen = false;
      api.live = "closed";
      clearInterval(livePing);
      if (!saved.conversation_id || liveBlocked) return schedulePoll(0);
      liveTimer = setTimeout(function () {
        liveTimer = 0;
        liveConnect();
      }, liveRetryMs);
      liveRetryMs = Math.min(liveRetryMs * 2, 60000);
      schedulePoll(0); // the long poll again until the socket is back
    };
  }

  function liveWake() {
    if (document.hidden) return;
    stopPolling();
    poll();
  }

  var api = {
    started: true,
    state: "loading",
    open: function () {
      if (dom.panel) open();
    },
    close: function () {
      if (dom.panel && !dom.panel.hidden) close();
    },
  };
  if (existing && typeof existing === "object") {
    for (var key in api) existing[key] = api[key];
    api = existing;
  }
  window.HelptalChat = api;

  var asked = hostLanguage();
  call("GET", "/config" + (asked ? "?locale=" + asked : ""), undefined, { anonymous: true })
    .then(function (found) {
      config = found || {};
      lang = asked || (WORDS[config.locale] ? config.locale : "en");
      words = WORDS[lang];
      function ready() {
        build();
        api.state = "ready";
        return history().then(resume);
      }
      if (document.body) return ready();
      return new Promise(function (done) {
        document.addEventListener("DOMContentLoaded", function () {
          done(ready());
        });
      });
    })
    .catch(function () {
      // Not allowed on this site, switched off or unreachable: no bubble at all.
      api.state = "unavailable";
    });
})();
