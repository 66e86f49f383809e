"""Which tools the project itself uses, at which versions: read from its own configuration.

noxops follows the project rather than imposing its defaults:

* the **formatter** is ``ruff format`` when the project configures it (``[tool.ruff.format]``,
  a ``ruff-format`` pre-commit hook) or uses ruff without black, else black;
* the **import sorter** is ruff's isort rules (``I``) when the project's ruff configuration
  selects them, else isort when the project uses isort (``[tool.isort]``, a pre-commit hook,
  a pinned isort), else none when it uses ruff format without isort, else isort;
* each tool's **version** is the project's own pin when it has one: a requirement in any of
  its dependency groups, else the ``rev`` of its pre-commit hook (for a rev frozen to a
  commit, the tag of its ``# frozen:`` comment), else a pin in a pre-commit hook's
  ``additional_dependencies`` (blacken-docs' black); otherwise the newest;
* ``[tool.noxops.lint] formatter`` and ``import_sorter`` override the detection.

:func:`choices` says what was chosen and why (the lint session and ``noxops doctor`` print
it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from noxops import install

if TYPE_CHECKING:
    from noxops.config import Config

__all__ = [
    "Choice",
    "choices",
    "formatter",
    "import_sorter",
    "pinned",
    "precommit_revs",
    "requirement",
    "ruff_selects_isort",
]

# pre-commit repositories and hook ids, by the tool (PyPI name) they run.
_PRECOMMIT_REPOS = {
    "ruff": ("astral-sh/ruff-pre-commit", "charliermarsh/ruff-pre-commit"),
    "black": ("psf/black", "psf/black-pre-commit-mirror"),
    "isort": ("pycqa/isort", "timothycrosley/isort"),
    "mypy": ("pre-commit/mirrors-mypy",),
}
_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
# .pre-commit-config.yaml, a line at a time: ``key: value``, a ``# frozen: v1.2.3`` comment,
# and an item of a block list (``- black==24.10.0``, not ``- id: black``).
_KEY_RE = re.compile(r"^\s*-?\s*(repo|rev|id|additional_dependencies)\s*:\s*['\"]?([^'\"#\s]*)")
_FROZEN_RE = re.compile(r"#\s*frozen:\s*['\"]?([^'\"\s]+)")
_LIST_ITEM_RE = re.compile(r"^\s*-\s+(?![\w.-]+\s*:(?:\s|$))['\"]?([^'\"#]*[^'\"#\s])")


@dataclass(frozen=True)
class Choice:
    """A tool noxops picked, and why (for the log and ``noxops doctor``)."""

    tool: str  # "ruff", "black", "isort" or "none"
    why: str


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def precommit_hooks(root: Path) -> dict[str, tuple[str, set[str], list[str]]]:
    """``.pre-commit-config.yaml``'s repositories: URL -> (rev, hook ids, the hooks'
    ``additional_dependencies``). A rev frozen to a commit (``pre-commit autoupdate
    --freeze``) is the tag of the ``# frozen: <tag>`` comment that command writes beside it.
    Read with a small line parser (pre-commit files have a fixed shape; noxops does not
    depend on a YAML library); an unreadable file is no hooks."""
    path = root / ".pre-commit-config.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    repos: dict[str, tuple[str, set[str], list[str]]] = {}
    current: Optional[str] = None
    listing = False  # in the block list under ``additional_dependencies:``
    for line in text.splitlines():
        if listing and (not line.strip() or line.lstrip().startswith("#")):
            continue
        item = _LIST_ITEM_RE.match(line) if listing else None
        if item is not None and current is not None:
            repos[current][2].append(item[1])
            continue
        match = _KEY_RE.match(line)
        listing = False
        if not match:
            continue
        key, value = match[1], match[2]
        if key == "repo":
            current = value.rstrip("/").removesuffix(".git").lower()
            repos.setdefault(current, ("", set(), []))
        elif current is None:
            continue
        elif key == "rev":
            frozen = _FROZEN_RE.search(line)
            repos[current] = (frozen[1] if frozen else value, *repos[current][1:])
        elif key == "id":
            repos[current][1].add(value)
        elif key == "additional_dependencies":
            flow = re.search(r":\s*\[([^\]]*)\]", line)
            if flow:
                repos[current][2].extend(d.strip(" '\"") for d in flow[1].split(","))
            listing = not value
    return repos


def precommit_revs(root: Path) -> dict[str, str]:
    """The tools the project's pre-commit hooks pin, as ``{tool: version}``."""
    found: dict[str, str] = {}
    for url, (rev, _ids, _deps) in precommit_hooks(root).items():
        for tool, repos in _PRECOMMIT_REPOS.items():
            if rev and any(url.endswith(repo) for repo in repos):
                found[tool] = rev.removeprefix("v")
    return found


