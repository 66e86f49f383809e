"""How a project uses its services: the variables it reads for them, and which tests use them.

A service is often configured by parts (``POSTGRES_SERVER``, ``POSTGRES_PORT``, ...) under the
project's own names, with defaults in a ``.env`` file (pydantic-settings, python-dotenv) or in
its settings class. A test run that got the URL of a started server but left those names
alone would reach the ``.env`` default (``localhost:5432``): another database, or none. So
``noxops init`` writes each name it finds into ``[tool.noxops.integration.env]``, and a
session that starts services sets any it still finds (environment variables beat ``.env`` in
pydantic-settings and in python-dotenv's ``load_dotenv``, whose ``override`` is false).

Where names are found: the dotenv files at the root (:data:`DOTENV_FILES`), the
``environment:`` of the compose services that are not the servers themselves, and in the
sources the fields of settings classes (a base named ``...Settings``, with its
``env_prefix``) and ``os.environ`` / ``os.getenv`` reads, and those reads in the test code
too (tests often read a variable of their own: ``os.environ["DATABASE_TEST_URL"]``). A URL
name with no value of its own takes the scheme the project gives another URL of the same
service (compose's ``DATABASE_URL: postgres://...``). Which service and part a name is
for comes from its words: a service word (``POSTGRES``, ``PG``, ``DB``, ``DATABASE``,
``REDIS``, ...) before a part word (``HOST``/``SERVER``, ``PORT``, ``USER``, ``PASSWORD``,
``DB``/``NAME``, ``URL``/``DSN``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from noxops.services.base import Endpoint, kind

__all__ = [
    "DOTENV_FILES",
    "Variable",
    "default_names",
    "part_of",
    "proposals",
    "read_variables",
    "scheme_of",
    "service_of",
    "tests_use",
    "url_scheme",
]

DOTENV_FILES = (
    ".env", ".env.example", ".env.sample", ".env.template", ".env.dist", ".env.test",
    "example.env", "sample.env",
)  # fmt: skip
_COMPOSE_FILES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
_SERVICE_WORDS = {  # checked in this order: REDIS_DB is Redis's
    "redis": {"REDIS", "VALKEY"},
    "postgres": {"POSTGRES", "POSTGRESQL", "PG", "PGSQL", "PSQL", "DB", "DATABASE", "SQLALCHEMY"},
}
_PART_WORDS = {
    "URL": "url", "URI": "url", "DSN": "url",
    "HOST": "host", "SERVER": "host", "HOSTNAME": "host",
    "PORT": "port",
    "USER": "user", "USERNAME": "user",
    "PASSWORD": "password", "PASS": "password", "PASSWD": "password", "PWD": "password",
    "DB": "database", "NAME": "database", "DATABASE": "database", "DBNAME": "database",
}  # fmt: skip
_NEUTRAL_WORDS = {"TEST", "TESTS", "TESTING"}
_SERVER_IMAGE = re.compile(r"^['\"]?(?:\S+/)?(postgres|postgresql|postgis|redis|valkey)\b")
_DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_ENVIRON_READ = re.compile(
    r"(?:\benviron(?:\.get)?\s*[\[(]|\bgetenv\s*\()\s*['\"]([A-Za-z_][A-Za-z0-9_]*)['\"]"
)
_SETTINGS_CLASS = re.compile(r"^([ \t]*)class\s+\w+\s*\(([^)]*Settings[^)]*)\)\s*:", re.M)
_FIELD = re.compile(r"^([A-Za-z_]\w*)\s*:\s*[^=]+?(?:=\s*(.*))?$")
_ENV_PREFIX = re.compile(r"env_prefix\s*=\s*['\"]([^'\"]*)['\"]")
_ALIAS = re.compile(r"\balias\s*=\s*['\"]([A-Za-z_]\w*)['\"]")
_LITERAL = re.compile(r"^[rbuf]?['\"]([^'\"]*)['\"]")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_SKIPPED_DIRS = {"node_modules", "__pycache__", "site-packages", "venv", "env", "build", "dist"}
# Imports that mean a module talks to a database or Redis (clients, ORMs, migrations).
_CLIENT_IMPORT = re.compile(
    r"^\s*(?:import|from)\s+(psycopg2?|psycopg_pool|asyncpg|pg8000|sqlalchemy|sqlmodel|alembic|"
    r"django|peewee|tortoise|databases|redis|aioredis|valkey)\b",
    re.M,
)


@dataclass(frozen=True)
class Variable:
    """A variable the project reads: where it was found, and a value given there (if any)."""

    name: str
    where: tuple[str, ...]
    value: str = ""


def _words(name: str) -> list[str]:
    return [w for w in name.upper().split("_") if w and w not in _NEUTRAL_WORDS]


def service_of(name: str) -> Optional[str]:
    """The service ``name`` is about (a service word before its last word), else ``None``."""
    words = _words(name)[:-1]
    for service, known in _SERVICE_WORDS.items():
        if known & set(words):
            return service
    return None


def part_of(name: str) -> Optional[str]:
    """The part of its service ``name`` holds (its last word), else ``None``."""
    words = _words(name)
    if service_of(name) is None or not words:
        return None
    return _PART_WORDS.get(words[-1])


def scheme_of(value: str) -> Optional[str]:
    """The scheme of a URL value (``postgresql+asyncpg``), else ``None``."""
    match = _SCHEME.match(value.strip())
    return match[1] if match else None


def url_scheme(variable: Variable, variables: Mapping[str, Variable]) -> Optional[str]:
    """The scheme the project gives the URL ``variable``: its value's, else (a name only read,
    as tests read theirs) the first scheme a value of another URL of its service has."""
    if variable.value:
        return scheme_of(variable.value)
    service = service_of(variable.name)
    for other in variables.values():
        if other.value and service_of(other.name) == service and part_of(other.name) == "url":
            scheme = scheme_of(other.value)
            if scheme:
                return scheme
    return None


def default_names(services: Iterable[str]) -> set[str]:
    """The variables noxops sets for ``services`` whatever the project reads (DATABASE_URL,
    PGHOST, ..., REDIS_URL, REDIS_HOST, ...)."""
    names: set[str] = set()
    for name in services:
        k = kind(name)
        names |= set(k.env(Endpoint(k.schemes[0], "localhost", k.default_port)))
    return names


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _unquote(value: str) -> str:
    value = value.strip()
    if value[:1] in {"'", '"'} and value[-1:] == value[:1] and len(value) > 1:
        return value[1:-1]
    return value.split(" #", 1)[0].strip()


def _dotenv(root: Path) -> Iterator[tuple[str, str, str]]:
    for name in DOTENV_FILES:
        for line in _text(root / name).splitlines():
            match = _DOTENV_LINE.match(line)
            if match:
                yield match[1], name, _unquote(match[2])


def _compose(root: Path) -> Iterator[tuple[str, str, str]]:
    """``environment:`` entries of the compose services that are not a server's image."""
    for file in _COMPOSE_FILES:
        text = _text(root / file)
        found: dict[str, list[tuple[str, str]]] = {}
        images: dict[str, str] = {}
        service, service_indent, env_indent, in_services = "", -1, -1, False
        for line in text.splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            indent = len(line) - len(line.lstrip())
            if env_indent >= 0 and indent > env_indent:
                entry = stripped.lstrip("- ").strip("'\"")
                name, _, value = entry.partition("=" if "=" in entry.split(":")[0] else ":")
                if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name.strip()):
                    found.setdefault(service, []).append((name.strip(), _unquote(value)))
                continue
            env_indent = -1
            if indent == 0:
                service, service_indent = "", -1
                in_services = stripped == "services:"
                continue
            if in_services and (service_indent < 0 or indent == service_indent):
                service, service_indent = stripped.rstrip(":"), indent
            elif stripped.startswith("image:"):
                images[service] = stripped.split(":", 1)[1].strip()
            elif stripped == "environment:":
                env_indent = indent
        for service, entries in found.items():
            if not _SERVER_IMAGE.match(images.get(service, "")):
                for name, value in entries:
                    yield name, file, value


