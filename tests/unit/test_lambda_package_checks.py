"""`make package` refuses a zip that would fail on the Lambda runtime (no network, no chalice)."""

from __future__ import annotations

import ast
import importlib.metadata
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest
from chalice.constants import MISSING_DEPENDENCIES_TEMPLATE
from packaging.requirements import Requirement

from infra import package

PROJECT_DIR = Path(__file__).resolve().parents[2]


def _chalice_said(output: str):
    def run(command, **kwargs):
        if "chalice.cli" in " ".join(command):
            return subprocess.CompletedProcess(command, 0, stdout=output, stderr="")
        return subprocess.CompletedProcess(command, 0)  # python -m infra build

    return run


@pytest.fixture()
def project(tmp_path, monkeypatch) -> Path:
    """A project whose chalice run is faked (see `_chalice_said`)."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text("from chalice import Chalice\napp = Chalice('helptal')\n")
    (project / "requirements.txt").write_text("bm25s==0.3.16\nnumpy==2.4.6\n")
    monkeypatch.setattr(package, "PROJECT_DIR", project)
    return project


def test_chalice_warning_that_it_could_not_install_a_dependency_fails_make_package(
    project, monkeypatch, capsys
):
    chalice_output = "Creating deployment package.\n" + MISSING_DEPENDENCIES_TEMPLATE % (
        "numpy==2.4.6"
    )
    monkeypatch.setattr(package.subprocess, "run", _chalice_said(chalice_output))
    # The zip chalice cached with the dependency missing (it would reuse it silently).
    cached = package._chalice_cache_zip(project)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"")

    status = package.main(["--stage", "prod", "--out", str(project / "build" / "package")])

    assert status == 1
    error = capsys.readouterr().err
    assert "FAILED" in error
    assert "Could not install dependencies" in error
    assert "numpy==2.4.6" in error
    assert not cached.exists()


def test_every_line_chalice_prints_about_dependencies_that_may_not_work_is_reported():
    output = MISSING_DEPENDENCIES_TEMPLATE % "numpy==2.4.6"

    warnings = package.chalice_warnings(output)

    assert "Could not install dependencies:" in warnings
    assert any("may not work correctly" in line for line in warnings)


@pytest.mark.parametrize(
    "output",
    [
        "Creating deployment package.\n",
        "Creating deployment package.\nReusing existing deployment package.\n",
    ],
)
def test_chalice_output_of_a_clean_build_passes(output):
    assert package.chalice_warnings(output) == []


# --- the zip's contents ----------------------------------------------------------------------


def _dist(name: str, version: str, tag: str, files: dict[str, bytes], requires=()) -> dict:
    dist_info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    entries = {
        **files,
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": f"Wheel-Version: 1.0\nTag: {tag}\n".encode(),
    }
    entries[f"{dist_info}/RECORD"] = "".join(f"{path},,\n" for path in entries).encode()
    return entries


def _zip(path: Path, *entry_sets: dict) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for entries in entry_sets:
            for name, data in entries.items():
                archive.writestr(name, data)
        archive.writestr("app.py", b"")
        archive.writestr("chalice/app.py", b"")
    return path


def _elf(machine: int = 62, glibc: tuple[str, ...] = ("GLIBC_2.17",)) -> bytes:
    """A minimal 64-bit ELF file whose version needs name `glibc` (as libc.so.6's)."""
    strings = b"\0libc.so.6\0" + b"".join(v.encode() + b"\0" for v in glibc)
    names = [strings.index(v.encode()) for v in glibc]
    verneed = struct.pack("<HHIII", 1, len(glibc), 1, 16, 0)
    for index, name in enumerate(names):
        last = index == len(names) - 1
        verneed += struct.pack("<IHHII", 0, 0, index + 2, name, 0 if last else 16)
    strings_at = 64
    verneed_at = strings_at + len(strings)
    sections_at = verneed_at + len(verneed)
    header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header += struct.pack("<HHIQQQIHHHHHH", 3, machine, 1, 0, 0, sections_at, 0, 64, 0, 0, 64, 3, 0)
    section = "<IIQQQQIIQQ"
    sections = struct.pack(section, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    sections += struct.pack(section, 0, 3, 0, 0, strings_at, len(strings), 0, 0, 1, 0)
    sections += struct.pack(section, 0, 0x6FFFFFFE, 0, 0, verneed_at, len(verneed), 1, 1, 8, 0)
    return header + strings + verneed + sections


def test_elf_reader_finds_the_machine_and_newest_glibc_a_library_needs():
    library = package.read_elf(_elf(glibc=("GLIBC_2.14", "GLIBC_2.28", "GLIBC_2.3.4")))

    assert library == package.ElfLibrary(True, 62, (2, 28))


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        (
            "numpy/_core/x.cpython-313-x86_64-linux-gnu.so",
            _elf(glibc=("GLIBC_2.38",)),
            "glibc 2.38",
        ),
        ("Stemmer.cpython-313-x86_64-linux-gnu.so", _elf(machine=183), "machine 183"),
        ("Stemmer.cpython-311-x86_64-linux-gnu.so", _elf(), "cpython-311"),
        ("nh3/nh3.abi3.so", b"\xcf\xfa\xed\xfe macOS", "not an ELF"),
    ],
)
def test_shared_library_the_runtime_cannot_load_is_refused(name, data, problem):
    assert problem in (package.shared_library_problem(name, data) or "")


def test_shared_libraries_built_for_the_runtime_pass():
    assert package.shared_library_problem("nh3/nh3.abi3.so", _elf(glibc=("GLIBC_2.34",))) is None
    assert package.shared_library_problem("numpy.libs/libgfortran.so.5", _elf()) is None


