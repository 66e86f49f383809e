"""Which tools the project itself uses, at which versions: read from its own configuration.

noxops follows the project rather than imposing its defaults:

* the **formatter** is ``ruff format`` when the project configures it (``[tool.ruff.format]``,
  a ``ruff-format`` pre-commit hook) or uses ruff without black, else black when it uses
  black, else none when it configures a linter of its own (flake8, pylint: its own lint checks
  no formatting, or checks it through a plugin such as flake8-black), else black (noxops's
  default, said so in the log and by ``noxops init``);
* the **import sorter** is ruff's isort rules (``I``) when the project's ruff configuration
  selects them, else isort when the project uses isort (``[tool.isort]``, a pre-commit hook,
  a pinned isort), else none when it uses ruff format without isort or configures a linter of
  its own (flake8-import-order's ``I`` codes), else isort (noxops's default);
* each tool's **version** is the project's own pin when it has one (below); otherwise the
  newest. A pre-commit rev frozen to a commit is the tag of its ``# frozen:`` comment, and a
  pin in a hook's ``additional_dependencies`` counts (blacken-docs' black);
* the **linters** are those the project configures: ruff when it configures ruff's linter
  (``[tool.ruff.lint]``, ``select``/``ignore`` in ``[tool.ruff]``, a ``ruff.toml``, a
  ``ruff``/``ruff-check`` pre-commit hook); flake8, with the flake8 plugins it installs, when
  it configures flake8 (``[flake8]`` in ``setup.cfg``, ``tox.ini`` or ``.flake8``) or pins it
  (also in the ``deps`` of a tox lint environment: ``[testenv:flake8]``, ``[testenv:lint]``)
  and does not configure ruff's linter (or runs it from a pre-commit hook beside ruff);
  pylint when it configures or pins it (the ``pylint`` stage runs it); ruff with ruff's
  defaults only when the project configures none of them;
* each tool's **version** is the project's own when it has one: the version its lock file
  gives it (``uv.lock``, ``poetry.lock``, ``pdm.lock``, for the session's Python:
  :mod:`noxops.project.locks`), else a requirement in any of its dependency groups or its
  requirements files (``requirements-dev.txt``, ...) or its tox lint environments' ``deps``,
  else the ``rev`` of its pre-commit
  hook, else a pin in a hook's ``additional_dependencies``;
* ``[tool.noxops.lint] formatter``, ``import_sorter`` and ``linters`` override the detection.

:func:`choices` says what was chosen and why (the lint session and ``noxops doctor`` print
it).
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from noxops.project import install, locks

if TYPE_CHECKING:
    from noxops.config import Config

__all__ = [
    "RUFF_DEFAULT",
    "Choice",
    "choices",
    "describe",
    "describe_linter",
    "flake8_plugins",
    "formatter",
    "hook_dependencies",
    "import_layout",
    "import_sorter",
    "linter_names",
    "linters",
    "pin",
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
    "flake8": ("pycqa/flake8",),
    "pylint": ("pycqa/pylint",),
}
# Requirements files that pin the development tools, besides the dependency groups.
_REQUIREMENT_FILES = (
    *install.TEST_REQUIREMENTS,
    "requirements-lint.txt",
    "requirements/lint.txt",
    *install.RUNTIME_REQUIREMENTS,
)
# flake8 plugins whose names do not start with flake8- (and its own checkers, when pinned).
_FLAKE8_PLUGINS = frozenset(
    {"pep8-naming", "pyflakes", "pycodestyle", "mccabe", "darglint", "dlint", "pandas-vet"}
)
# Keys of [tool.ruff] that configure its linter (older projects keep them at the top).
_RUFF_LINT_KEYS = ("select", "extend-select", "ignore", "extend-ignore", "per-file-ignores")
RUFF_DEFAULT = "ruff's defaults (the project configures no linter)"
# tox environments that lint (their ``deps`` are the project's lint tools and flake8 plugins).
_TOX_LINT_ENV = re.compile(r"flake8|lint|style|pep8|codestyle|quality", re.I)
# flake8 plugins that check formatting / import order, for the log.
_FLAKE8_FORMATTERS = ("flake8-black",)
_FLAKE8_SORTERS = ("flake8-import-order", "flake8-isort")
# Where isort looks for its settings, in its order (pyproject.toml: [tool.isort]).
_ISORT_FILES = (
    (".isort.cfg", ("settings", "isort")),
    ("pyproject.toml", ()),
    ("setup.cfg", ("isort", "tool:isort")),
    ("tox.ini", ("isort", "tool:isort")),
)
_ISORT_PROFILE_LINES = {"pycharm": 2, "attrs": 2}  # profiles that set lines_after_imports
_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
# .pre-commit-config.yaml, a line at a time: ``key: value``, a ``# frozen: v1.2.3`` comment,
# and an item of a block list (``- black==24.10.0``, not ``- id: black``).
_KEY_RE = re.compile(r"^\s*-?\s*(repo|rev|id|additional_dependencies)\s*:\s*['\"]?([^'\"#\s]*)")
_FROZEN_RE = re.compile(r"#\s*frozen:\s*['\"]?([^'\"\s]+)")
_LIST_ITEM_RE = re.compile(r"^\s*-\s+(?![\w.-]+\s*:(?:\s|$))['\"]?([^'\"#]*[^'\"#\s])")


@dataclass(frozen=True)
class Choice:
    """A tool noxops picked, and why (for the log and ``noxops doctor``)."""

    tool: str  # "ruff", "black", "isort", "flake8", "pylint" or "none"
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


def hook_dependencies(root: Path, tool: str) -> list[str]:
    """The ``additional_dependencies`` of the pre-commit hooks that run ``tool`` (mypy's
    stub packages): what the project's own pre-commit run of the tool installs beside it."""
    repos = _PRECOMMIT_REPOS.get(tool, ())
    return [
        dep
        for url, (_rev, _ids, deps) in precommit_hooks(root).items()
        if any(url.endswith(repo) for repo in repos)
        for dep in deps
    ]


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


