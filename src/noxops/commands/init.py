"""``noxops init``: adopt noxops in an existing project.

It looks at the project (src or flat layout, test folders, supported Pythons, a Dockerfile,
the services its code imports, its linters) and writes a noxfile and a commented
``[tool.noxops]`` table. The noxfile is laid out as the project's own import sorter and
linters want (blank lines after the imports, required ``__future__`` imports, a module
docstring), so their checks pass on it. Nothing is overwritten without ``--force``;
``--dry-run`` prints what would be written.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from noxops.errors import NoxopsError
from noxops.project import detect as dependencies
from noxops.project import install, tools
from noxops.project.pyproject import Project
from noxops.project.textfile import tomllib
from noxops.services import usage

__all__ = ["Detected", "add_parser", "detect", "noxfile_text", "table_text"]

NEWEST_DEFAULT = (3, 12)
NEWEST_KNOWN = (3, 13)  # the newest Python noxops is tested on
GITIGNORED = (".nox/", "reports/")
SERVICE_IMPORTS = {
    "postgres": re.compile(r"^\s*(?:import|from)\s+(psycopg2?|asyncpg|pg8000)\b", re.M),
    "redis": re.compile(r"^\s*(?:import|from)\s+(redis|aioredis|valkey)\b", re.M),
}
_LOWER_BOUND = re.compile(r">=\s*3\.(\d+)")


@dataclass
class Detected:
    """What ``init`` found out about a project."""

    name: str
    layout: str  # "src" or "flat"
    sources: list[str]
    test_paths: list[str]
    pythons: list[str]
    pythons_from: str
    dockerfile: bool
    services: list[str] = field(default_factory=list)
    has_table: bool = False
    # what lint will run, as it says it: formatter, import sorter (noxops's default only where
    # the project has no lint tooling, said so), linters
    linters: list[str] = field(default_factory=list)
    lines_after_imports: int = 1  # as the project's import sorter wants them
    future_imports: list[str] = field(default_factory=list)  # imports it requires
    # [tool.noxops.integration.env]: what the project reads, as parts of the services
    env: dict[str, str] = field(default_factory=dict)
    env_from: list[str] = field(default_factory=list)  # where those names were found
    unmapped: list[str] = field(default_factory=list)  # names of a service, but no part
    setup: list[str] = field(default_factory=list)  # commands once the services are ready
    setup_from: str = ""


def _pyproject(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        if (root / "setup.py").is_file() or any(
            (root / name).is_file() for name in install.RUNTIME_REQUIREMENTS
        ):
            return {}  # a project described by setup.py or requirements files: init writes one
        raise NoxopsError(
            f"{path} not found, nor a setup.py or requirements.txt: noxops init adopts a "
            "project (create a pyproject.toml with a [project] table, or a requirements.txt, "
            "first)"
        )
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise NoxopsError(f"{path} is not valid TOML: {exc}") from None


def _newest(low: int) -> int:
    """The newest minor version of the default matrix: 3.12, or 3.13 (and on) where that
    Python is installed here (a project that states its lower bound only supports it)."""
    from noxops.project import interpreters

    newest = NEWEST_DEFAULT[1]
    for minor in range(NEWEST_DEFAULT[1] + 1, NEWEST_KNOWN[1] + 1):
        if interpreters.find(f"3.{minor}") is not None:
            newest = minor
    return max(low, newest)


def _pythons(project: dict[str, Any]) -> tuple[list[str], str]:
    prefix = "Programming Language :: Python :: "
    from_classifiers = [
        c[len(prefix) :]
        for c in project.get("classifiers", [])
        if c.startswith(prefix) and re.fullmatch(r"3\.\d+", c[len(prefix) :])
    ]
    if from_classifiers:
        return sorted(from_classifiers, key=lambda v: int(v.split(".")[1])), "classifiers"
    match = _LOWER_BOUND.search(str(project.get("requires-python", "")))
    if match:
        low = int(match[1])
        high = _newest(low)
        upper = re.search(r"<\s*3\.(\d+)", str(project.get("requires-python", "")))
        if upper:
            high = min(high, int(upper[1]) - 1)
        return [f"3.{m}" for m in range(low, high + 1)], "requires-python"
    return [f"3.{m}" for m in range(9, _newest(9) + 1)], "default"


def _packages(root: Path) -> list[str]:
    skip = {"tests", "test", "docs", "examples", "build", "dist", "scripts", "benchmarks"}
    found = [
        p.name
        for p in sorted(root.iterdir())
        if p.is_dir() and (p / "__init__.py").is_file() and p.name not in skip
    ]
    return found or [p.name for p in sorted(root.glob("*.py")) if p.name != "noxfile.py"]


def detect(root: Path) -> Detected:
    data = _pyproject(root)
    project = data.get("project", {})
    pythons, pythons_from = _pythons(project)
    if (root / "src").is_dir():
        layout, sources = "src", ["src"]
    else:
        layout, sources = "flat", _packages(root)
    test_paths = [
        p for p in ("tests/unit", "tests/integration", "tests/smoke") if (root / p).is_dir()
    ] or (["tests"] if (root / "tests").is_dir() else [])
    code = "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for folder in [*sources, "tests"]
        if (root / folder).exists()
        for p in ((root / folder).rglob("*.py") if (root / folder).is_dir() else [root / folder])
    )
    model = Project.from_data(root / "pyproject.toml", data)
    declared = dependencies.services(model)
    config = _tools_config(root, model)
    lines_after_imports, future_imports = tools.import_layout(config)
    services = [
        name
        for name, pattern in SERVICE_IMPORTS.items()
        if pattern.search(code) or name in declared
    ]
    variables = usage.read_variables(root, sources)
    env, unmapped = usage.proposals(variables, services)
    setup, setup_from = _setup(root) if services else ([], "")
    return Detected(
        name=str(project.get("name", root.name)),
        layout=layout,
        sources=sources,
        test_paths=test_paths,
        pythons=pythons,
        pythons_from=pythons_from,
        dockerfile=(root / "Dockerfile").is_file(),
        services=services,
        has_table="noxops" in data.get("tool", {}),
        linters=tools.describe(config),
        lines_after_imports=lines_after_imports,
        future_imports=future_imports,
        env=env,
        env_from=list(dict.fromkeys(w for n in [*env, *unmapped] for w in variables[n].where)),
        unmapped=list(unmapped),
        setup=setup,
        setup_from=setup_from,
    )


def _setup(root: Path) -> tuple[list[str], str]:
    """The commands that prepare a started database for the tests, and what asked for them:
    Alembic's migrations (alembic.ini), Django's (manage.py)."""
    if (root / "alembic.ini").is_file():
        return ["alembic upgrade head"], "alembic.ini"
    if (root / "manage.py").is_file():
        return ["python manage.py migrate"], "manage.py"
    return [], ""


def _tools_config(root: Path, project: Project) -> Any:
    """The project as noxops will see it once the table init writes is in (every setting at
    its default), for :mod:`noxops.project.tools` to tell which tools it uses."""
    from noxops.config import Config

    return dataclasses.replace(
        Config(), root=root, project=project, project_name=project.name or root.name
    )


def noxfile_text(lines_after_imports: int = 1, future_imports: Sequence[str] = ()) -> str:
    """The noxfile, with PEP 723 metadata so `uvx nox` / `pipx run nox` need no set-up, laid
    out as the project's import sorter wants it: the ``from __future__`` imports it requires,
    and ``lines_after_imports`` blank lines after the imports. Two are written before a
    function: before a statement black (26 on) wants one, whatever isort wants. A docstring
    keeps docstring rules (D100, C0114) quiet."""
    future = "".join(f"{line}\n" for line in future_imports)
    head = (
        "# /// script\n"
        '# dependencies = ["nox>=2026.8", "noxops"]\n'
        "# ///\n"
        '"""The pipeline\'s Nox sessions, declared by noxops."""\n'
        "\n" + (f"{future}\n" if future else "") + "import noxops\n"
    )
    if lines_after_imports != 2:
        return head + "\nnoxops.sessions()\n"
    return head + (
        "\n\n"
        "def pipeline() -> None:\n"
        '    """Register the pipeline\'s stages as Nox sessions."""\n'
        "    noxops.sessions()\n"
        "\n\n"
        "pipeline()\n"
    )


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def table_text(found: Detected) -> str:
    """A commented ``[tool.noxops]`` table for what was detected."""
    lines = [
        "",
        "[tool.noxops]",
        "# Written by `noxops init`; every key is optional. Reference: docs/configuration.md",
        f"# Test matrix, from {found.pythons_from}:",
        f"python = {_toml_list(found.pythons)}",
    ]
    if found.layout == "flat":
        lines += [
            "# Flat layout: the packages to lint, type-check and scan.",
            f"src = {_toml_list(found.sources)}",
        ]
    lines += ["", "[tool.noxops.tests]"]
    if "tests/unit" in found.test_paths:
        lines.append('paths = ["tests/unit"]')
    elif found.test_paths:
        lines.append(f"paths = {_toml_list(found.test_paths[:1])}")
    else:
        lines.append("# No tests folder found: add tests/ and the tests sessions will run it.")
    lines.append("fail_under = 80  # combined coverage below this fails `nox -s coverage`")
    if found.services and "tests/integration" not in found.test_paths:
        lines += [
            "# No tests/integration: each tests-<python> run starts the services below too when",
            "# a test uses them (services = false: never; true: always).",
        ]
    if found.services or "tests/integration" in found.test_paths:
        lines += [
            "",
            "[tool.noxops.integration]",
            "# Found in the code's imports; started for `nox -s integration`.",
            f"services = {_toml_list(found.services)}",
            'provider = "auto"  # url if DATABASE_URL/REDIS_URL are set, else docker, else local',
        ]
        if found.setup:
            lines += [
                f"# {found.setup_from}: run once the services are ready, before the tests.",
                f"setup = {_toml_list(found.setup)}",
            ]
        if found.env or found.unmapped:
            lines += [
                "",
                "[tool.noxops.integration.env]",
                f"# Read by the project: {', '.join(found.env_from)}.",
                "# Set to the started services' parts: no .env default points the tests elsewhere.",
                *(f'{name} = "{target}"' for name, target in found.env.items()),
            ]
            if found.unmapped:
                lines.append(f"# Also read, but no part of a service: {', '.join(found.unmapped)}")
    if found.dockerfile:
        lines += [
            "",
            "[tool.noxops.image]",
            "# A Dockerfile was found: `nox -s build smoke` builds and smoke-tests the image.",
        ]
    lines += [
        "",
        "[tool.noxops.security]",
        "# Set to true only where no vulnerability database can be reached:",
        "allow_unaudited = false",
        "",
    ]
    return "\n".join(lines)


