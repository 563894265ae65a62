"""`python -m infra.package --stage prod --out build/package`: a Lambda package that imports.

Runs `python -m infra build` (merge template, policy files), then `chalice package` with the
interpreter that runs this module (chalice picks the Lambda runtime from it: python3.13).
Fails, instead of shipping a zip that breaks on first import, when chalice warns (e.g. "Could
not install dependencies"), when a pinned or declared dependency is not in the zip, when a
wheel's tags or a shared library do not fit the runtime (cp313, manylinux glibc <= 2.34,
x86_64), and when the template would put workspace content outside the content region
(`infra.residency`: the stack is built for that region only and refuses to deploy in any
other). Leaves out the distributions listed in NEVER_IMPORTED, then prints the zipped and
unzipped sizes against Lambda's limits. Then lays out the web client for S3 and CloudFront in
`<out>/webapp/` (infra/web_build.py), failing when one of its references does not resolve.

Dependencies are downloaded once per requirements.txt: the first clean build keeps them in
`.chalice/deployments/deps-*.zip`, and later builds put the current app code into a copy of it
(chalice's own cache is keyed on the app code too, so it alone would download on every edit).
"""

from __future__ import annotations

import argparse
import csv
import email.parser
import hashlib
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from chalice.utils import UI
from packaging import tags
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from chalicelib.privacy.residency import CONTENT_REGION, refusal
from infra.residency import ContentOutsideRegion, template_refusals
from infra.web_build import BuildError, build_web_client

PROJECT_DIR = Path(__file__).resolve().parent.parent
RUNTIME = "python3.13"
RUNTIME_PYTHON = (3, 13)
RUNTIME_ABI = "cp313"
RUNTIME_EXTENSION = "cpython-313-x86_64-linux-gnu"  # importlib.machinery.EXTENSION_SUFFIXES
RUNTIME_GLIBC = (2, 34)  # Amazon Linux 2023
MACHINE = "x86_64"
DEFAULT_REGION = CONTENT_REGION
_VERSION = RUNTIME.removeprefix("python")
MIB = 1024 * 1024
ZIPPED_LIMIT = 50 * MIB  # a direct upload (CreateFunction / UpdateFunctionCode with ZipFile)
UNZIPPED_LIMIT = 250 * MIB  # the function and its layers, unzipped: a hard limit

# Distributions a runtime dependency pulls in but nothing imports at run time: left out of the
# zip. (tests/unit/test_lambda_package_checks.py fails if the app starts importing one.)
NEVER_IMPORTED = {
    "lxml": "quotequail's HTML functions need it; chalicelib calls only quotequail.quote (text)",
    "pip": "an installer",
    "setuptools": "a build backend",
    "wheel": "a build backend",
}

# Babel's CLDR data for the languages the product speaks (chalicelib.translations.LOCALES) and
# the root they inherit from; the other ~700 locales (about 30 MB) are never loaded.
_BABEL_LOCALE_DATA = re.compile(r"^babel/locale-data/(?P<locale>[^/]+)\.dat$")
BABEL_LOCALES_KEPT = ("root", "en", "fr")


def unused_locale_data(name: str) -> bool:
    """Whether `name` is Babel data for a language the product never speaks."""
    found = _BABEL_LOCALE_DATA.match(name)
    if found is None:
        return False
    language = found.group("locale").split("_")[0]
    return language not in BABEL_LOCALES_KEPT


# Anything chalice prints about a dependency it could not install: it exits 0 regardless.
_CHALICE_WARNING = re.compile(
    r"warn|could not|may not work|missing|you will have to build|error|traceback", re.IGNORECASE
)
_EXTENSION_SUFFIX = re.compile(r"\.(cpython-[^.]+|abi3)\.so$")
_SHARED_LIBRARY = re.compile(r"\.so(\.\d+)*$")
_FOREIGN_BINARY = re.compile(r"\.(pyd|dll|dylib)$", re.IGNORECASE)


class PackagingError(Exception):
    """The package must not ship; the message says why."""