def _marker_holds(marker: str, python: Optional[str]) -> bool:
    """Whether a requirement's environment marker holds on ``python`` (None: this one); a
    marker that cannot be read holds (the installer says what is wrong with it)."""
    try:
        from packaging.markers import InvalidMarker, Marker
    except ImportError:  # pragma: no cover - nox brings packaging
        return True
    try:
        here = {"python_version": python, "python_full_version": f"{python}.0"} if python else None
        return Marker(marker).evaluate(here)
    except (InvalidMarker, ValueError, TypeError):
        return True


def _tox_lint_deps(config: Config) -> list[tuple[str, list[str]]]:
    """``(where, requirements)`` of each tox environment that lints (``[testenv:flake8]``,
    ``[testenv:lint]``, ...): what the project's own lint run installs. Factor prefixes
    (``lint: flake8``) are dropped, ``-r`` files followed, substitutions (``{[testenv]deps}``)
    left out, and so are lines whose marker does not hold on the tools' Python
    (``black==22.12.0; python_version < "3.8"``)."""
    parser = _ini(config.root / "tox.ini")
    found: list[tuple[str, list[str]]] = []
    if parser is None:
        return found
    for section in parser.sections():
        env = section.removeprefix("testenv:")
        if env == section or not _TOX_LINT_ENV.search(env):
            continue
        requirements: list[str] = []
        for raw in parser.get(section, "deps", fallback="").splitlines():
            line = re.sub(r"^[\w.,!{}-]+:\s+", "", raw.split(" #")[0].strip())
            include = re.match(r"^(?:-r|--requirement)\s*=?\s*(\S+)", line)
            if include:
                name = include[1].removeprefix("{toxinidir}/")
                requirements += install.requirement_lines(config.root, [name])
            elif line and not line.startswith(("-", "{")):
                requirement, _, marker = line.partition(";")
                if not marker.strip() or _marker_holds(marker.strip(), config.tools_python):
                    requirements.append(requirement.strip())
        found.append((f"tox.ini [{section}]", requirements))
    return found


