"""The zip `make package` builds imports on the Lambda runtime (python3.13, x86_64).

The zip is unpacked and imported by a fresh interpreter that sees only the zip and the
standard library (`python -I -S`): nothing from .venv can stand in for a missing dependency.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from infra.package import (
    NEVER_IMPORTED,
    RUNTIME,
    RUNTIME_EXTENSION,
    UNZIPPED_LIMIT,
    read_distributions,
    shared_library_problem,
)
from tests.integration.lambda_build import (
    build_lambda_package,
    offline_pip_environment,
    snapshot_of_project,
)

# Runs in the fresh interpreter: argv = [unzipped dir, modules to import, Lambda's environment].
_IMPORT_EVERYTHING = r"""
import importlib, importlib.util, json, os, sys
root, modules = sys.argv[1], json.loads(sys.argv[2])
os.environ.update(json.loads(sys.argv[3]))
leaked = [p for p in sys.path if "-packages" in p]
sys.path.insert(0, root)

import app
heavy_at_cold_start = sorted(
    m
    for m in (
        "anthropic", "openai", "stripe", "swagger_ui_bundle", "pyotp", "segno", "cryptography"
    )
    if m in sys.modules
)

failed = {}
for name in modules:
    try:
        importlib.import_module(name)
    except BaseException as error:
        failed[name] = f"{type(error).__name__}: {error}"

# What the review found broken: knowledge-base search, language detection, reply threading.
from chalicelib.ai.language import detect_language
from chalicelib.kb.passage_index import KbIndex, SearchableArticle
import argon2, quotequail
from chalicelib.api.docs import reference_script, swagger_ui_file
from chalicelib.translations import words
from chalicelib.accounts import two_factor_codes
from chalicelib.store.secret_box import TwoFactorSecretBox
import pyotp
box = TwoFactorSecretBox(lambda: ("ab" * 32, ""))
sealed = box.seal("U1", "JBSWY3DPEHPK3PXP")
article = SearchableArticle(
    id="art_1", title="Reset your password", body="Open Settings, then choose Reset password.",
    url="/help/reset-password", locale="en", status="published",
)
features = {
    "kb_search": [hit.article_id for hit in KbIndex.build([article]).search("password")],
    "language": detect_language("Bonjour, je n'arrive plus à me connecter à mon compte."),
    "quoted_history": len(quotequail.quote("Thanks!\n\nOn Mon, Ann wrote:\n> hi", limit=10)),
    "argon2": argon2.PasswordHasher().verify(argon2.PasswordHasher().hash("pw"), "pw"),
    # Two-factor sign-in: a TOTP code of the 20th 30-second step matches that step.
    "two_factor": [
        two_factor_codes.matching_step(
            "JBSWY3DPEHPK3PXP" * 2, pyotp.TOTP("JBSWY3DPEHPK3PXP" * 2).at(615), 615
        ),
        two_factor_codes.qr_code_data_uri("otpauth://totp/x?secret=A").startswith("data:image"),
        # Its secrets sealed with AES-256-GCM (cryptography's compiled Rust, abi3).
        sealed.startswith("v1:") and box.open("U1", sealed).secret == "JBSWY3DPEHPK3PXP",
    ],
    "api_reference": {
        "swagger_ui": "SwaggerUIBundle" in swagger_ui_file("swagger-ui-bundle.js"),
        "stylesheet": ".swagger-ui" in swagger_ui_file("swagger-ui.css"),
        "starter": "SwaggerUIBundle(" in reference_script(),
    },
    # Babel and the compiled catalogs ship: French plural, informal form.
    "catalogs": words("fr", "informal").plural("invitation.expiry", 2).format(days=2),
}
# Lambda's /var/task is read-only: what has no bytecode in the zip is compiled at every cold
# start (this interpreter runs with -B, so it writes none either).
without_bytecode = sorted(
    module.__file__
    for module in list(sys.modules.values())
    if getattr(module, "__file__", None)
    and module.__file__.startswith(root)
    and module.__file__.endswith(".py")
    and not os.path.exists(importlib.util.cache_from_source(module.__file__))
)
with open(importlib.util.cache_from_source(app.__file__), "rb") as pyc:
    app_pyc_flags = int.from_bytes(pyc.read(8)[4:8], "little")
