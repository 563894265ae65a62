// The person's own profile: name, language (the app follows it at once), avatar, password,
// two-factor sign-in (enrolment with a QR code, recovery codes shown once) and the sessions
// open in their name (GET/PATCH /v1/me/profile, /v1/me/password, /v1/me/two-factor,
// /v1/me/sessions).
import { ApiError, call, get, post } from "../api.js";
import { errorMessage, invalidFields } from "../errors.js";
import { html, useCallback, useEffect, useRef, useState } from "../html.js";
import { LANGUAGES, formatDateTime, setLanguage, t } from "../i18n.js";
import { refreshSession } from "../session.js";
import { ErrorNote, Field, Loading, useTitle } from "../ui.js";

export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/** Sends `file` to the presigned POST the API gave (`upload_url` and its `fields`). */
export async function uploadPresigned(upload, file) {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields || {})) form.append(name, value);
  form.append("file", file);
  let response;
  try {
    response = await fetch(upload.upload_url, { method: "POST", body: form });
  } catch {
    throw new ApiError(0, "network_error", "");
  }
  if (!response.ok) throw new ApiError(response.status, "upload_failed", "");
  return upload;
}

/** A zone that takes an image dropped on it, or chosen with its button. */
export function ImageDrop({ label, hint, busy, onFile }) {
  const input = useRef(null);
  const [over, setOver] = useState(false);
  function drop(event) {
    event.preventDefault();
    setOver(false);
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) onFile(file);
  }
  return html`<div
    class=${over ? "drop-zone over" : "drop-zone"}
    onDragOver=${(e) => {
      e.preventDefault();
      setOver(true);
    }}
    onDragLeave=${() => setOver(false)}
    onDrop=${drop}
  >
    <p class="muted">${hint}</p>
    <label class="button secondary">
      ${label}
      <input
        class="visually-hidden"
        type="file"
        accept=${IMAGE_TYPES.join(",")}
        disabled=${busy}
        onChange=${(e) => {
          const file = e.currentTarget.files[0];
          e.currentTarget.value = "";
          if (file) onFile(file);
        }}
        ref=${input}
      />
    </label>
  </div>`;
}

function initials(name) {
  const words = String(name || "").trim().split(/\s+/).filter(Boolean);
  return (words[0]?.[0] || "?").toUpperCase() + (words[1]?.[0] || "").toUpperCase();
}

function ProfileForm({ profile, onSaved }) {
  const [name, setName] = useState(profile.name);
  const [locale, setLocale] = useState(profile.locale || "");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [invalid, setInvalid] = useState({});
  const [saved, setSaved] = useState("");

  async function save(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setInvalid({});
    setSaved("");
    try {
      const body = { name: name.trim() };
      if (locale) body.locale = locale;
      const answer = await call("PATCH", "/v1/me/profile", { body });
      if (answer.locale) await setLanguage(answer.locale);
      await refreshSession();
      onSaved(answer);
      setSaved(t("settings.saved"));
    } catch (failure) {
      setProblem(errorMessage(failure));
      setInvalid(invalidFields(failure));
    }
    setBusy(false);
  }

  return html`<form class="settings-form" onSubmit=${save} aria-busy=${busy}>
    <h2>${t("profile.details")}</h2>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <${Field} label=${t("profile.name")} invalid=${invalid.name}>
      <input name="name" required maxlength="120" autocomplete="name" value=${name}
        onInput=${(e) => setName(e.currentTarget.value)} />
    <//>
    <p class="muted">${t("profile.email", { email: profile.email })}</p>
    <${Field} label=${t("profile.language")} hint=${t("profile.language_hint")} hintId="language-hint">
      <select name="locale" aria-describedby="language-hint" value=${locale}
        onChange=${(e) => setLocale(e.currentTarget.value)}>
        ${locale ? null : html`<option value="">${t("profile.language_browser")}</option>`}
        ${LANGUAGES.map((l) => html`<option key=${l} value=${l}>${t(`language.${l}`)}</option>`)}
      </select>
    <//>
    <div class="form-actions">
      <button type="submit" class="primary" disabled=${busy}>${t("settings.save")}</button>
      <span role="status">${saved}</span>
    </div>
  </form>`;
}

