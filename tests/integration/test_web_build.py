"""`make package`'s web client (infra/web_build.py): every URL it names resolves, caching by
name, a new version for any change."""

from __future__ import annotations

import re
import shutil
from pathlib import Path, PurePosixPath

import pytest

from infra.web_build import (
    IMMUTABLE,
    NO_CACHE,
    WEBAPP_DIR,
    BuildError,
    build_web_client,
    cache_control,
    module_specifiers,
    render_index,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    return build_web_client(tmp_path_factory.mktemp("web") / "webapp")


def _copy_of_webapp(tmp_path: Path) -> Path:
    copy = tmp_path / "source"
    shutil.copytree(WEBAPP_DIR, copy)
    return copy


def _resolve(importer: str, specifier: str) -> str:
    parts: list[str] = []
    for part in (PurePosixPath(importer).parent / specifier).parts:
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def test_every_module_the_page_loads_is_built_preloaded_and_every_import_resolves(built):
    """Walks the module graph from index.html's script, as the browser would."""
    index = (built.out / "index.html").read_text()
    (entry,) = re.findall(r'<script type="module" src="([^"]+)"', index)
    assert entry == f"assets/{built.version}/js/main.js"
    pending, seen = [entry], set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        assert (built.out / module).is_file(), module
        for specifier in module_specifiers((built.out / module).read_text()):
            assert specifier.startswith(("./", "../")), (module, specifier)
            pending.append(_resolve(module, specifier))
    built_modules = {key for key in built.files if key.endswith((".js", ".mjs"))}
    assert seen <= built_modules
    # Every module the entry imports, at any depth, is preloaded with it.
    assert set(re.findall(r'<link rel="modulepreload" href="([^"]+)">', index)) == seen - {entry}
    assert f"assets/{built.version}/vendor/preact.mjs" in seen
    for name in ("app.css", "favicon.svg"):
        assert f'"assets/{built.version}/{name}"' in index
        assert (built.out / "assets" / built.version / name).is_file()


def test_the_page_and_its_messages_are_revalidated_and_everything_else_kept_a_year(built):
    assert built.files[-1] == "index.html"
    stable = [key for key in built.files if not key.startswith(f"assets/{built.version}/")]
    assert sorted(stable) == ["i18n/en.json", "i18n/fr.json", "index.html"]
    for key in stable:
        assert cache_control(key) == NO_CACHE
    for key in set(built.files) - set(stable):
        assert cache_control(key) == IMMUTABLE
    assert not (built.out / "security-headers.json").exists()


def test_the_same_source_gives_the_same_version_and_any_change_a_new_one(built, tmp_path):
    source = _copy_of_webapp(tmp_path)
    again = build_web_client(tmp_path / "again", webapp=source)
    assert again.version == built.version

    css = source / "app.css"
    css.write_text(css.read_text() + "\n/* changed */\n")
    changed = build_web_client(tmp_path / "changed", webapp=source)
    assert changed.version != built.version
    assert f"assets/{changed.version}/app.css" in (tmp_path / "changed/index.html").read_text()


def test_an_import_of_a_missing_module_fails_the_build(tmp_path):
    source = _copy_of_webapp(tmp_path)
    ui = source / "js" / "ui.js"
    ui.write_text('import { gone } from "./gone.js";\n' + ui.read_text())

    with pytest.raises(BuildError, match=r"js/ui.js: imports ./gone.js, which is not built"):
        build_web_client(tmp_path / "out", webapp=source)


def test_a_bare_module_specifier_fails_the_build(tmp_path):
    source = _copy_of_webapp(tmp_path)
    ui = source / "js" / "ui.js"
    ui.write_text('import { h } from "preact.js";\n' + ui.read_text())

    with pytest.raises(BuildError, match="only relative paths load"):
        build_web_client(tmp_path / "out", webapp=source)


def test_the_page_is_set_for_the_app_and_api_of_a_stage():
    page = '<base href="/app/">\n<meta name="helptal-api" content="">'

    rendered = render_index(
        page, app_base_url="https://app.example.com", api_base_url="https://api.example.com/"
    )

    assert (
        rendered == '<base href="/">\n<meta name="helptal-api" content="https://api.example.com">'
    )
    with pytest.raises(BuildError):
        render_index("<html></html>", app_base_url="https://a.test", api_base_url="https://b.test")