@dataclass
class PackageReport:
    zip_path: Path
    zipped_bytes: int
    unzipped_bytes: int
    pruned: dict[str, str] = field(default_factory=dict)  # distribution -> why
    reused_dependencies: bool = False

    @property
    def fits_direct_upload(self) -> bool:
        return self.zipped_bytes <= ZIPPED_LIMIT

    @property
    def fits_unzipped(self) -> bool:
        return self.unzipped_bytes <= UNZIPPED_LIMIT

    def summary(self) -> str:
        def line(label: str, size: int, limit: int, note: str) -> str:
            verdict = "within" if size <= limit else "OVER"
            return f"  {label:9} {size / MIB:6.1f} MiB of {limit / MIB:3.0f} MiB {note}: {verdict}"

        if not self.fits_unzipped:
            verdict = "TOO BIG: Lambda refuses a function over 250 MiB unzipped"
        elif not self.fits_direct_upload:
            verdict = "ok through S3 (sam/cloudformation deploy upload it there), not directly"
        else:
            verdict = "ok"
        return "\n".join(
            [
                f"{self.zip_path} ({RUNTIME}, {MACHINE}):",
                line("zipped", self.zipped_bytes, ZIPPED_LIMIT, "(direct upload)"),
                line("unzipped", self.unzipped_bytes, UNZIPPED_LIMIT, "(hard limit)"),
                f"  left out: {', '.join(sorted(self.pruned)) or 'nothing'}",
                f"verdict: {verdict}",
            ]
        )


# --- what chalice said -----------------------------------------------------------------------


def chalice_warnings(output: str) -> list[str]:
    """The lines of `chalice package` output that report a problem (empty when it is clean)."""
    return [line for line in output.splitlines() if _CHALICE_WARNING.search(line)]


# --- the runtime -----------------------------------------------------------------------------


def runtime_platforms() -> list[str]:
    newest = RUNTIME_GLIBC[1]
    legacy = [f"manylinux2014_{MACHINE}", f"manylinux2010_{MACHINE}", f"manylinux1_{MACHINE}"]
    return [f"manylinux_2_{minor}_{MACHINE}" for minor in range(newest, 4, -1)] + legacy


def runtime_tags() -> frozenset[tags.Tag]:
    """Every wheel tag the Lambda runtime can load (cp313/abi3/pure; manylinux <= 2.34)."""
    platforms = runtime_platforms()
    return frozenset(
        [
            *tags.cpython_tags(RUNTIME_PYTHON, [RUNTIME_ABI], platforms),
            *tags.compatible_tags(RUNTIME_PYTHON, RUNTIME_ABI, platforms),
        ]
    )


def runtime_marker_environment() -> dict[str, str]:
    environment = {name: str(value) for name, value in default_environment().items()}
    environment.update(
        {
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "python_version": _VERSION,
            "python_full_version": f"{_VERSION}.0",
            "implementation_version": f"{_VERSION}.0",
            "os_name": "posix",
            "sys_platform": "linux",
            "platform_system": "Linux",
            "platform_machine": MACHINE,
        }
    )
    return environment


# --- shared libraries ------------------------------------------------------------------------

_EM_X86_64 = 62
_SHT_GNU_VERNEED = 0x6FFFFFFE


@dataclass(frozen=True)
class ElfLibrary:
    is_64_bit_little_endian: bool
    machine: int
    glibc: tuple[int, ...]  # the newest GLIBC_x.y symbol version it needs; () for none


def read_elf(data: bytes) -> ElfLibrary | None:
    """The architecture and newest glibc symbol version of an ELF file (None: not ELF)."""
    if data[:4] != b"\x7fELF":
        return None
    if data[4] != 2 or data[5] != 1:  # ELFCLASS64, little-endian
        return ElfLibrary(False, 0, ())
    (machine,) = struct.unpack_from("<H", data, 18)
    (section_offset,) = struct.unpack_from("<Q", data, 0x28)
    entry_size, count = struct.unpack_from("<HH", data, 0x3A)
    sections = [
        struct.unpack_from("<IIQQQQII", data, section_offset + index * entry_size)
        for index in range(count)
    ]
    versions: set[tuple[int, ...]] = set()
    for _, kind, _, _, offset, _, link, entries in sections:
        if kind != _SHT_GNU_VERNEED:
            continue
        strings = sections[link][4]
        need = offset
        for _ in range(entries):
            _, aux_count, _, aux, next_need = struct.unpack_from("<HHIII", data, need)
            entry = need + aux
            for _ in range(aux_count):
                _, _, _, name, next_aux = struct.unpack_from("<IHHII", data, entry)
                end = data.index(b"\0", strings + name)
                symbol_version = data[strings + name : end].decode("ascii", "replace")
                if symbol_version.startswith("GLIBC_2"):
                    parts = symbol_version[len("GLIBC_") :].split(".")
                    versions.add(tuple(int(p) for p in parts if p.isdigit()))
                entry += next_aux
            need += next_need
    return ElfLibrary(True, machine, max(versions, default=()))