def _python_files(root: Path, folders: Iterable[str]) -> Iterator[Path]:
    for folder in folders:
        path = root / folder
        if path.is_file() and path.suffix == ".py":
            yield path
            continue
        if not path.is_dir():
            continue
        for child in sorted(path.iterdir()):
            if child.name.startswith(".") or child.name in _SKIPPED_DIRS:
                continue
            if child.is_dir():
                yield from _python_files(root, [str(child.relative_to(root))])
            elif child.suffix == ".py":
                yield child


def _settings_fields(text: str) -> Iterator[tuple[str, str]]:
    """``(name, default)`` of the fields of settings classes, as the environment names them."""
    for match in _SETTINGS_CLASS.finditer(text):
        indent = len(match[1])
        body: list[str] = []
        for line in text[match.end() :].splitlines()[1:]:
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            body.append(line)
        prefix = _ENV_PREFIX.search("\n".join(body))
        inner = min((len(b) - len(b.lstrip()) for b in body if b.strip()), default=0)
        for line in body:
            if len(line) - len(line.lstrip()) != inner:
                continue
            field = _FIELD.match(line.strip())
            if not field or field[1].startswith("_") or field[1] == "model_config":
                continue
            alias = _ALIAS.search(line)
            name = alias[1] if alias else (prefix[1] if prefix else "") + field[1]
            default = _LITERAL.match((field[2] or "").strip())
            yield name.upper(), default[1] if default else ""