def _gitignore_missing(root: Path) -> list[str]:
    """The lines of :data:`GITIGNORED` .gitignore does not have yet."""
    path = root / ".gitignore"
    try:
        present = {
            line.strip().strip("/") for line in path.read_text(encoding="utf-8").splitlines()
        }
    except OSError:
        present = set()
    return [entry for entry in GITIGNORED if entry.strip("/") not in present]


def _plan(root: Path, found: Detected, force: bool) -> list[tuple[Path, str, str]]:
    """``(path, mode, text)`` to write; mode is "write" (a new file, or one replaced),
    "append" (the text is added at the end) or "table" (the [tool.noxops] table replaced)."""
    plan: list[tuple[Path, str, str]] = []
    noxfile = root / "noxfile.py"
    if noxfile.exists() and not force:
        raise NoxopsError(f"{noxfile} exists; pass --force to replace it (or --dry-run to look)")
    plan.append((noxfile, "write", noxfile_text(found.lines_after_imports, found.future_imports)))
    pyproject = root / "pyproject.toml"
    if found.has_table and not force:
        raise NoxopsError(
            f"{pyproject} already has a [tool.noxops] table; pass --force to replace it"
        )
    if found.has_table:
        plan.append((pyproject, "table", table_text(found)))
    elif pyproject.is_file():
        plan.append((pyproject, "append", table_text(found)))
    else:
        plan.append((pyproject, "write", table_text(found).lstrip("\n")))
    missing = _gitignore_missing(root)
    if missing:
        plan.append((root / ".gitignore", "append", "\n".join(missing) + "\n"))
    return plan


