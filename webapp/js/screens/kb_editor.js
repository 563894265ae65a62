// Writing the knowledge base: an article's title, category, language, status and Markdown
// body, images uploaded into it, its saved versions (restore one), its translations, and
// publishing; and the categories with their order. The preview is the API's own rendering
// (POST /v1/kb/preview, as the body is typed), the same the help centre shows.
import { API_BASE, call, get, post, withQuery } from "../api.js";
import { errorMessage, invalidFields } from "../errors.js";
import { lineDiff } from "../diff.js";
import { IsolatedHtml } from "../frames.js";
import { html, useCallback, useEffect, useRef, useState } from "../html.js";
import { LANGUAGES, currentLanguage, formatDateTime, t } from "../i18n.js";
import { href, navigate } from "../router.js";
import { ErrorNote, Field, Loading, useTitle } from "../ui.js";
import { ARTICLE_STATUSES } from "./articles.js";
import { IMAGE_TYPES, ImageDrop, uploadPresigned } from "./profile.js";
import { MANAGERS } from "./settings_api_keys.js";

function useCategories() {
  const [categories, setCategories] = useState([]);
  const load = useCallback(async () => {
    try {
      setCategories((await get("/v1/kb/categories")).categories);
    } catch {
      setCategories([]);
    }
  }, []);
  useEffect(() => {
    load();
  }, [load]);
  return [categories, load];
}

/** What changed from version `number` (`before`) to the current one (`after`), line by line. */
function VersionDiff({ number, before, after }) {
  const lines = lineDiff(before.body, after.body);
  const title = before.title !== after.title;
  const changed = lines ? lines.filter((line) => line.kind !== "same").length : 0;
  return html`<div class="version-diff" role="region" aria-label=${t("editor.diff_label", { number })}>
    ${title
      ? html`<p>${t("editor.diff_title")} <del>${before.title}</del> → <ins>${after.title}</ins></p>`
      : null}
    ${lines === null
      ? html`<p class="muted">${t("editor.diff_too_long")}</p>`
      : changed === 0
        ? html`<p class="muted">${t("editor.diff_none")}</p>`
        : html`<ol class="diff">
            ${lines.map(
              (line, k) => html`<li key=${k} class=${`diff-${line.kind}`}>
                ${line.kind === "added"
                  ? html`<ins><span class="visually-hidden">${t("editor.diff_added")} </span>${line.text}</ins>`
                  : line.kind === "removed"
                    ? html`<del><span class="visually-hidden">${t("editor.diff_removed")} </span>${line.text}</del>`
                    : line.text}
              </li>`,
            )}
          </ol>`}
  </div>`;
}

