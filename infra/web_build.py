"""The web client as the CDN serves it: `webapp/` laid out for S3 and CloudFront.

`build_web_client(out)` (run by `make package` into `build/package/webapp/`) writes:

- `index.html` at the root, sent with `Cache-Control: no-cache`: its `<link>` and `<script>`
  point into `assets/<version>/`, with a `modulepreload` link for every module the app
  imports (fetched together, not one level of imports after another); its `<base href>` and
  `<meta name="helptal-api">` are set for the stage (`python -m infra.publish_web` sets them
  again from the deployed stack);
- `assets/<version>/...`: every file of `webapp/` (modules, styles, vendored libraries and
  their licences, icons, messages), sent for a year, `immutable`. The version is a hash of
  every file's path and content, so a changed file gives a new prefix and nothing stale is
  ever served from a cache, while the modules keep importing each other by their relative
  paths, unchanged (docs/decisions/0026);
- `i18n/<language>.json` at the root too, `no-cache`: the app fetches its messages relative to
  `<base href>`, not to its modules.

The build refuses (BuildError) a reference in `index.html` or an import in a module that
does not resolve to a built file, a bare or remote module specifier, and an `index.html`
without its `<base href>` or its API meta tag.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
WEBAPP_DIR = PROJECT_DIR / "webapp"
INDEX = "index.html"
ASSETS = "assets"
VERSION_LENGTH = 12
# Served at stable URLs, revalidated on every load: the entry page and what the app fetches
# relative to <base href>.
STABLE_DIRECTORIES = ("i18n",)
# Configuration of the servers, not files of the app.
NOT_SERVED = {"security-headers.json", "vendor/manifest.json"}

NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
TEXT = "text/plain; charset=utf-8"  # the vendored licences
# What a CDN compresses (and what counts as app code in the size budget).
COMPRESSIBLE = (".html", ".js", ".mjs", ".css", ".json", ".svg")

DEFAULT_APP_BASE_URL = "https://app.helptal.com"
DEFAULT_API_BASE_URL = "https://api.helptal.com"

_BASE = re.compile(r'<base href="[^"]*">')
_API_META = re.compile(r'<meta name="helptal-api" content="[^"]*">')
# The files index.html loads (not its <base href>).
_INDEX_REFERENCE = re.compile(r'(<(?:script|link|img)\b[^>]*?\b(?:src|href)=")([^"]+)"')
# `import x from "./a.js"`, `export {x} from "./a.js"`, `import "./a.js"`, `import("./a.js")`,
# minified or not.
_MODULE_SPECIFIER = re.compile(r"(?:\bfrom|\bimport)\s*\(?\s*[\"']([^\"'\s]+)[\"']")
_CSS_URL = re.compile(r"url\(\s*[\"']?([^\"')]+)[\"']?\s*\)")


class BuildError(Exception):
    """The web client must not ship; the message says why."""


@dataclass(frozen=True)
class WebBuild:
    out: Path
    version: str
    files: tuple[str, ...]  # keys, relative to `out`, index.html last

    @property
    def asset_prefix(self) -> str:
        return f"{ASSETS}/{self.version}/"

    def summary(self) -> str:
        raw = compressed = 0
        for key in self.files:
            if key.startswith(self.asset_prefix) or key == INDEX:
                data = (self.out / key).read_bytes()
                raw += len(data)
                if key.endswith(COMPRESSIBLE):
                    compressed += len(gzip.compress(data, 9))
        return (
            f"{self.out}: web client {self.version}, {len(self.files)} files, "
            f"{raw / 1024:.0f} KB ({compressed / 1024:.0f} KB gzip) of app code"
        )


def content_type(key: str) -> str:
    return CONTENT_TYPES.get(PurePosixPath(key).suffix, TEXT)


def cache_control(key: str) -> str:
    """A year for the versioned assets, revalidation for everything at a stable URL."""
    return IMMUTABLE if key.startswith(f"{ASSETS}/") else NO_CACHE


def source_files(webapp: Path = WEBAPP_DIR) -> list[str]:
    """Every file of the app, as paths relative to `webapp` (no hidden files)."""
    files = []
    for path in sorted(webapp.rglob("*")):
        relative = path.relative_to(webapp).as_posix()
        if not path.is_file() or any(part.startswith(".") for part in relative.split("/")):
            continue
        if relative not in NOT_SERVED:
            files.append(relative)
    return files


def version_of(webapp: Path, files: list[str]) -> str:
    digest = hashlib.sha256()
    for relative in files:
        digest.update(relative.encode() + b"\0")
        digest.update(hashlib.sha256((webapp / relative).read_bytes()).digest())
    return digest.hexdigest()[:VERSION_LENGTH]


def base_path(app_base_url: str) -> str:
    """`<base href>` for the app served at `app_base_url` (its path, ending in a slash)."""
    return urlsplit(app_base_url).path.rstrip("/") + "/"


def api_origin(api_base_url: str) -> str:
    """The API's origin (scheme, host, port) as the app's meta tag names it."""
    url = urlsplit(api_base_url)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise BuildError(f"{api_base_url!r} is not an http(s) URL")
    return f"{url.scheme}://{url.netloc}"


def render_index(text: str, *, app_base_url: str, api_base_url: str) -> str:
    """`index.html` with its `<base href>` and API meta tag set for a deployment."""
    if not _BASE.search(text) or not _API_META.search(text):
        raise BuildError(
            f'{INDEX} must hold <base href="..."> and <meta name="helptal-api" content="...">'
        )
    text = _BASE.sub(f'<base href="{base_path(app_base_url)}">', text, count=1)
    return _API_META.sub(
        f'<meta name="helptal-api" content="{api_origin(api_base_url)}">', text, count=1
    )


def _versioned_index(text: str, prefix: str, files: set[str]) -> str:
    def rewrite(match: re.Match[str]) -> str:
        start, target = match.groups()
        if urlsplit(target).scheme or target.startswith(("/", "#")):
            return match.group(0)
        if urlsplit(target).path not in files:
            raise BuildError(f"{INDEX} refers to {target!r}, which is not a file of the app")
        return f'{start}{prefix}{target}"'

    return _INDEX_REFERENCE.sub(rewrite, text)


def module_specifiers(source: str) -> list[str]:
    """The module specifiers a JavaScript module imports or re-exports (static and literal
    dynamic imports)."""
    return [
        specifier
        for specifier in _MODULE_SPECIFIER.findall(source)
        if specifier.startswith(("./", "../", "/"))
        or specifier.endswith((".js", ".mjs"))
        or "://" in specifier
    ]


def unresolved_references(out: Path) -> list[str]:
    """Every reference in a built file that does not lead to a built file (empty: all
    resolve): `index.html`'s `src`/`href`, modules' imports, stylesheets' `url()`."""
    problems: list[str] = []
    built = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    index = (out / INDEX).read_text(encoding="utf-8")
    match = _BASE.search(index)
    base = PurePosixPath("/")  # the bucket's root is the app's <base href>
    for _, target in _INDEX_REFERENCE.findall(index):
        if urlsplit(target).scheme or target.startswith("#"):
            continue
        if not _resolves(base, urlsplit(target).path, built):
            problems.append(f"{INDEX}: {target} is not built")
    if match is None:
        problems.append(f"{INDEX}: no <base href>")
    for key in sorted(built):
        here = PurePosixPath("/", key).parent
        if key.endswith((".js", ".mjs")):
            source = (out / key).read_text(encoding="utf-8")
            for specifier in module_specifiers(source):
                if "://" in specifier or not specifier.startswith(("./", "../", "/")):
                    problems.append(f"{key}: imports {specifier!r} (only relative paths load)")
                elif not _resolves(here, specifier, built):
                    problems.append(f"{key}: imports {specifier}, which is not built")
        elif key.endswith(".css"):
            for target in _CSS_URL.findall((out / key).read_text(encoding="utf-8")):
                if target.startswith(("data:", "#")):
                    continue
                if not _resolves(here, urlsplit(target).path, built):
                    problems.append(f"{key}: url({target}) is not built")
    return problems


