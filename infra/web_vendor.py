"""The web client's third-party ES modules, pinned, vendored from the npm registry.

The app (`webapp/`) runs in the browser as plain ES modules, with no build step
(docs/decisions/0022).  Its few third-party modules are copied into `webapp/vendor/` from
the packages' published tarballs, and committed, so that `make run` and `make test` need no
network.  This script refreshes them:

    python -m infra.web_vendor           # download the pinned tarballs, check, copy
    python -m infra.web_vendor --check   # offline: the vendored files are the pinned ones

For each package it downloads `PACKAGES[...].tarball`, refuses it unless its sha512 equals
the pinned `integrity` (the registry's own Subresource-Integrity value), and copies the
listed ESM files and the licence.  Bare imports between the vendored modules (`"preact"`,
`"htm"`) become relative paths, since the browser has no import map here (an inline one
would need `'unsafe-inline'` in the Content-Security-Policy), and source-map comments are
dropped (the maps are not vendored).  `webapp/vendor/manifest.json` records the sha256 of
every file written; `--check` and `tests/unit/test_web_client_vendor.py` compare against it.

axe-core, the accessibility checker the browser tests run on every screen, is pinned the
same way in `TEST_PACKAGES` and vendored into `tests/e2e/vendor/` (its own manifest): it is
never served with the app.

To move to a new version: change `version`, `tarball` and `integrity` (from
`npm view <name>@<version> dist.tarball dist.integrity`), run the script, try the app, and
commit `webapp/vendor/` with the change."""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
VENDOR_DIR = PROJECT_DIR / "webapp" / "vendor"
TEST_VENDOR_DIR = PROJECT_DIR / "tests" / "e2e" / "vendor"
MANIFEST = "manifest.json"
REGISTRY = "https://registry.npmjs.org"
DOWNLOAD_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Package:
    """One npm package: the exact tarball, its integrity, and what is copied out of it."""

    name: str
    version: str
    integrity: str  # the registry's `dist.integrity` (sha512, base64)
    licence: str  # SPDX id, as the package declares it
    files: dict[str, str]  # vendored name -> path inside the tarball (under `package/`)

    @property
    def tarball(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name}-{self.version}.tgz"


PACKAGES = (
    Package(
        name="preact",
        version="11.2.0",
        integrity="sha512-/HfHI/7N84e6GrWBJ3J280z3mLaRJiDcSvj/A+y/4AbLnND/1UlGHe1sR6oYuTGwId0nP7dqDU9OnLxMPZ7xBg==",
        licence="MIT",
        files={
            "preact.mjs": "dist/preact.mjs",
            "preact-hooks.mjs": "hooks/dist/hooks.mjs",
            "LICENSE-preact": "LICENSE",
        },
    ),
    Package(
        name="htm",
        version="3.1.1",
        integrity="sha512-983Vyg8NwUE7JkZ6NmOqpCZ+sh1bKv2iYTlUkzlWmA5JD2acKoxd4KVxbMmxX/85mtfdnDmTFoNKcg5DGAvxNQ==",
        licence="Apache-2.0",
        files={
            "htm.mjs": "dist/htm.mjs",
            "htm-preact.mjs": "preact/index.mjs",
            "LICENSE-htm": "LICENSE",
        },
    ),
)

# For the browser tests only (tests/e2e/vendor), never served with the app.
TEST_PACKAGES = (
    Package(
        name="axe-core",
        version="4.14.1",
        integrity="sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
        licence="MPL-2.0",
        files={"axe.min.js": "axe.min.js", "LICENSE-axe-core": "LICENSE"},
    ),
)

# Bare module names the vendored files import, and the vendored file each one means.
BARE_IMPORTS = {"preact": "./preact.mjs", "htm": "./htm.mjs"}
_IMPORT = re.compile(r"""(\bfrom\s*|\bimport\s*)(["'])([^"'./][^"']*)\2""")
_SOURCE_MAP = re.compile(r"\n?//# sourceMappingURL=\S+\s*$")


class VendorError(Exception):
    """A tarball that does not match its pin, or a file missing from it."""


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rewrite_module(source: str) -> str:
    """`source` with bare imports made relative and its source-map comment removed;
    raises VendorError for a bare import no vendored file provides."""

    def relative(match: re.Match[str]) -> str:
        keyword, quote, name = match.groups()
        if name not in BARE_IMPORTS:
            raise VendorError(f"import of {name!r}, which is not vendored")
        return f"{keyword}{quote}{BARE_IMPORTS[name]}{quote}"

    return _SOURCE_MAP.sub("\n", _IMPORT.sub(relative, source)).rstrip("\n") + "\n"