def shared_library_problem(name: str, data: bytes) -> str | None:
    """Why the runtime could not load this `.so` (None when it can)."""
    library = read_elf(data)
    if library is None:
        return f"{name}: not an ELF shared library"
    if not library.is_64_bit_little_endian or library.machine != _EM_X86_64:
        return f"{name}: built for ELF machine {library.machine}, not {MACHINE}"
    if library.glibc > RUNTIME_GLIBC:
        needed = ".".join(map(str, library.glibc))
        return f"{name}: needs glibc {needed}; {RUNTIME} has {RUNTIME_GLIBC[0]}.{RUNTIME_GLIBC[1]}"
    suffix = _EXTENSION_SUFFIX.search(name)
    expected = (RUNTIME_EXTENSION, "abi3")
    if suffix and suffix.group(1) not in expected:
        return f"{name}: an extension module for {suffix.group(1)}, not {RUNTIME}"
    return None


# --- the zip's distributions -----------------------------------------------------------------


@dataclass
class Distribution:
    name: str
    version: str
    dist_info: str  # "numpy-2.5.5.dist-info"
    metadata: Message
    wheel_tags: list[str]
    files: list[str]  # from RECORD, as they lie in the zip

    @property
    def key(self) -> str:
        return canonicalize_name(self.name)

    def requires(self) -> list[Requirement]:
        return [Requirement(text) for text in self.metadata.get_all("Requires-Dist") or []]

    def top_level_modules(self) -> list[str]:
        """The importable names this distribution installs at the top of sys.path."""
        names: set[str] = set()
        for path in self.files:
            first, _, rest = path.partition("/")
            if first.endswith((".dist-info", ".data", ".libs")) or first in ("bin", "__pycache__"):
                continue
            if rest and rest.endswith((".py", ".so")):
                names.add(first)
            elif not rest and first.endswith(".py"):
                names.add(first[: -len(".py")])
            elif not rest and first.endswith(".so"):
                names.add(first.split(".", 1)[0])
        return sorted(names)


def read_distributions(archive: zipfile.ZipFile) -> dict[str, Distribution]:
    """Every installed distribution in the zip, by canonical name."""
    entries = set(archive.namelist())
    found: dict[str, Distribution] = {}
    for dist_info in sorted({n.split("/", 1)[0] for n in entries if ".dist-info/" in n}):
        metadata = email.parser.Parser().parsestr(
            archive.read(f"{dist_info}/METADATA").decode("utf-8", "replace")
        )
        wheel = (
            archive.read(f"{dist_info}/WHEEL").decode() if f"{dist_info}/WHEEL" in entries else ""
        )
        record = (
            archive.read(f"{dist_info}/RECORD").decode() if f"{dist_info}/RECORD" in entries else ""
        )
        files = [_installed_path(row[0]) for row in csv.reader(io.StringIO(record)) if row]
        distribution = Distribution(
            name=metadata["Name"],
            version=metadata["Version"],
            dist_info=dist_info,
            metadata=metadata,
            wheel_tags=[
                line[len("Tag:") :].strip()
                for line in wheel.splitlines()
                if line.startswith("Tag:")
            ],
            files=[path for path in files if path in entries],
        )
        found[distribution.key] = distribution
    return found


def _installed_path(recorded: str) -> str:
    # chalice moves a wheel's <name>.data/purelib and platlib to the top of the zip.
    match = re.match(r"[^/]+\.data/(purelib|platlib)/(.+)", recorded)
    return match.group(2) if match else recorded