def _resolves(directory: PurePosixPath, target: str, built: set[str]) -> bool:
    return _key_of(directory, target) in built


def _key_of(directory: PurePosixPath, target: str) -> str | None:
    """The key a relative URL met in `directory` (a path from the root) names."""
    parts: list[str] = []
    for part in (directory / target).parts[1:]:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


_ENTRY_MODULE = re.compile(r'<script type="module" src="([^"]+)"')


def _with_module_preloads(out: Path, index: str) -> str:
    """`index.html` with a `modulepreload` link for every module its entry modules import,
    at any depth: the browser fetches them all at once instead of one level of imports
    after another (a round trip each)."""
    entries = [urlsplit(src).path for src in _ENTRY_MODULE.findall(index)]
    pending, found = list(entries), []
    while pending:
        key = pending.pop(0)
        if key in found or not (out / key).is_file():
            continue
        found.append(key)
        here = PurePosixPath("/", key).parent
        for specifier in module_specifiers((out / key).read_text(encoding="utf-8")):
            imported = _key_of(here, specifier)
            if imported is not None:
                pending.append(imported)
    links = "".join(
        f'<link rel="modulepreload" href="{key}">\n' for key in found if key not in entries
    )
    return index.replace("</head>", links + "</head>", 1)


def build_web_client(
    out: Path,
    *,
    app_base_url: str = DEFAULT_APP_BASE_URL,
    api_base_url: str = DEFAULT_API_BASE_URL,
    webapp: Path = WEBAPP_DIR,
) -> WebBuild:
    """Replaces `out` with the web client's deployable files; raises BuildError if unfit."""
    files = source_files(webapp)
    if INDEX not in files:
        raise BuildError(f"{webapp / INDEX} is missing")
    version = version_of(webapp, files)
    prefix = f"{ASSETS}/{version}/"
    if out.exists():
        shutil.rmtree(out)
    keys: list[str] = []
    for relative in files:
        if relative == INDEX:
            continue
        targets = [prefix + relative]
        if relative.split("/", 1)[0] in STABLE_DIRECTORIES:
            targets.append(relative)
        for key in targets:
            (out / key).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(webapp / relative, out / key)
            keys.append(key)
    index = _versioned_index((webapp / INDEX).read_text(encoding="utf-8"), prefix, set(files))
    index = render_index(index, app_base_url=app_base_url, api_base_url=api_base_url)
    (out / INDEX).write_text(index, encoding="utf-8")
    problems = unresolved_references(out)
    if problems:
        raise BuildError(
            "the web client's references do not resolve:\n"
            + "\n".join(f"  {problem}" for problem in problems)
        )
    (out / INDEX).write_text(_with_module_preloads(out, index), encoding="utf-8")
    # Assets before the pages that refer to them; index.html last.
    ordered = sorted(keys, key=lambda key: (not key.startswith(prefix), key))
    return WebBuild(out, version, (*ordered, INDEX))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.web_build", description=__doc__)
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "build" / "package" / "webapp")
    parser.add_argument("--app-base-url", default=DEFAULT_APP_BASE_URL)
    parser.add_argument("--api-base-url", default=DEFAULT_API_BASE_URL)
    args = parser.parse_args(argv)
    try:
        build = build_web_client(
            args.out.resolve(), app_base_url=args.app_base_url, api_base_url=args.api_base_url
        )
    except BuildError as error:
        print(f"web client build: FAILED\n{error}", file=sys.stderr)
        return 1
    print(build.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