function Avatar({ profile, onSaved }) {
  const [shown, setShown] = useState(null); // a blob: URL of the image just uploaded
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [done, setDone] = useState("");
  useEffect(() => () => shown && URL.revokeObjectURL(shown), [shown]);

  async function send(file) {
    setProblem(null);
    setDone("");
    if (!IMAGE_TYPES.includes(file.type)) {
      setProblem(t("upload.wrong_type"));
      return;
    }
    setBusy(true);
    try {
      const upload = await post("/v1/me/avatar", { content_type: file.type, size: file.size });
      if (file.size > upload.max_bytes) throw new ApiError(413, "too_large", "");
      await uploadPresigned(upload, file);
      onSaved(await call("PATCH", "/v1/me/profile", { body: { avatar: upload.avatar } }));
      setShown(URL.createObjectURL(file));
      setDone(t("profile.avatar_saved"));
    } catch (failure) {
      setProblem(failure.status === 413 ? t("upload.too_large_avatar") : errorMessage(failure));
    }
    setBusy(false);
  }

  async function remove() {
    setBusy(true);
    setProblem(null);
    try {
      onSaved(await call("PATCH", "/v1/me/profile", { body: { avatar: null } }));
      setShown(null);
      setDone(t("profile.avatar_removed"));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
    setBusy(false);
  }

  return html`<section class="settings-form" aria-labelledby="avatar-heading" aria-busy=${busy}>
    <h2 id="avatar-heading">${t("profile.avatar")}</h2>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <div class="avatar-row">
      ${shown || profile.avatar_url
        ? html`<img class="avatar-large" src=${shown || profile.avatar_url} alt=${t("profile.avatar_alt")} />`
        : html`<span class="avatar avatar-large" aria-hidden="true">${initials(profile.name)}</span>`}
      <div>
        <p class="muted">${profile.avatar ? t("profile.avatar_set") : t("profile.avatar_none")}</p>
        <${ImageDrop} label=${t("profile.avatar_choose")} hint=${t("profile.avatar_hint")}
          busy=${busy} onFile=${send} />
        ${profile.avatar
          ? html`<button type="button" class="link" onClick=${remove} disabled=${busy}>
              ${t("profile.avatar_remove")}
            </button>`
          : null}
      </div>
    </div>
    <span role="status">${done}</span>
  </section>`;
}

function PasswordForm() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [done, setDone] = useState("");

  async function change(event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setDone("");
    try {
      const answer = await post("/v1/me/password", { current_password: current, new_password: next });
      setCurrent("");
      setNext("");
      setDone(t("profile.password_changed", { count: answer.signed_out }));
    } catch (failure) {
      setProblem(
        failure.code === "invalid_password" ? t("profile.wrong_password") : errorMessage(failure),
      );
    }
    setBusy(false);
  }

  return html`<form class="settings-form" onSubmit=${change} aria-busy=${busy}>
    <h2>${t("profile.password")}</h2>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <${Field} label=${t("profile.current_password")}>
      <input type="password" name="current_password" required autocomplete="current-password"
        value=${current} onInput=${(e) => setCurrent(e.currentTarget.value)} />
    <//>
    <${Field} label=${t("profile.new_password")} hint=${t("signup.password_hint")} hintId="new-password-hint">
      <input type="password" name="new_password" required minlength="10" autocomplete="new-password"
        aria-describedby="new-password-hint" value=${next} onInput=${(e) => setNext(e.currentTarget.value)} />
    <//>
    <div class="form-actions">
      <button type="submit" class="primary" disabled=${busy}>${t("profile.change_password")}</button>
      <span role="status">${done}</span>
    </div>
  </form>`;
}

/** The recovery codes, shown once, with a copy and a download. */
function RecoveryCodes({ codes, onDone }) {
  const [copied, setCopied] = useState("");
  const text = codes.join("\n") + "\n";
  const [download] = useState(() => URL.createObjectURL(new Blob([text], { type: "text/plain" })));
  useEffect(() => () => URL.revokeObjectURL(download), [download]);
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(t("common.copied"));
    } catch {
      setCopied(t("common.copy_failed"));
    }
  }
  return html`<div class="once" role="region" aria-label=${t("two_factor.codes_title")}>
    <h3>${t("two_factor.codes_title")}</h3>
    <p class="warning">${t("two_factor.codes_warning")}</p>
    <ol class="codes" aria-label=${t("two_factor.codes_list")}>
      ${codes.map((code) => html`<li key=${code}><code>${code}</code></li>`)}
    </ol>
    <div class="form-actions">
      <button type="button" class="secondary" onClick=${copy}>${t("two_factor.copy_codes")}</button>
      <a class="button secondary" href=${download} download="helptal-recovery-codes.txt">
        ${t("two_factor.download_codes")}
      </a>
      <button type="button" class="primary" onClick=${onDone}>${t("two_factor.codes_saved")}</button>
      <span role="status">${copied}</span>
    </div>
  </div>`;
}