def pinned_requirements(requirements_file: Path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in requirements_file.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def verify_zip(zip_path: Path, requirements: Iterable[Requirement]) -> list[str]:
    """Why this zip would not work on the runtime (empty when it would)."""
    problems: list[str] = []
    supported = runtime_tags()
    with zipfile.ZipFile(zip_path) as archive:
        distributions = read_distributions(archive)
        problems += _missing_dependencies(distributions, list(requirements))
        for distribution in distributions.values():
            wheel_tags = {tag for text in distribution.wheel_tags for tag in tags.parse_tag(text)}
            if not wheel_tags & supported:
                shown = ", ".join(distribution.wheel_tags) or "no WHEEL tags"
                problems.append(f"{distribution.dist_info}: {shown} does not run on {RUNTIME}")
        for info in archive.infolist():
            if _FOREIGN_BINARY.search(info.filename):
                problems.append(f"{info.filename}: a binary for another platform")
            elif _SHARED_LIBRARY.search(info.filename):
                problem = shared_library_problem(info.filename, archive.read(info))
                if problem:
                    problems.append(problem)
        for name in ("app.py", "chalice/app.py"):
            if name not in archive.namelist():
                problems.append(f"{name} is not in the zip")
    return problems


def _missing_dependencies(
    distributions: Mapping[str, Distribution], requirements: list[Requirement]
) -> list[str]:
    """Every pinned requirement at its version and every dependency they declare, present."""
    problems = []
    for requirement in requirements:
        found = distributions.get(canonicalize_name(requirement.name))
        if found is None:
            problems.append(f"{requirement} is not in the zip")
        elif not requirement.specifier.contains(found.version, prereleases=True):
            problems.append(f"{requirement}: the zip has {found.name} {found.version}")
    environment = runtime_marker_environment()
    pending = [
        (canonicalize_name(r.name), frozenset(r.extras), "requirements.txt") for r in requirements
    ]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        key, extras, needed_by = pending.pop()
        if (key, extras) in seen or key in NEVER_IMPORTED:
            continue
        seen.add((key, extras))
        distribution = distributions.get(key)
        if distribution is None:
            if needed_by != "requirements.txt":
                problems.append(f"{key} (needed by {needed_by}) is not in the zip")
            continue
        for requirement in distribution.requires():
            wanted = ["", *sorted(extras)]
            marker = requirement.marker
            if marker is None or any(marker.evaluate({**environment, "extra": e}) for e in wanted):
                pending.append(
                    (
                        canonicalize_name(requirement.name),
                        frozenset(requirement.extras),
                        distribution.name,
                    )
                )
    return problems


# --- leaving out what is never imported ------------------------------------------------------


def prune(zip_path: Path, never_imported: Mapping[str, str] = NEVER_IMPORTED) -> dict[str, str]:
    """Rewrites the zip without those distributions, without Babel's data for languages the
    product does not speak, and without the dev tree's bytecode."""
    with zipfile.ZipFile(zip_path) as archive:
        distributions = read_distributions(archive)
        dropped = {key: why for key, why in never_imported.items() if key in distributions}
        left_out: set[str] = set()
        for key in dropped:
            distribution = distributions[key]
            left_out.update(distribution.files)
            left_out.update(
                n for n in archive.namelist() if n.startswith(distribution.dist_info + "/")
            )
        left_out.update(n for n in archive.namelist() if unused_locale_data(n))
        bytecode = {n for n in archive.namelist() if "/__pycache__/" in n or n.endswith(".pyc")}
        if not left_out and not bytecode:
            return dropped
        pruned_path = zip_path.with_suffix(".pruned.zip")
        with zipfile.ZipFile(pruned_path, "w", zipfile.ZIP_DEFLATED) as kept:
            for info in archive.infolist():
                if info.filename not in left_out and info.filename not in bytecode:
                    kept.writestr(info, archive.read(info), compress_type=zipfile.ZIP_DEFLATED)
    os.replace(pruned_path, zip_path)
    return dropped


def add_bytecode(zip_path: Path) -> int:
    """Adds bytecode for every module, compiled for the runtime's Python with hashes that are
    never checked: /var/task is read-only, so without it every cold start compiles each module
    it imports from source, every time.  Returns the number of modules compiled."""
    import compileall
    import py_compile
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with zipfile.ZipFile(zip_path) as archive:
            sources = [n for n in archive.namelist() if n.endswith(".py")]
            for name in sources:
                archive.extract(name, root)
        # Tracebacks name the files where Lambda puts them; a file that is not valid Python
        # 3.13 (a template, a test of another version) is never imported: left as it is.
        compileall.compile_dir(
            root,
            quiet=2,
            workers=0,
            ddir="/var/task",
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        compiled = sorted(root.rglob("*.pyc"))
        with zipfile.ZipFile(zip_path, "a", zipfile.ZIP_DEFLATED) as archive:
            for path in compiled:
                archive.write(path, path.relative_to(root).as_posix())
    return len(compiled)


def sizes(zip_path: Path) -> tuple[int, int]:
    with zipfile.ZipFile(zip_path) as archive:
        return zip_path.stat().st_size, sum(info.file_size for info in archive.infolist())


# --- dependencies downloaded once per requirements.txt --------------------------------------


def _chalice_cache_zip(project_dir: Path) -> Path:
    """The file chalice reuses instead of downloading (keyed on requirements and app code)."""
    from chalice.deploy.packager import DependencyBuilder, LambdaDeploymentPackager
    from chalice.utils import OSUtils

    osutils = OSUtils()
    packager = LambdaDeploymentPackager(osutils, DependencyBuilder(osutils), ui=_QuietUI())
    return Path(packager.deployment_package_filename(str(project_dir), RUNTIME))


class _QuietUI(UI):
    """Chalice's packager UI, saying nothing."""

    def write(self, msg: str) -> None:
        pass


def _dependencies_zip(project_dir: Path, cache_dir: Path) -> Path:
    import chalice

    key = hashlib.sha256((project_dir / "requirements.txt").read_bytes())
    key.update(f"{chalice.__version__} {RUNTIME} {MACHINE}".encode())
    return cache_dir / f"deps-{key.hexdigest()[:32]}-{RUNTIME}.zip"


def _is_app_file(name: str) -> bool:
    return name == "app.py" or name.startswith(("chalicelib/", "chalice/"))


def _seed_chalice_cache(project_dir: Path, cache_dir: Path) -> None:
    """Gives chalice the known-good dependencies plus the current app code (no download)."""
    from chalice.deploy.packager import DependencyBuilder, LambdaDeploymentPackager
    from chalice.utils import OSUtils

    target = _chalice_cache_zip(project_dir)
    dependencies = _dependencies_zip(project_dir, cache_dir)
    if target.exists() or not dependencies.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f"{target.stem}.{os.getpid()}.zip")
    shutil.copyfile(dependencies, staged)
    osutils = OSUtils()
    packager = LambdaDeploymentPackager(osutils, DependencyBuilder(osutils), ui=_QuietUI())
    packager.inject_latest_app(str(staged), str(project_dir))
    os.replace(staged, target)


def _keep_dependencies(project_dir: Path, cache_dir: Path) -> None:
    """Saves the dependencies of a verified build (without app code) for the next builds."""
    dependencies = _dependencies_zip(project_dir, cache_dir)
    built = _chalice_cache_zip(project_dir)
    if dependencies.exists() or not built.exists():
        return
    dependencies.parent.mkdir(parents=True, exist_ok=True)
    staged = dependencies.with_name(f"{dependencies.stem}.{os.getpid()}.zip")
    with zipfile.ZipFile(built) as archive, zipfile.ZipFile(staged, "w") as kept:
        for info in archive.infolist():
            if not _is_app_file(info.filename):
                kept.writestr(info, archive.read(info), compress_type=zipfile.ZIP_DEFLATED)
    os.replace(staged, dependencies)


# --- the whole build -------------------------------------------------------------------------


def build_package(
    stage: str,
    out: Path,
    merge_template: Path,
    *,
    region: str = DEFAULT_REGION,
    project_dir: Path | None = None,
    cache_dir: Path | None = None,
) -> PackageReport:
    """Runs `chalice package`, prunes and verifies the zip; raises PackagingError if unfit,
    ContentOutsideRegion (and removes `out`) if the template puts content elsewhere.

    Replaces `out` (sam.json, deployment.zip); reads and writes the dependency caches in
    `cache_dir` (default `<project>/.chalice/deployments`). Downloads from PyPI only when
    requirements.txt changed since the last good build.
    """
    project_dir = project_dir or PROJECT_DIR
    if sys.version_info[:2] != RUNTIME_PYTHON:
        raise PackagingError(
            f"run this with Python {_VERSION} (.venv/bin/python): chalice "
            f"packages for the runtime of the interpreter that runs it, and this is "
            f"{sys.version_info[0]}.{sys.version_info[1]}"
        )
    if region != CONTENT_REGION:
        raise ContentOutsideRegion([refusal(f"--region {region}")])
    cache_dir = cache_dir or project_dir / ".chalice" / "deployments"
    _seed_chalice_cache(project_dir, cache_dir)
    if out.exists():
        shutil.rmtree(out)
    chalice = [
        sys.executable,
        "-c",
        "import sys; from chalice.cli import main; sys.argv[0] = 'chalice'; sys.exit(main())",
    ]
    command = ["package", "--stage", stage, "--merge-template", str(merge_template), str(out)]
    done = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [*chalice, "--project-dir", str(project_dir), *command],
        cwd=project_dir,
        env={**os.environ, "AWS_DEFAULT_REGION": region, "AWS_REGION": region},
        capture_output=True,
        text=True,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise PackagingError(f"chalice package failed ({done.returncode}):\n{output}")
    warnings = chalice_warnings(output)
    if warnings:
        # chalice would reuse this zip next time without repeating the warning.
        _chalice_cache_zip(project_dir).unlink(missing_ok=True)
        raise PackagingError(
            "chalice package warned; the zip would fail on import in Lambda:\n"
            + "\n".join(f"  {line}" for line in warnings)
            + f"\nchalice said:\n{output}"
        )
    refused = template_refusals(json.loads((out / "sam.json").read_text()))
    if refused:
        shutil.rmtree(out)  # nothing to deploy by mistake
        raise ContentOutsideRegion(refused)
    zip_path = out / "deployment.zip"
    pruned = prune(zip_path)
    add_bytecode(zip_path)
    problems = verify_zip(zip_path, pinned_requirements(project_dir / "requirements.txt"))
    problems += _runtime_problems(out / "sam.json")
    if problems:
        raise PackagingError(
            f"{zip_path} would not work on {RUNTIME} ({MACHINE}):\n"
            + "\n".join(f"  {problem}" for problem in problems)
        )
    _keep_dependencies(project_dir, cache_dir)
    zipped, unzipped = sizes(zip_path)
    reused = "Reusing existing deployment package" in output
    return PackageReport(zip_path, zipped, unzipped, pruned, reused_dependencies=reused)


def _runtime_problems(sam_path: Path) -> list[str]:
    resources = json.loads(sam_path.read_text())["Resources"]
    return [
        f"{name} runs {resource['Properties'].get('Runtime')}, not {RUNTIME}"
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
        and resource["Properties"].get("Runtime") != RUNTIME
    ]


def build_infra(stage: str, merge_template: Path) -> None:
    """`python -m infra build`: the merge template, and the policy files if they are stale."""
    built = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "infra", "build", "--stage", stage, "--out", str(merge_template)],
        cwd=PROJECT_DIR,
        check=False,
    )
    if built.returncode != 0:
        raise PackagingError(f"python -m infra build --stage {stage} failed ({built.returncode})")