def _requirement_sources(config: Config) -> list[tuple[str, list[str]]]:
    """``(where, requirements)``: pyproject.toml's groups, then each requirements file, then
    the deps of tox's lint environments."""
    found = [("pyproject.toml", _group_requirements(config))]
    for name in _REQUIREMENT_FILES:
        if (config.root / name).is_file():
            found.append((name, install.requirement_lines(config.root, [name])))
    return found + _tox_lint_deps(config)


def pin(config: Config, tool: str, python: Optional[str] = None) -> Optional[tuple[str, str]]:
    """``(requirement, where)`` for the project's own version of ``tool``, or None: the
    version its lock gives the tool on ``python`` (None: the tools' Python), else its pin."""
    lock = locks.read(config.root)
    version = lock.version(tool, python or config.tools_python) if lock else None
    if lock and version:
        return f"{tool}=={version}", lock.file
    for where, requirements in _requirement_sources(config):
        found = _pin_in(requirements, tool)
        if found:
            return found, where
    rev = precommit_revs(config.root).get(tool)
    if rev and re.fullmatch(r"\d+(\.\d+)*", rev):
        return f"{tool}=={rev}", ".pre-commit-config.yaml"
    found = _pin_in(_precommit_dependencies(config.root), tool)
    return (found, ".pre-commit-config.yaml") if found else None


def pinned(config: Config, tool: str) -> Optional[str]:
    """The project's own requirement for ``tool``: ``tool==<version>`` from its lock, else
    from its dependency groups or its requirements files (with the version it pins), else
    ``tool==<rev>`` from its pre-commit hook, else its pin in a pre-commit hook's
    ``additional_dependencies`` (blacken-docs' black), else None."""
    found = pin(config, tool)
    return found[0] if found else None


def requirement(config: Config, tool: str) -> str:
    """What to install for ``tool``: the project's pin, else the tool's newest release."""
    return pinned(config, tool) or tool


def _named(requirements: list[str]) -> list[str]:
    """The normalized distribution names ``requirements`` name."""
    return [_norm(m[1].split("[")[0]) for text in requirements if (m := _NAME_RE.match(text))]


def _uses(config: Config, tool: str) -> bool:
    """Whether the project names ``tool`` anywhere: its table, a pre-commit hook, a pin."""
    if tool in config.project.tool:
        return True
    if tool in precommit_revs(config.root):
        return True
    return any(tool in _named(reqs) for _where, reqs in _requirement_sources(config))


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
    own = _own_linter(config, _FLAKE8_FORMATTERS, "checks formatting", "names no formatter")
    default = Choice("black", "noxops's default: the project configures no lint tooling")
    return Choice("none", own) if own else default


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
    own = _own_linter(config, _FLAKE8_SORTERS, "checks imports", "names no import sorter")
    default = Choice("isort", "noxops's default: the project configures no lint tooling")
    return Choice("none", own) if own else default


def _own_linter(config: Config, plugins: tuple[str, ...], covers: str, lacks: str) -> str:
    """Why noxops adds no default formatter/import sorter beside the project's own linter:
    ``the project's flake8 with flake8-import-order checks imports``, or ``the project's
    flake8 names no import sorter``; "" when the project configures no linter (noxops's
    defaults apply then)."""
    own = [c.tool for c in _detected_linters(config) if c.why != RUFF_DEFAULT]
    if not own:
        return ""
    if "flake8" in own:
        names = [m[1] for req in flake8_plugins(config) if (m := _NAME_RE.match(req))]
        used = [name for name in plugins if name in names]
        if used:
            return f"the project's flake8 with {', '.join(used)} {covers}"
    return f"the project's {' and '.join(own)} {lacks}"


def choices(config: Config) -> dict[str, Choice]:
    """What lint and fmt run: ``{"formatter": ..., "imports": ...}``."""
    return {"formatter": formatter(config), "imports": import_sorter(config)}


def describe(config: Config) -> list[str]:
    """What lint runs, and why, as the lint log and ``noxops init`` say it: the formatter and
    import sorter on one line, then a line per linter."""
    chosen = choices(config)
    head = "; ".join(
        f"{label}: {chosen[role].tool} ({chosen[role].why})"
        for role, label in (("formatter", "formatter"), ("imports", "import sorter"))
    )
    return [head, *(describe_linter(config, c) for c in linters(config))]