def read_variables(
    root: Path, sources: Sequence[str], tests: Sequence[str] = ("tests",)
) -> dict[str, Variable]:
    """The variables the project reads, by name, in the order they were found: its settings
    classes and environment reads in ``sources`` and in its test code ``tests``, its dotenv
    files, its compose services."""
    found: dict[str, tuple[list[str], str]] = {}
    files = dict.fromkeys(_python_files(root, [*sources, *tests]))  # tests/unit in tests: once

    def add(name: str, where: str, value: str) -> None:
        places, known = found.setdefault(name, ([], ""))
        if where not in places:
            places.append(where)
        if value and not known:
            found[name] = (places, value)

    for path in files:
        text = _text(path)
        where = path.relative_to(root).as_posix()
        for name, default in _settings_fields(text):
            add(name, where, default)
        for match in _ENVIRON_READ.finditer(text):
            add(match[1], where, "")
    for name, where, value in (*_dotenv(root), *_compose(root)):
        add(name, where, value)
    return {name: Variable(name, tuple(w), v) for name, (w, v) in found.items()}


def proposals(
    variables: dict[str, Variable], services: Sequence[str]
) -> tuple[dict[str, str], dict[str, Variable]]:
    """What to map the variables the project reads for ``services`` to, as
    ``[tool.noxops.integration.env]`` writes it (``{"POSTGRES_SERVER": "postgres.host"}``),
    and those that name a service but no part of it. The names noxops sets anyway are left
    out, unless the project gives its URL another scheme."""
    defaults = default_names(services)
    mapped: dict[str, str] = {}
    unmapped: dict[str, Variable] = {}
    for name, variable in variables.items():
        service = service_of(name)
        if service is None or service not in services:
            continue
        part = part_of(name)
        scheme = url_scheme(variable, variables) if part == "url" else None
        if scheme in kind(service).schemes[:1]:
            scheme = None
        if name in defaults and not scheme:
            continue
        if part is None:
            unmapped[name] = variable
        else:
            mapped[name] = f"{service}.{part}" + (f":{scheme}" if scheme else "")
    return mapped, unmapped


def _imported_modules(text: str) -> list[str]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    return names


def _module_file(root: Path, module: str) -> Optional[Path]:
    parts = module.split(".")
    for base in (root, root / "src"):
        for candidate in (
            base.joinpath(*parts).with_suffix(".py"),
            base.joinpath(*parts, "__init__.py"),
        ):
            if candidate.is_file():
                return candidate
    return None


def _uses(text: str, names: Optional[re.Pattern[str]]) -> Optional[str]:
    match = _CLIENT_IMPORT.search(text)
    if match:
        return f"imports {match[1]}"
    found = names.search(text) if names else None
    return f"reads {found[0]}" if found else None


def tests_use(root: Path, paths: Sequence[str], names: Iterable[str]) -> Optional[str]:
    """Why the tests under ``paths`` use a service, else ``None``: a test file imports a
    database or Redis client (or ORM), or names one of ``names``, or imports a module of the
    project that does (one level: ``tests/test_x.py imports app.db, which imports sqlalchemy``)."""
    wanted = sorted(set(names), key=lambda n: (-len(n), n))
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, wanted)) + r")\b") if wanted else None
    files = [(p, _text(p)) for p in _python_files(root, paths)]
    for path, text in files:
        why = _uses(text, pattern)
        if why:
            return f"{path.relative_to(root).as_posix()} {why}"
    for path, text in files:
        for module in dict.fromkeys(_imported_modules(text)):
            source = _module_file(root, module)
            why = _uses(_text(source), pattern) if source and source != path else None
            if why:
                return f"{path.relative_to(root).as_posix()} imports {module}, which {why}"
    return None