def deploy_instructions(stage: str, out: Path) -> str:
    """What to run next: the stack goes to the content region (its Rules refuse any other)."""
    try:
        shown = out.resolve().relative_to(Path.cwd())
    except ValueError:
        shown = out
    return (
        f"{shown}/sam.json is ready: deploy it in {CONTENT_REGION} only (the template refuses "
        'any other region), as README "Deploy" says:\n'
        f"  aws cloudformation package --region {CONTENT_REGION} --template-file "
        f"{shown}/sam.json --s3-bucket <artifact-bucket> --output-template-file "
        "build/packaged.yaml\n"
        f"  aws cloudformation deploy --region {CONTENT_REGION} --template-file "
        f"build/packaged.yaml --stack-name helptal-{stage} "
        "--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --parameter-overrides ..."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.package", description=__doc__)
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "build" / "package")
    parser.add_argument(
        "--region",
        default=DEFAULT_REGION,
        help=f"the stack's region: {CONTENT_REGION}, where workspace content stays (no other)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help="where downloaded dependencies are kept (default: .chalice/deployments)",
    )
    args = parser.parse_args(argv)

    merge_template = PROJECT_DIR / "build" / f"merge-{args.stage}.json"
    started = time.monotonic()
    try:
        if args.region != CONTENT_REGION:
            raise ContentOutsideRegion([refusal(f"--region {args.region}")])
        build_infra(args.stage, merge_template)
        report = build_package(
            args.stage,
            args.out.resolve(),
            merge_template,
            region=args.region,
            cache_dir=args.cache_dir.resolve() if args.cache_dir else None,
        )
        web = build_web_client(args.out.resolve() / "webapp")
    except (PackagingError, BuildError, ContentOutsideRegion) as error:
        print(f"make package: FAILED\n{error}", file=sys.stderr)
        return 1
    print(report.summary())
    print(web.summary())
    print(deploy_instructions(args.stage, args.out))
    downloaded = "no download: cached dependencies" if report.reused_dependencies else "downloaded"
    print(f"packaged in {time.monotonic() - started:.0f} s ({downloaded})")
    return 0 if report.fits_unzipped else 1


if __name__ == "__main__":
    sys.exit(main())