# -- linters ---------------------------------------------------------------------------------


def _ini(path: Path) -> Optional[configparser.RawConfigParser]:
    """An INI file (setup.cfg, tox.ini, .flake8, ...) as its tools read it; None when it is
    missing or cannot be parsed (the tool itself says why when it runs)."""
    parser = configparser.RawConfigParser(strict=False)
    try:
        return parser if parser.read(path, encoding="utf-8") else None
    except (configparser.Error, UnicodeDecodeError):
        return None


def _ruff_linter(config: Config) -> Optional[str]:
    """How the project configures ruff's linter, or None."""
    ruff = config.project.ruff
    if isinstance(ruff.get("lint"), Mapping):
        return "config [tool.ruff.lint] in pyproject.toml"
    keys = [key for key in _RUFF_LINT_KEYS if key in ruff]
    if keys:
        return f"config [tool.ruff] {keys[0]} in pyproject.toml"
    for name in ("ruff.toml", ".ruff.toml"):
        if (config.root / name).is_file():
            return f"config {name}"
    hooks = sorted(_precommit_ids(config.root) & {"ruff", "ruff-check"})
    return f"run by its {hooks[0]} pre-commit hook" if hooks else None


def _flake8_config(config: Config) -> Optional[str]:
    """Where flake8 reads the project's settings, as flake8 looks (the first file with a
    ``[flake8]`` section), or ``[tool.flake8]`` (the Flake8-pyproject plugin); None."""
    for name in ("setup.cfg", "tox.ini", ".flake8"):
        parser = _ini(config.root / name)
        if parser is not None and parser.has_section("flake8"):
            return f"config {name} [flake8]"
    if "flake8" in config.project.tool:
        return "config [tool.flake8] in pyproject.toml"
    return None


def _pylint_config(config: Config) -> Optional[str]:
    """Where pylint reads the project's settings, or None."""
    if "pylint" in config.project.tool:
        return "config [tool.pylint] in pyproject.toml"
    for name in ("pylintrc", ".pylintrc", "pylintrc.toml", ".pylintrc.toml"):
        if (config.root / name).is_file():
            return f"config {name}"
    for name in ("setup.cfg", "tox.ini"):
        parser = _ini(config.root / name)
        if parser is not None and any(s.startswith("pylint.") for s in parser.sections()):
            return f"config {name} [pylint.*]"
    return None


def _runs(config: Config, tool: str, configured: Optional[str]) -> Optional[str]:
    """Why the project runs ``tool``: its configuration, else its pre-commit hook, else its
    pin (then with the tool's defaults); None when it names it nowhere."""
    if configured:
        return configured
    if tool in _precommit_ids(config.root):
        return f"run by its {tool} pre-commit hook with {tool}'s defaults"
    if _uses(config, tool):
        return f"{tool}'s defaults (the project installs {tool}, configures nothing)"
    return None


def linters(config: Config) -> list[Choice]:
    """The linters the project runs (see the module's documentation): ruff and flake8 run in
    the lint session, pylint in the pylint session."""
    configured = config.lint.linters
    if configured:
        return [Choice(tool, "chosen by [tool.noxops.lint] linters") for tool in configured]
    return _detected_linters(config)


def _detected_linters(config: Config) -> list[Choice]:
    """The linters the project's own files configure (:func:`linters` without the override)."""
    found: list[Choice] = []
    ruff = _ruff_linter(config)
    if ruff:
        found.append(Choice("ruff", ruff))
    flake8 = _runs(config, "flake8", _flake8_config(config))
    # A leftover .flake8 beside a configured ruff is not run; a flake8 hook beside it is.
    if flake8 and (not ruff or "flake8" in _precommit_ids(config.root)):
        found.append(Choice("flake8", flake8))
    pylint = _runs(config, "pylint", _pylint_config(config))
    if pylint:
        found.append(Choice("pylint", pylint))
    if not found and _uses(config, "ruff"):
        found.append(Choice("ruff", "the project uses ruff, with ruff's default rules"))
    return found or [Choice("ruff", RUFF_DEFAULT)]