function TwoFactor({ status, onChanged }) {
  const [setup, setSetup] = useState(null);
  const [codes, setCodes] = useState(null);
  const [code, setCode] = useState("");
  const [offCode, setOffCode] = useState("");
  const [offPassword, setOffPassword] = useState("");
  const [regenCode, setRegenCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);

  async function run(action) {
    setBusy(true);
    setProblem(null);
    try {
      await action();
    } catch (failure) {
      setProblem(
        failure.code === "invalid_password"
          ? t("profile.wrong_password")
          : failure.code === "two_factor_required_here"
            ? t("two_factor.required_here")
            : errorMessage(failure),
      );
    }
    setBusy(false);
  }
  const start = () => run(async () => setSetup(await post("/v1/me/two-factor", {})));
  const confirm = (event) => {
    event.preventDefault();
    return run(async () => {
      const answer = await post("/v1/me/two-factor/confirm", { code: code.trim() });
      setSetup(null);
      setCode("");
      setCodes(answer.recovery_codes);
      onChanged();
    });
  };
  const regenerate = (event) => {
    event.preventDefault();
    return run(async () => {
      const answer = await post("/v1/me/two-factor/recovery-codes", { code: regenCode.trim() });
      setRegenCode("");
      setCodes(answer.recovery_codes);
      onChanged();
    });
  };
  const turnOff = (event) => {
    event.preventDefault();
    const body = offCode.trim() ? { code: offCode.trim() } : { password: offPassword };
    return run(async () => {
      await call("DELETE", "/v1/me/two-factor", { body });
      setOffCode("");
      setOffPassword("");
      onChanged();
    });
  };

  return html`<section class="settings-form" aria-labelledby="two-factor-heading" aria-busy=${busy}>
    <h2 id="two-factor-heading">${t("two_factor.title")}</h2>
    <p role="status">
      ${status.enabled
        ? t("two_factor.on_since", { when: formatDateTime(status.enabled_at) })
        : t("two_factor.off")}
      ${status.enabled ? " " + t("two_factor.codes_left", { count: status.recovery_codes_left }) : ""}
    </p>
    ${status.required_by_workspace ? html`<p class="muted">${t("two_factor.required_here")}</p>` : null}
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    ${codes ? html`<${RecoveryCodes} codes=${codes} onDone=${() => setCodes(null)} />` : null}
    ${!status.enabled && !setup
      ? html`<button type="button" class="primary" onClick=${start} disabled=${busy}>
          ${t("two_factor.turn_on")}
        </button>`
      : null}
    ${setup
      ? html`<form onSubmit=${confirm}>
          <p>${t("two_factor.scan")}</p>
          <img class="qr" src=${setup.qr_code} alt=${t("two_factor.qr_alt")} width="200" height="200" />
          <p>${t("two_factor.manual")}</p>
          <p><code class="secret" aria-label=${t("two_factor.secret")}>${setup.secret}</code></p>
          <${Field} label=${t("two_factor.code")}>
            <input name="code" required inputmode="numeric" autocomplete="one-time-code"
              pattern="[0-9 ]{6,8}" value=${code} onInput=${(e) => setCode(e.currentTarget.value)} />
          <//>
          <div class="form-actions">
            <button type="submit" class="primary" disabled=${busy}>${t("two_factor.confirm")}</button>
            <button type="button" class="secondary" onClick=${() => setSetup(null)}>${t("common.cancel")}</button>
          </div>
        </form>`
      : null}
    ${status.enabled
      ? html`<form onSubmit=${regenerate}>
            <h3>${t("two_factor.new_codes")}</h3>
            <p class="muted">${t("two_factor.new_codes_lead")}</p>
            <${Field} label=${t("two_factor.code")}>
              <input name="regen_code" required inputmode="numeric" autocomplete="one-time-code"
                value=${regenCode} onInput=${(e) => setRegenCode(e.currentTarget.value)} />
            <//>
            <button type="submit" class="secondary" disabled=${busy}>${t("two_factor.make_codes")}</button>
          </form>
          <form onSubmit=${turnOff}>
            <h3>${t("two_factor.turn_off")}</h3>
            <p class="muted">${t("two_factor.turn_off_lead")}</p>
            <${Field} label=${t("two_factor.code")}>
              <input name="off_code" inputmode="numeric" autocomplete="one-time-code"
                value=${offCode} onInput=${(e) => setOffCode(e.currentTarget.value)} />
            <//>
            <${Field} label=${t("login.password")}>
              <input type="password" name="off_password" autocomplete="current-password"
                value=${offPassword} onInput=${(e) => setOffPassword(e.currentTarget.value)} />
            <//>
            <button type="submit" class="secondary" disabled=${busy || (!offCode.trim() && !offPassword)}>
              ${t("two_factor.turn_off")}
            </button>
          </form>`
      : null}
  </section>`;
}