def vendored_files(package: Package, tarball: bytes) -> dict[str, bytes]:
    """The files `package` vendors, taken out of its checked tarball."""
    if sri(tarball) != package.integrity:
        raise VendorError(f"{package.name}@{package.version}: the tarball's integrity differs")
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for name, inside in package.files.items():
            try:
                member = archive.extractfile(f"package/{inside}")
            except KeyError:
                member = None
            if member is None:
                raise VendorError(f"{package.name}@{package.version} has no {inside}")
            data = member.read()
            if name.endswith(".mjs"):
                data = rewrite_module(data.decode("utf-8")).encode("utf-8")
            out[name] = data
    return out


def manifest_of(
    files: dict[str, dict[str, bytes]], packages: tuple[Package, ...] = PACKAGES
) -> dict[str, object]:
    """What `webapp/vendor/manifest.json` says: each package's pin and its files' sha256."""
    return {
        "packages": [
            {
                "name": package.name,
                "version": package.version,
                "licence": package.licence,
                "tarball": package.tarball,
                "integrity": package.integrity,
                "files": {name: sha256(data) for name, data in sorted(files[package.name].items())},
            }
            for package in packages
        ]
    }


def download(url: str) -> bytes:
    if not url.startswith(REGISTRY + "/"):
        raise VendorError(f"{url} is not on {REGISTRY}")
    # Only the registry's https URLs reach here (checked above).
    request = urllib.request.Request(url, headers={"User-Agent": "helptal-web-vendor"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:  # noqa: S310
        data: bytes = response.read()
    return data


def refresh(vendor_dir: Path = VENDOR_DIR, packages: tuple[Package, ...] = PACKAGES) -> list[str]:
    """Downloads every pinned tarball, checks it and writes the vendored files and the
    manifest into `vendor_dir` (files no package lists any more are removed)."""
    files = {
        package.name: vendored_files(package, download(package.tarball)) for package in packages
    }
    vendor_dir.mkdir(parents=True, exist_ok=True)
    wanted = {name for by_name in files.values() for name in by_name} | {MANIFEST}
    for stale in vendor_dir.iterdir():
        if stale.is_file() and stale.name not in wanted:
            stale.unlink()
    written = []
    for by_name in files.values():
        for name, data in by_name.items():
            (vendor_dir / name).write_bytes(data)
            written.append(name)
    manifest = json.dumps(manifest_of(files, packages), indent=2) + "\n"
    (vendor_dir / MANIFEST).write_text(manifest, encoding="utf-8")
    return sorted(written)


def problems(vendor_dir: Path = VENDOR_DIR, packages: tuple[Package, ...] = PACKAGES) -> list[str]:
    """Offline: how `vendor_dir` differs from the pins (empty when it matches)."""
    path = vendor_dir / MANIFEST
    if not path.exists():
        return [f"{path} is missing: run `make web-vendor`"]
    manifest = json.loads(path.read_text(encoding="utf-8"))
    found: list[str] = []
    recorded = {p["name"]: p for p in manifest["packages"]}
    listed: set[str] = {MANIFEST}
    for package in packages:
        entry = recorded.pop(package.name, None)
        if entry is None:
            found.append(f"{package.name} is pinned but not vendored")
            continue
        for key in ("version", "integrity", "tarball", "licence"):
            if entry[key] != getattr(package, key):
                found.append(f"{package.name}: vendored {key} {entry[key]!r}, pinned differs")
        if set(entry["files"]) != set(package.files):
            found.append(f"{package.name}: vendored files {sorted(entry['files'])} differ")
        for name, digest in entry["files"].items():
            listed.add(name)
            file = vendor_dir / name
            if not file.exists():
                found.append(f"{name} is missing")
            elif sha256(file.read_bytes()) != digest:
                found.append(f"{name} differs from the file taken from {package.name}")
    found.extend(f"{name} is vendored but not pinned" for name in recorded)
    found.extend(
        f"{file.name} is in {vendor_dir.name}/ but no package provides it"
        for file in sorted(vendor_dir.iterdir())
        if file.name not in listed
    )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.web_vendor", description=__doc__)
    parser.add_argument("--check", action="store_true", help="offline: compare with the pins")
    args = parser.parse_args(argv)
    if args.check:
        found = problems() + problems(TEST_VENDOR_DIR, TEST_PACKAGES)
        for problem in found:
            print(f"web vendor: {problem}", file=sys.stderr)
        return 1 if found else 0
    try:
        written = refresh()
        for_tests = refresh(TEST_VENDOR_DIR, TEST_PACKAGES)
    except (VendorError, OSError) as e:
        print(f"web vendor: {e}", file=sys.stderr)
        return 1
    print(f"webapp/vendor: {', '.join(written)} and {MANIFEST}")
    print(f"tests/e2e/vendor: {', '.join(for_tests)} and {MANIFEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