def linter_names(config: Config) -> list[str]:
    """The names of :func:`linters`."""
    return [choice.tool for choice in linters(config)]


def flake8_plugins(config: Config) -> list[str]:
    """The flake8 plugins the project installs (``flake8-*`` and a few others, in its groups,
    requirements files or pre-commit hooks), as requirements at its pins."""
    requirements = [req for _where, reqs in _requirement_sources(config) for req in reqs]
    names: list[str] = []
    for name in _named(requirements + _precommit_dependencies(config.root)):
        if (name.startswith("flake8-") or name in _FLAKE8_PLUGINS) and name not in names:
            names.append(name)
    return [requirement(config, name) for name in names]


def _shown(config: Config, tool: str) -> str:
    """``flake8 7.1.1 (requirements-dev.txt)``: the version to install and where it is pinned."""
    found = pin(config, tool)
    if found is None:
        return f"{tool} (newest: not pinned)"
    req, where = found
    exact = re.fullmatch(r"[^=<>!~\s]+==\s*([^,;\s]+)", req)
    return f"{tool} {exact[1] if exact else req[len(tool) :]} ({where})"


def describe_linter(config: Config, choice: Choice) -> str:
    """The log line of a linter: which, at which version, with which plugins and settings."""
    if choice.tool == "ruff" and choice.why == RUFF_DEFAULT:
        return f"lint: ruff check with {RUFF_DEFAULT}"
    text = f"lint: {_shown(config, choice.tool)}"
    if choice.tool == "flake8":
        plugins = [
            _shown(config, m[1]).split(" (")[0]
            for req in flake8_plugins(config)
            if (m := _NAME_RE.match(req))
        ]
        text += f" with {', '.join(plugins)}" if plugins else ""
    text += f", {choice.why}"
    if choice.tool == "pylint":
        off = config.pylint.enabled is False
        text += (
            "; not run: [tool.noxops.pylint] enabled = false"
            if off
            else "; the pylint session runs it (advisory in the report)"
        )
    return text


def _isort_settings(config: Config) -> dict[str, Any]:
    """isort's settings from the first place isort finds them, keys with underscores."""
    for name, sections in _ISORT_FILES:
        if name == "pyproject.toml":
            found = dict(config.project.isort)
        else:
            parser = _ini(config.root / name)
            found = next(
                (dict(parser[s]) for s in sections if parser is not None and parser.has_section(s)),
                {},
            )
        if found:
            return {key.replace("-", "_"): value for key, value in found.items()}
    return {}


def import_layout(config: Config) -> tuple[int, list[str]]:
    """How the project's import sorter lays out a module's imports: the blank lines after
    them before other code (isort's ``lines_after_imports``, also from its profile, or ruff's
    ``lines-after-imports``; 1 when unset) and the ``from __future__`` imports it requires
    (ruff's ``required-imports``, isort's ``add_imports``). ``noxops init`` writes a noxfile
    that follows it, so the project's own lint passes on it."""
    sorter = import_sorter(config).tool
    lines: Any = -1
    required: Any = ()
    if sorter == "ruff":
        table = _ruff_lint(config).get("isort") or config.project.ruff.get("isort") or {}
        lines = table.get("lines-after-imports", -1)
        required = table.get("required-imports", ())
    elif sorter == "isort":
        settings = _isort_settings(config)
        profile = _ISORT_PROFILE_LINES.get(str(settings.get("profile", "")).strip('"'), -1)
        lines = settings.get("lines_after_imports", profile)
        required = settings.get("add_imports", ())
    if isinstance(required, str):
        required = re.split(r"[,\n]", required)
    try:
        count = int(lines)
    except (TypeError, ValueError):
        count = -1
    future = [
        r.strip()
        for r in required
        if isinstance(r, str) and r.strip().startswith("from __future__ import ")
    ]
    return (count if count in (1, 2) else 1), future
