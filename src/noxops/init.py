"""``noxops init``: adopt noxops in an existing project.

It looks at the project (src or flat layout, test folders, supported Pythons, a Dockerfile,
the services its code imports) and writes a noxfile and a commented ``[tool.noxops]`` table.
Nothing is overwritten without ``--force``; ``--dry-run`` prints what would be written.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from noxops.errors import NoxopsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Detected", "add_parser", "detect", "noxfile_text", "table_text"]

NEWEST_DEFAULT = (3, 12)
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


def _pyproject(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        raise NoxopsError(
            f"{path} not found: noxops init adopts a project that has a pyproject.toml "
            "(create one with a [project] table first)"
        )
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise NoxopsError(f"{path} is not valid TOML: {exc}") from None


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
        high = max(low, NEWEST_DEFAULT[1])
        return [f"3.{m}" for m in range(low, high + 1)], "requires-python"
    return [f"3.{m}" for m in range(9, NEWEST_DEFAULT[1] + 1)], "default"


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
    services = [name for name, pattern in SERVICE_IMPORTS.items() if pattern.search(code)]
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
    )


def noxfile_text() -> str:
    """The noxfile, with PEP 723 metadata so `uvx nox` / `pipx run nox` need no set-up."""
    return (
        "# /// script\n"
        '# dependencies = ["nox>=2026.8", "noxops"]\n'
        "# ///\n"
        "import noxops\n"
        "\n"
        "noxops.sessions()\n"
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
    if found.services or "tests/integration" in found.test_paths:
        lines += [
            "",
            "[tool.noxops.integration]",
            "# Found in the code's imports; started for `nox -s integration`.",
            f"services = {_toml_list(found.services)}",
            'provider = "auto"  # url if DATABASE_URL/REDIS_URL are set, else docker, else local',
        ]
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


def _plan(root: Path, found: Detected, force: bool) -> list[tuple[Path, str, str]]:
    """``(path, mode, text)`` to write; mode is "write" or "append"."""
    plan: list[tuple[Path, str, str]] = []
    noxfile = root / "noxfile.py"
    if noxfile.exists() and not force:
        raise NoxopsError(f"{noxfile} exists; pass --force to replace it (or --dry-run to look)")
    plan.append((noxfile, "write", noxfile_text()))
    pyproject = root / "pyproject.toml"
    if found.has_table and not force:
        raise NoxopsError(
            f"{pyproject} already has a [tool.noxops] table; pass --force to replace it"
        )
    current = pyproject.read_text(encoding="utf-8")
    if found.has_table:
        current = _drop_table(current)
    plan.append((pyproject, "write", current.rstrip("\n") + "\n" + table_text(found)))
    return plan


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
    for path, _mode, text in plan:
        if args.dry_run:
            print(f"\n--- would write {path} ---\n{text}")
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
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