function Sessions() {
  const [sessions, setSessions] = useState(null);
  const [problem, setProblem] = useState(null);
  const [done, setDone] = useState("");
  const load = useCallback(async () => {
    setProblem(null);
    try {
      setSessions((await get("/v1/me/sessions")).sessions);
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }, []);
  useEffect(() => {
    load();
  }, [load]);

  async function end(session) {
    setDone("");
    try {
      await call("DELETE", `/v1/me/sessions/${encodeURIComponent(session.id)}`);
      setDone(t("sessions.ended_one"));
      load();
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }
  async function endOthers() {
    setDone("");
    try {
      const answer = await call("DELETE", "/v1/me/sessions");
      setDone(t("sessions.ended", { count: answer.signed_out }));
      load();
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }
  const others = (sessions || []).filter((s) => !s.current);
  return html`<section class="settings-form" aria-labelledby="sessions-heading">
    <h2 id="sessions-heading">${t("sessions.title")}</h2>
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${load} />` : null}
    ${sessions === null
      ? html`<${Loading} />`
      : html`<ul class="people" aria-label=${t("sessions.title")}>
          ${sessions.map(
            (s) => html`<li key=${s.id}>
              <span class="person">
                <strong>${s.client || t("sessions.unknown_client")}</strong>
                ${s.current ? html` <span class="badge">${t("sessions.current")}</span>` : null}
                <span class="muted">
                  ${t("sessions.opened", { when: formatDateTime(s.created_at) })}
                  ${s.last_used_at ? " · " + t("sessions.last_used", { when: formatDateTime(s.last_used_at) }) : ""}
                </span>
              </span>
              ${s.current
                ? null
                : html`<button type="button" class="secondary"
                    aria-label=${t("sessions.end_one", { client: s.client || t("sessions.unknown_client"), when: formatDateTime(s.created_at) })}
                    onClick=${() => end(s)}>${t("sessions.end")}</button>`}
            </li>`,
          )}
        </ul>`}
    <div class="form-actions">
      <button type="button" class="secondary" onClick=${endOthers} disabled=${!others.length}>
        ${t("sessions.end_others")}
      </button>
      <span role="status">${done}</span>
    </div>
  </section>`;
}

export function Profile() {
  useTitle(t("profile.title"));
  const [profile, setProfile] = useState(null);
  const [problem, setProblem] = useState(null);
  const load = useCallback(async () => {
    setProblem(null);
    try {
      setProfile(await get("/v1/me/profile"));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }, []);
  useEffect(() => {
    load();
  }, [load]);
  return html`<main id="main" class="settings-page profile-page">
    <h1>${t("profile.title")}</h1>
    ${problem ? html`<${ErrorNote} message=${problem} onRetry=${load} />` : null}
    ${profile
      ? html`<${ProfileForm} profile=${profile} onSaved=${setProfile} />
          <${Avatar} profile=${profile} onSaved=${setProfile} />
          <${PasswordForm} />
          <${TwoFactor} status=${profile.two_factor} onChanged=${load} />
          <${Sessions} />`
      : problem
        ? null
        : html`<${Loading} />`}
  </main>`;
}