function Versions({ article, onRestored }) {
  const [versions, setVersions] = useState(null);
  const [problem, setProblem] = useState(null);
  const [compared, setCompared] = useState(null); // the version number compared
  const load = useCallback(async () => {
    try {
      setVersions((await get(withQuery(`/v1/kb/articles/${article.id}/versions`, { limit: 20 }))).versions);
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }, [article.id, article.version]);
  useEffect(() => {
    load();
  }, [load]);
  async function restore(number) {
    try {
      onRestored(await post(`/v1/kb/articles/${article.id}/versions/${number}/restore`, {}));
    } catch (failure) {
      setProblem(errorMessage(failure));
    }
  }
  return html`<section aria-labelledby="versions-heading" class="editor-side">
    <h2 id="versions-heading">${t("editor.versions")}</h2>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    ${versions === null
      ? html`<${Loading} />`
      : html`<ol class="people versions" aria-label=${t("editor.versions")}>
          ${versions.map(
            (v) => html`<li key=${v.number}>
              <span class="person">
                <strong>${t("editor.version", { number: v.number })}</strong>
                <span class="muted">${v.title} · ${t(`article.status.${v.status}`)} · ${formatDateTime(v.saved_at)}</span>
              </span>
              ${v.number === article.version
                ? html`<span class="badge">${t("editor.current_version")}</span>`
                : html`<span class="version-actions">
                    <button type="button" class="secondary" aria-expanded=${compared === v.number}
                      onClick=${() => setCompared(compared === v.number ? null : v.number)}
                      aria-label=${t("editor.compare_named", { number: v.number })}>${t("editor.compare")}</button>
                    <button type="button" class="secondary" onClick=${() => restore(v.number)}
                      aria-label=${t("editor.restore_named", { number: v.number })}>${t("editor.restore")}</button>
                  </span>`}
              ${compared === v.number
                ? html`<${VersionDiff} number=${v.number} before=${v} after=${article} />`
                : null}
            </li>`,
          )}
        </ol>`}
  </section>`;
}

function Translations({ article }) {
  const have = new Map((article.translations || []).map((tr) => [tr.locale, tr.article_id]));
  return html`<section aria-labelledby="translations-heading" class="editor-side">
    <h2 id="translations-heading">${t("editor.translations")}</h2>
    <ul class="plain">
      ${LANGUAGES.filter((l) => l !== article.locale).map(
        (l) => html`<li key=${l}>
          ${have.has(l)
            ? html`<a href=${href(`/kb/articles/${have.get(l)}/edit`)}>${t("editor.edit_translation", { language: t(`language.${l}`) })}</a>`
            : html`<a href=${href(`/kb/new?translation_of=${article.id}&locale=${l}`)}>
                ${t("editor.add_translation", { language: t(`language.${l}`) })}
              </a>`}
        </li>`,
      )}
    </ul>
  </section>`;
}

const PREVIEW_DELAY_MS = 400;

/** The help centre's rendering of `markdown`, asked for once typing pauses (the newest
 * answer wins; nothing is saved). */
function useLivePreview(markdown) {
  const [preview, setPreview] = useState({ html: null, updating: false, problem: null });
  useEffect(() => {
    if (markdown === null || markdown === undefined) return undefined;
    let current = true;
    setPreview((before) => ({ ...before, updating: true }));
    const timer = setTimeout(async () => {
      try {
        const answer = await post("/v1/kb/preview", { body: markdown });
        if (current) setPreview({ html: answer.html, updating: false, problem: null });
      } catch (failure) {
        if (current) setPreview((before) => ({ ...before, updating: false, problem: failure }));
      }
    }, PREVIEW_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [markdown]);
  return preview;
}

export function ArticleEditor({ me, id, translationOf, locale: wantedLocale }) {
  const [article, setArticle] = useState(null);
  const [fields, setFields] = useState(null);
  const [categories] = useCategories();
  const [problem, setProblem] = useState(null);
  const [invalid, setInvalid] = useState({});
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState("");
  const body = useRef(null);
  const preview = useLivePreview(fields ? fields.body : null);
  useTitle(id ? t("editor.edit_title") : t("editor.new_title"));

  const load = useCallback(async () => {
    setProblem(null);
    if (!id) {
      const locale = LANGUAGES.includes(wantedLocale) ? wantedLocale : currentLanguage();
      setFields({ title: "", category_id: "", locale, status: "draft", body: "", tags: "" });
      return;
    }
    try {
      const answer = await get(`/v1/kb/articles/${encodeURIComponent(id)}`);
      setArticle(answer);
      setFields({
        title: answer.title,
        category_id: answer.category_id || "",
        locale: answer.locale,
        status: answer.status,
        body: answer.body,
        tags: answer.tags.join(", "),
      });
    } catch (failure) {
      setProblem(failure);
    }
  }, [id, wantedLocale]);
  useEffect(() => {
    load();
  }, [load]);

  const update = (name) => (e) => setFields({ ...fields, [name]: e.currentTarget.value });
  const shown = (answer) => {
    setArticle((before) => ({ ...answer, translations: answer.translations || (before && before.translations) || [] }));
    setFields({ ...fields, status: answer.status, title: answer.title, body: answer.body, category_id: answer.category_id || "" });
  };

  async function save(event, status) {
    if (event) event.preventDefault();
    setBusy(true);
    setProblem(null);
    setInvalid({});
    setSaved("");
    const common = {
      title: fields.title.trim(),
      body: fields.body,
      status: status || fields.status,
      category_id: fields.category_id || null,
      tags: fields.tags.split(",").map((tag) => tag.trim()).filter(Boolean),
    };
    try {
      if (article) {
        shown(await call("PATCH", `/v1/kb/articles/${article.id}`, { body: common }));
        setSaved(t("editor.saved"));
      } else {
        const created = await post("/v1/kb/articles", {
          ...common,
          locale: fields.locale,
          ...(translationOf ? { translation_of: translationOf } : {}),
        });
        navigate(`/kb/articles/${created.id}/edit`, { replace: true });
      }
    } catch (failure) {
      setProblem(failure);
      setInvalid(invalidFields(failure));
    }
    setBusy(false);
  }

  async function insertImage(file) {
    setProblem(null);
    if (!IMAGE_TYPES.includes(file.type)) {
      setProblem({ message: t("upload.wrong_type") });
      return;
    }
    setBusy(true);
    try {
      const upload = await post("/v1/kb/uploads", {
        filename: file.name,
        content_type: file.type,
        size: file.size,
      });
      await uploadPresigned(upload, file);
      const alt = file.name.replace(/\.[^.]+$/, "").replace(/[[\]]/g, "");
      const area = body.current;
      const at = area ? area.selectionStart : fields.body.length;
      const text = `![${alt}](${upload.public_url})`;
      setFields({ ...fields, body: fields.body.slice(0, at) + text + fields.body.slice(at) });
    } catch (failure) {
      setProblem(failure.status === 413 ? { message: t("upload.too_large_image") } : failure);
    }
    setBusy(false);
  }

  if (problem && problem.status === 404) {
    return html`<main id="main" class="article-page"><h1>${t("article.not_found")}</h1>
      <p><a href=${href("/kb")}>${t("kb.back")}</a></p></main>`;
  }
  if (!fields) return html`<main id="main" class="article-page"><${Loading} /></main>`;
  const published = article && article.status === "published";
  const publicUrl = article && `${API_BASE}/hc/${me.workspace.slug}/${article.locale}/articles/${article.slug}`;
  return html`<main id="main" class="editor-page">
    <a class="back" href=${href("/kb")}>${t("kb.back")}</a>
    <h1>${article ? t("editor.edit_title") : t("editor.new_title")}</h1>
    ${problem
      ? html`<${ErrorNote} message=${problem.message && !problem.status ? problem.message : errorMessage(problem)} />`
      : null}
    <div class="editor">
      <form class="settings-form editor-form" onSubmit=${(e) => save(e)} aria-busy=${busy}>
        <${Field} label=${t("editor.article_title")} invalid=${invalid.title}>
          <input name="title" required maxlength="200" value=${fields.title} onInput=${update("title")} />
        <//>
        <div class="invite-fields">
          <${Field} label=${t("editor.category")}>
            <select name="category" value=${fields.category_id} onChange=${update("category_id")}>
              <option value="">${t("editor.no_category")}</option>
              ${categories.map((c) => html`<option key=${c.id} value=${c.id}>${c.name}</option>`)}
            </select>
          <//>
          <${Field} label=${t("settings.language")}>
            <select name="locale" value=${fields.locale} disabled=${Boolean(article)} onChange=${update("locale")}>
              ${LANGUAGES.map((l) => html`<option key=${l} value=${l}>${t(`language.${l}`)}</option>`)}
            </select>
          <//>
          <${Field} label=${t("kb.status")}>
            <select name="status" value=${fields.status} onChange=${update("status")}>
              ${ARTICLE_STATUSES.map((s) => html`<option key=${s} value=${s}>${t(`article.status.${s}`)}</option>`)}
            </select>
          <//>
        </div>
        <${Field} label=${t("editor.tags")} hint=${t("editor.tags_hint")} hintId="tags-hint">
          <input name="tags" aria-describedby="tags-hint" value=${fields.tags} onInput=${update("tags")} />
        <//>
        <${Field} label=${t("editor.body")} hint=${t("editor.body_hint")} hintId="body-hint" invalid=${invalid.body}>
          <textarea name="body" class="markdown" rows="16" required aria-describedby="body-hint"
            ref=${body} value=${fields.body} onInput=${update("body")}></textarea>
        <//>
        <${ImageDrop} label=${t("editor.image")} hint=${t("editor.image_hint")} busy=${busy} onFile=${insertImage} />
        <div class="form-actions">
          <button type="submit" class="primary" disabled=${busy}>${t("editor.save")}</button>
          ${article
            ? published
              ? html`<button type="button" class="secondary" disabled=${busy} onClick=${() => save(null, "draft")}>
                  ${t("editor.unpublish")}
                </button>`
              : html`<button type="button" class="secondary" disabled=${busy} onClick=${() => save(null, "published")}>
                  ${t("editor.publish")}
                </button>`
            : null}
          <span role="status">${saved}</span>
        </div>
      </form>
      <section class="preview" aria-labelledby="preview-heading">
        <h2 id="preview-heading">${t("editor.preview")}</h2>
        <p class="muted">
          ${t("editor.preview_live")}
          ${article && published
            ? html` <a href=${publicUrl} target="_blank" rel="noopener">${t("article.on_help_centre")}</a>`
            : null}
        </p>
        <p role="status" class="muted">${preview.updating ? t("editor.preview_updating") : ""}</p>
        ${preview.problem ? html`<${ErrorNote} message=${errorMessage(preview.problem)} />` : null}
        ${preview.html !== null
          ? html`<${IsolatedHtml} body=${preview.html} title=${t("editor.preview")} lang=${fields.locale} tall=${true} />`
          : null}
      </section>
    </div>
    ${article
      ? html`<div class="editor-extra">
          <${Versions} article=${article} onRestored=${shown} />
          <${Translations} article=${article} />
        </div>`
      : null}
  </main>`;
}

export function Categories({ me }) {
  useTitle(t("categories.title"));
  const manager = MANAGERS.includes(me.role);
  const [categories, reload] = useCategories();
  const [name, setName] = useState("");
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);

  async function run(action) {
    setBusy(true);
    setProblem(null);
    try {
      await action();
      await reload();
    } catch (failure) {
      setProblem(
        failure.code === "category_not_empty" ? t("categories.not_empty") : errorMessage(failure),
      );
    }
    setBusy(false);
  }
  const add = (event) => {
    event.preventDefault();
    const position = categories.length ? Math.max(...categories.map((c) => c.position)) + 1 : 0;
    return run(async () => {
      await post("/v1/kb/categories", { name: name.trim(), description: "", position, translations: {} });
      setName("");
    });
  };
  // Moving swaps the positions of two neighbours (positions are then made distinct).
  const move = (index, by) =>
    run(async () => {
      const order = [...categories];
      const [moved] = order.splice(index, 1);
      order.splice(index + by, 0, moved);
      for (let i = 0; i < order.length; i += 1) {
        if (order[i].position !== i) {
          await call("PATCH", `/v1/kb/categories/${order[i].id}`, { body: { position: i } });
        }
      }
    });
  const rename = (category) => {
    const wanted = window.prompt(t("categories.rename_prompt"), category.name);
    if (wanted && wanted.trim() && wanted.trim() !== category.name) {
      run(() => call("PATCH", `/v1/kb/categories/${category.id}`, { body: { name: wanted.trim() } }));
    }
  };

  return html`<main id="main" class="settings-page">
    <a class="back" href=${href("/kb")}>${t("kb.back")}</a>
    <h1>${t("categories.title")}</h1>
    ${problem ? html`<${ErrorNote} message=${problem} />` : null}
    <form class="invite-form" onSubmit=${add} aria-busy=${busy}>
      <${Field} label=${t("categories.name")}>
        <input name="category_name" required maxlength="120" value=${name}
          onInput=${(e) => setName(e.currentTarget.value)} />
      <//>
      <button type="submit" class="primary" disabled=${busy}>${t("categories.add")}</button>
    </form>
    ${categories.length
      ? html`<ol class="people" aria-label=${t("categories.title")}>
          ${categories.map(
            (c, i) => html`<li key=${c.id}>
              <span class="person"><strong>${c.name}</strong></span>
              <span class="actions">
                <button type="button" class="secondary" disabled=${busy || i === 0} onClick=${() => move(i, -1)}
                  aria-label=${t("categories.up", { name: c.name })}>↑</button>
                <button type="button" class="secondary" disabled=${busy || i === categories.length - 1}
                  onClick=${() => move(i, 1)} aria-label=${t("categories.down", { name: c.name })}>↓</button>
                <button type="button" class="secondary" disabled=${busy} onClick=${() => rename(c)}
                  aria-label=${t("categories.rename_named", { name: c.name })}>${t("categories.rename")}</button>
                ${manager
                  ? html`<button type="button" class="secondary" disabled=${busy}
                      onClick=${() => run(() => call("DELETE", `/v1/kb/categories/${c.id}`))}
                      aria-label=${t("categories.delete_named", { name: c.name })}>${t("categories.delete")}</button>`
                  : null}
              </span>
            </li>`,
          )}
        </ol>`
      : html`<p class="empty">${t("categories.none")}</p>`}
  </main>`;
}