def _apply(path: Path, mode: str, text: str) -> None:
    if mode == "write":
        path.write_text(text, encoding="utf-8")
        return
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    if mode == "table":
        current = _drop_table(current)
    if current and not current.endswith("\n"):
        current += "\n"
    path.write_text(
        (current.rstrip("\n") + "\n" if mode == "table" else current) + text, encoding="utf-8"
    )


def _drop_table(text: str) -> str:
    """``text`` without its ``[tool.noxops]`` and ``[tool.noxops.*]`` tables."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        header = re.match(r"^\s*\[+\s*([^\]]+?)\s*\]+", line)
        if header:
            name = header[1]
            skipping = name == "tool.noxops" or name.startswith("tool.noxops.")
        if not skipping:
            out.append(line)
    return "".join(out)


def _subfolder_notice(root: Path) -> str | None:
    """The line saying where the CI files go when ``root`` is not its git repository's top
    (GitHub and GitLab read them only there), or None. The top is found as ``noxops ci
    generate`` finds it, for the table init writes (no ``[tool.noxops.ci] root``)."""
    from noxops.ci.command import repository_root
    from noxops.config import Config

    top = repository_root(dataclasses.replace(Config(), root=root))
    if top == root.resolve():
        return None
    folder = root.resolve().relative_to(top).as_posix()
    return (
        f"noxops init: the project is in {folder}/ of the git repository at {top}: CI files go "
        f"to the repository's top, with every job working in {folder}/ (`noxops ci generate`); "
        '[tool.noxops.ci] root = "<folder>" names another top folder, relative to the project '
        f'("." keeps them in {folder}/)'
    )


def _run(args: argparse.Namespace) -> int:
    root = Path(args.root).resolve()
    found = detect(root)
    plan = _plan(root, found, args.force)
    sources = ", ".join(found.sources) or "-"
    print(
        f"noxops init: {found.name}: {found.layout} layout, sources {sources}, "
        f"tests {', '.join(found.test_paths) or '-'}, Pythons {', '.join(found.pythons)} "
        f"(from {found.pythons_from}), services {', '.join(found.services) or 'none'}, "
        f"Dockerfile {'yes' if found.dockerfile else 'no'}"
    )
    for line in found.linters:  # which linters `nox -s lint` runs, and where they came from
        print(line)
    notice = None if args.ci and not args.dry_run else _subfolder_notice(root)  # generate says it
    if notice:
        print(notice)
    ok, how = install.describe(Project.read(root / "pyproject.toml"))
    if not ok:
        print(f"warning: {how}", file=sys.stderr)
    verbs = {"write": "write", "append": "add to", "table": "replace [tool.noxops] in"}
    for path, mode, text in plan:
        if args.dry_run:
            print(f"\n--- would {verbs[mode]} {path} ---\n{text.strip(chr(10))}")
        else:
            _apply(path, mode, text)
            print(f"{'wrote' if mode == 'write' else 'updated'} {path}")
    if args.ci and not args.dry_run:
        from noxops.cli import main as cli_main

        return cli_main(["ci", "generate", args.ci, "--root", str(root)])
    if not args.dry_run:
        print("next: `nox -l` to see the sessions, `nox` to run the pipeline")
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "init", help="write a noxfile and a [tool.noxops] table for this project"
    )
    parser.add_argument("--root", default=".", help="the project folder (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="replace an existing noxfile/table")
    parser.add_argument("--dry-run", action="store_true", help="print what would be written")
    parser.add_argument(
        "--ci", choices=["github", "gitlab", "jenkins", "all"], help="also write CI files"
    )
    parser.set_defaults(func=_run)