def _precommit_ids(root: Path) -> set[str]:
    return {hook for _rev, ids, _deps in precommit_hooks(root).values() for hook in ids}


def _precommit_dependencies(root: Path) -> list[str]:
    return [dep for _rev, _ids, deps in precommit_hooks(root).values() for dep in deps]


def _group_requirements(config: Config) -> list[str]:
    """Every requirement of every dependency group (PEP 735 or Poetry's; includes are their
    own groups), and of the project itself."""
    found: list[str] = []
    for entries in config.project.dependency_groups.values():
        if isinstance(entries, tuple):
            found += [e for e in entries if isinstance(e, str)]
    found += list(config.project.dependencies)
    for extra in config.project.optional_dependencies.values():
        found += list(extra)
    found += install.poetry_group_requirements(
        config.project, install.poetry_groups(config.project)
    )
    return found


def _pin_in(requirements: list[str], tool: str) -> Optional[str]:
    """The first of ``requirements`` that names ``tool`` with a version, as a requirement."""
    for text in requirements:
        match = _NAME_RE.match(text)
        if match and _norm(match[1].split("[")[0]) == _norm(tool):
            rest = text[match.end() :].split(";")[0].strip()
            if rest:  # a version (or extras and a version): the project's pin
                return f"{tool}{rest}" if rest[0] in "=<>!~" else f"{match[1]}{rest}"
    return None


def pinned(config: Config, tool: str) -> Optional[str]:
    """The project's own requirement for ``tool`` (from its dependency groups, with the
    version it pins), else ``tool==<rev>`` from its pre-commit hook, else its pin in a
    pre-commit hook's ``additional_dependencies`` (blacken-docs' black), else None."""
    found = _pin_in(_group_requirements(config), tool)
    if found:
        return found
    rev = precommit_revs(config.root).get(tool)
    if rev and re.fullmatch(r"\d+(\.\d+)*", rev):
        return f"{tool}=={rev}"
    return _pin_in(_precommit_dependencies(config.root), tool)


def requirement(config: Config, tool: str) -> str:
    """What to install for ``tool``: the project's pin, else the tool's newest release."""
    return pinned(config, tool) or tool


def _uses(config: Config, tool: str) -> bool:
    """Whether the project names ``tool`` anywhere: its table, a pre-commit hook, a pin."""
    if tool in config.project.tool:
        return True
    if tool in precommit_revs(config.root):
        return True
    return any(
        (m := _NAME_RE.match(text)) is not None and _norm(m[1].split("[")[0]) == tool
        for text in _group_requirements(config)
    )


def _ruff_lint(config: Config) -> Mapping[str, Any]:
    ruff = config.project.ruff
    lint = ruff.get("lint")
    return lint if isinstance(lint, Mapping) else ruff


def ruff_selects_isort(config: Config) -> bool:
    """Whether the project's ruff configuration turns on its isort rules (``I``)."""
    ruff = config.project.ruff
    selected: list[str] = []
    for table in (ruff, _ruff_lint(config)):
        for key in ("select", "extend-select"):
            value = table.get(key)
            if isinstance(value, (list, tuple)):
                selected += [str(v) for v in value]
    return any(code == "ALL" or re.fullmatch(r"I\d*", code) for code in selected)


def formatter(config: Config) -> Choice:
    """The project's formatter: ruff format or black (see the module's documentation)."""
    configured = config.lint.formatter
    if configured != "auto":
        return Choice(configured, "[tool.noxops.lint] formatter")
    ruff = config.project.ruff
    hooks = _precommit_ids(config.root)
    if "format" in ruff:
        return Choice("ruff", "[tool.ruff.format] in pyproject.toml")
    if "ruff-format" in hooks:
        return Choice("ruff", "the ruff-format pre-commit hook")
    if _uses(config, "black"):
        return Choice("black", "the project uses black")
    if _uses(config, "ruff"):
        return Choice("ruff", "the project uses ruff and not black")
    return Choice("black", "the default (the project names no formatter)")


def import_sorter(config: Config) -> Choice:
    """The project's import sorter: ruff's ``I`` rules, isort, or none."""
    configured = config.lint.import_sorter
    if configured != "auto":
        return Choice(configured, "[tool.noxops.lint] import_sorter")
    if ruff_selects_isort(config):
        return Choice("ruff", "the project's ruff configuration selects the I (isort) rules")
    if _uses(config, "isort"):
        return Choice("isort", "the project uses isort")
    if formatter(config).tool == "ruff":
        return Choice("none", "the project formats with ruff and does not sort imports")
    return Choice("isort", "the default (the project names no import sorter)")


def choices(config: Config) -> dict[str, Choice]:
    """What lint and fmt run: ``{"formatter": ..., "imports": ...}``."""
    return {"formatter": formatter(config), "imports": import_sorter(config)}