@pytest.mark.parametrize(
    "tag",
    [
        "cp313-cp313-manylinux_2_39_x86_64",  # newer glibc than Amazon Linux 2023's 2.34
        "cp311-cp311-manylinux_2_17_x86_64",  # another Python
        "cp313-cp313-manylinux_2_17_aarch64",  # another machine
        "cp313-cp313-linux_x86_64",  # built on this machine, against its glibc
    ],
)
def test_wheel_for_another_runtime_is_refused(tmp_path, tag):
    zip_path = _zip(
        tmp_path / "deployment.zip", _dist("numpy", "2.5.5", tag, {"numpy/__init__.py": b""})
    )

    problems = package.verify_zip(zip_path, [Requirement("numpy==2.5.5")])

    assert problems == [f"numpy-2.5.5.dist-info: {tag} does not run on python3.13"]


@pytest.mark.parametrize(
    "tag",
    ["cp313-cp313-manylinux_2_28_x86_64", "cp38-abi3-manylinux2014_x86_64", "py3-none-any"],
)
def test_wheel_for_the_runtime_passes(tmp_path, tag):
    zip_path = _zip(
        tmp_path / "deployment.zip", _dist("numpy", "2.5.5", tag, {"numpy/__init__.py": b""})
    )

    assert package.verify_zip(zip_path, [Requirement("numpy==2.5.5")]) == []


def test_a_pinned_or_declared_dependency_missing_from_the_zip_is_reported(tmp_path):
    bm25s = _dist("bm25s", "0.3.16", "py3-none-any", {"bm25s/__init__.py": b""}, ["numpy"])
    zip_path = _zip(tmp_path / "deployment.zip", bm25s)

    problems = package.verify_zip(
        zip_path, [Requirement("bm25s==0.3.16"), Requirement("PyStemmer==3.1.0")]
    )

    assert sorted(problems) == [
        "PyStemmer==3.1.0 is not in the zip",
        "numpy (needed by bm25s) is not in the zip",
    ]


def test_pruning_leaves_out_distributions_never_imported_and_stray_bytecode(tmp_path):
    lxml = _dist("lxml", "6.1.3", "cp313-cp313-manylinux_2_28_x86_64", {"lxml/etree.py": b""})
    quotequail = _dist(
        "quotequail", "0.5.4", "py3-none-any", {"quotequail/__init__.py": b""}, ["lxml>=6"]
    )
    bytecode = {"chalicelib/__pycache__/ids.cpython-313.pyc": b"", "chalicelib/ids.py": b""}
    zip_path = _zip(tmp_path / "deployment.zip", lxml, quotequail, bytecode)

    left_out = package.prune(zip_path)

    assert set(left_out) == {"lxml"}
    names = zipfile.ZipFile(zip_path).namelist()
    assert not [n for n in names if n.startswith("lxml") or "__pycache__" in n]
    assert {"quotequail/__init__.py", "chalicelib/ids.py", "app.py"} <= set(names)
    # quotequail declares lxml: left out on purpose, so not reported missing.
    assert package.verify_zip(zip_path, [Requirement("quotequail==0.5.4")]) == []


def test_pruning_keeps_babel_data_for_the_languages_the_product_speaks_only(tmp_path):
    from chalicelib.translations import LOCALES

    data = {
        f"babel/locale-data/{name}.dat": b""
        for name in ("root", "en", "en_GB", "fr", "fr_CA", "de", "zh_Hant_TW", "frr")
    }
    babel = _dist("babel", "2.19.0", "py3-none-any", {"babel/__init__.py": b"", **data})
    zip_path = _zip(tmp_path / "deployment.zip", babel)

    package.prune(zip_path)

    kept = {n for n in zipfile.ZipFile(zip_path).namelist() if n.startswith("babel/locale")}
    assert kept == {f"babel/locale-data/{n}.dat" for n in ("root", "en", "en_GB", "fr", "fr_CA")}
    assert set(LOCALES) <= set(package.BABEL_LOCALES_KEPT)


def _imported_top_level_modules(paths: list[Path]) -> set[str]:
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_the_app_never_imports_a_distribution_left_out_of_the_zip():
    sources = [PROJECT_DIR / "app.py", *sorted((PROJECT_DIR / "chalicelib").rglob("*.py"))]
    left_out_modules = {
        module
        for module, distributions in importlib.metadata.packages_distributions().items()
        if any(d.lower() in package.NEVER_IMPORTED for d in distributions)
    }

    assert "lxml" in left_out_modules
    assert _imported_top_level_modules(sources) & left_out_modules == set()
    # quotequail's HTML functions import lxml.
    assert not [path for path in sources if "quote_html" in path.read_text()]
    assert not [path for path in sources if "unwrap_html" in path.read_text()]


def test_dependencies_of_a_good_build_come_back_with_the_current_app_code(project, tmp_path):
    built = package._chalice_cache_zip(project)
    built.parent.mkdir(parents=True)
    with zipfile.ZipFile(built, "w") as archive:
        archive.writestr("numpy/__init__.py", b"# numpy")
        archive.writestr("app.py", b"# the app as it was")
    cache_dir = tmp_path / "not-yet" / "deployments"

    package._keep_dependencies(project, cache_dir)
    (project / "app.py").write_text("# the app, changed\n")
    package._seed_chalice_cache(project, cache_dir)

    with zipfile.ZipFile(package._chalice_cache_zip(project)) as archive:
        assert archive.read("numpy/__init__.py") == b"# numpy"
        assert archive.read("app.py") == b"# the app, changed\n"
        assert "chalice/app.py" in archive.namelist()
