"""The web client's vendored modules are exactly the pinned packages' files (offline)."""

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from infra import web_vendor

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
# docs/decisions/0022: the app's code, gzip-compressed, stays under this.
APP_CODE_BUDGET_BYTES = 300 * 1024


def test_vendored_files_match_the_pinned_packages():
    assert web_vendor.problems() == []


def test_every_pinned_package_ships_its_licence():
    for package in web_vendor.PACKAGES:
        licences = [name for name in package.files if name.startswith("LICENSE")]
        assert licences, package.name
        assert all((web_vendor.VENDOR_DIR / name).read_text().strip() for name in licences)


def test_a_changed_vendored_file_is_reported(tmp_path):
    for file in web_vendor.VENDOR_DIR.iterdir():
        (tmp_path / file.name).write_bytes(file.read_bytes())
    (tmp_path / "preact.mjs").write_text("export const h = () => null;\n")
    (tmp_path / "left-over.mjs").write_text("")

    found = web_vendor.problems(tmp_path)

    assert "preact.mjs differs from the file taken from preact" in found
    assert "left-over.mjs is in " + tmp_path.name + "/ but no package provides it" in found


def _tarball(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_a_tarball_whose_integrity_differs_is_refused():
    package = web_vendor.PACKAGES[0]
    forged = _tarball({inside: b"alert(1)" for inside in package.files.values()})

    with pytest.raises(web_vendor.VendorError, match="integrity"):
        web_vendor.vendored_files(package, forged)


def test_bare_imports_become_relative_and_source_maps_are_dropped():
    source = 'import{h as r}from"preact";import e from"htm";\n//# sourceMappingURL=x.mjs.map\n'

    assert web_vendor.rewrite_module(source) == (
        'import{h as r}from"./preact.mjs";import e from"./htm.mjs";\n'
    )
    with pytest.raises(web_vendor.VendorError, match="not vendored"):
        web_vendor.rewrite_module('import x from"left-pad";')


def test_no_vendored_module_imports_anything_but_another_vendored_file():
    for module in web_vendor.VENDOR_DIR.glob("*.mjs"):
        web_vendor.rewrite_module(module.read_text())  # raises on a bare import


def test_the_app_code_stays_within_its_compressed_size_budget():
    code = [
        path
        for path in WEBAPP.rglob("*")
        if path.is_file() and path.suffix in {".html", ".js", ".mjs", ".css", ".json", ".svg"}
    ]
    compressed = sum(len(gzip.compress(path.read_bytes(), 9)) for path in code)

    assert compressed < APP_CODE_BUDGET_BYTES