loaded_from = sorted({
    os.path.dirname(module.__file__)
    for module in list(sys.modules.values())
    if getattr(module, "__file__", None)
})
print(json.dumps({
    "leaked": leaked, "heavy_at_cold_start": heavy_at_cold_start, "failed": failed,
    "features": features, "loaded_from": loaded_from, "lxml_imported": "lxml" in sys.modules,
    "without_bytecode": without_bytecode, "app_pyc_flags": app_pyc_flags,
}))
"""


def _environment_of(sam: dict, function_id: str) -> dict[str, str]:
    """A function's environment variables as deployed with the template's default parameters."""
    defaults = {name: p.get("Default", "") for name, p in sam.get("Parameters", {}).items()}

    def resolve(value) -> str:
        if isinstance(value, str):
            return value
        if "Ref" in value:
            return defaults[value["Ref"]]
        # A resource's attribute (the WebSocket API's id) stays as written, as `${AWS::...}` does.
        return re.sub(
            r"\$\{(\w+)\}", lambda m: defaults.get(m.group(1), m.group(0)), value["Fn::Sub"]
        )

    variables = sam["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    return {name: resolve(value) for name, value in variables.items()}


@pytest.fixture(scope="module")
def unzipped(lambda_package, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("var-task")
    with zipfile.ZipFile(lambda_package.zip_path) as archive:
        archive.extractall(root)
    return root


@pytest.fixture(scope="module")
def runtime_modules(lambda_package) -> list[str]:
    """Every top-level module of every distribution in the zip."""
    with zipfile.ZipFile(lambda_package.zip_path) as archive:
        distributions = read_distributions(archive).values()
    return sorted({name for dist in distributions for name in dist.top_level_modules()})


@pytest.fixture(scope="module")
def imported(lambda_package, unzipped, runtime_modules) -> dict:
    lambda_environment = {
        **_environment_of(lambda_package.sam, "APIHandler"),
        "AWS_REGION": "ap-southeast-1",
        "AWS_DEFAULT_REGION": "ap-southeast-1",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-B",
            "-c",
            _IMPORT_EVERYTHING,
            str(unzipped),
            json.dumps(runtime_modules),
            json.dumps(lambda_environment),
        ],
        cwd=unzipped,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_package_fits_lambda_and_reports_its_sizes(lambda_package, record_property):
    print(f"\n{lambda_package.output}")
    record_property("zipped_bytes", lambda_package.zipped_bytes)
    record_property("unzipped_bytes", lambda_package.unzipped_bytes)
    record_property("packaging_seconds", round(lambda_package.seconds, 1))

    assert lambda_package.unzipped_bytes <= UNZIPPED_LIMIT
    assert "verdict: ok" in lambda_package.output
    for function in lambda_package.sam["Resources"].values():
        if function["Type"] == "AWS::Serverless::Function":
            assert function["Properties"]["Runtime"] == RUNTIME


def test_fresh_interpreter_sees_only_the_zip_and_the_standard_library(unzipped, imported):
    stdlib = {Path(sysconfig.get_path(name)) for name in ("stdlib", "platstdlib")}
    outside = [
        directory
        for directory in imported["loaded_from"]
        if not Path(directory).is_relative_to(unzipped)
        and not any(Path(directory).is_relative_to(root) for root in stdlib)
    ]

    assert imported["leaked"] == []
    assert outside == []


def test_every_module_a_cold_start_imports_comes_compiled_in_the_zip(imported):
    assert imported["without_bytecode"] == []
    # Hash-based and unchecked (PEP 552): used as it is, no stat of the source.
    assert imported["app_pyc_flags"] == 0b01


def test_app_imports_without_the_ai_and_billing_sdks(imported):
    assert imported["heavy_at_cold_start"] == []


def test_every_dependency_in_the_zip_imports(runtime_modules, imported):
    assert {
        "numpy",
        "bm25s",
        "Stemmer",
        "py3langid",
        "pydantic_core",
        "nh3",
        "cryptography",
    } <= set(runtime_modules)
    assert imported["failed"] == {}


def test_search_language_detection_and_reply_threading_work_from_the_zip(imported):
    assert imported["features"] == {
        "kb_search": ["art_1"],
        "language": "fr",
        "quoted_history": 2,
        "argon2": True,
        "two_factor": [20, True, True],
        "api_reference": {"swagger_ui": True, "stylesheet": True, "starter": True},
        "catalogs": "Ce lien ne fonctionne qu'une fois et expire dans 2 jours.",
    }
    assert imported["lxml_imported"] is False


def test_every_compiled_extension_is_built_for_the_runtime(unzipped):
    libraries = [path for path in unzipped.rglob("*.so*") if path.is_file()]
    # Bundled C libraries (auditwheel's <dist>.libs) are loaded by extensions, not imported.
    extensions = [
        path
        for path in libraries
        if path.name.endswith(".so") and not path.parent.name.endswith(".libs")
    ]

    assert any(RUNTIME_EXTENSION in path.name for path in extensions)
    assert [
        problem
        for path in libraries
        if (problem := shared_library_problem(str(path.relative_to(unzipped)), path.read_bytes()))
    ] == []
    assert [
        path.name
        for path in extensions
        if not path.name.endswith((f".{RUNTIME_EXTENSION}.so", ".abi3.so"))
    ] == []


def test_distributions_never_imported_and_tooling_are_left_out(lambda_package):
    with zipfile.ZipFile(lambda_package.zip_path) as archive:
        names = archive.namelist()
        distributions = read_distributions(archive)
    tooling = {"chalice", "click", "inquirer", "pyyaml", "blessed", "readchar", "pytest", "moto"}

    assert set(distributions) & (set(NEVER_IMPORTED) | tooling) == set()
    assert not [name for name in names if name.startswith(("lxml/", "pip/", "setuptools/"))]
    # Bytecode only as the package compiles it: for the runtime's Python, beside its source
    # (none from the development tree, no other version's, none stale).
    sources = {name for name in names if name.endswith(".py")}
    for name in (n for n in names if n.endswith(".pyc")):
        directory, _, file = name.rpartition("__pycache__/")
        module, _, tag = file.partition(".")
        assert tag == "cpython-313.pyc", name
        assert f"{directory}{module}.py" in sources, name
    # chalice's runtime module ships; its CLI does not.
    assert "chalice/app.py" in names
    assert not [name for name in names if name.startswith("chalice/cli/")]


def test_a_code_change_packages_offline_from_the_dependencies_of_the_last_build(
    lambda_package, tmp_path
):
    project = snapshot_of_project(tmp_path / "project")
    with (project / "app.py").open("a") as app_file:
        app_file.write("# changed after the last package\n")
    (tmp_path / "no-wheels").mkdir()

    rebuilt = build_lambda_package(
        tmp_path, project=project, env=offline_pip_environment(tmp_path / "no-wheels")
    )

    assert "no download: cached dependencies" in rebuilt.output
    with zipfile.ZipFile(rebuilt.zip_path) as archive:
        assert archive.read("app.py").endswith(b"# changed after the last package\n")
    print(f"\n{rebuilt.output}")
