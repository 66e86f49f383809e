"""The image build context: what the engine is sent, and never noxops's own folders.

``docker build`` sends its context to the engine, and ``COPY . .`` puts what it sent in the
image. The nox environments (``.nox/``, hundreds of megabytes), the reports folder and
virtualenvs are noxops's or the developer's, never the image's: they are left out wherever
they are in the context (``backend/.nox`` too, when a service in ``backend/`` is built from
the repository root) and whatever the project's ``.dockerignore`` says. A virtualenv is any
folder holding ``pyvenv.cfg``.

The context is scanned with the ignore rules the engine applies, ported from docker's own
(``moby/patternmatcher`` and the walk of its archive package), so the files counted, and those
copied, are the ones docker sends: the project's ``<Dockerfile>.dockerignore`` or
``.dockerignore``, else :data:`DEFAULT_PATTERNS`. When that leaves nothing of noxops's behind
and the engine reads the ignore file itself, the context is sent as it is; otherwise it is
copied, without them, into the build's temporary folder (nothing is written into the project),
with the ``.dockerignore`` in the copy, so the engine still decides by the project's rules.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from noxops.errors import NoxopsError

__all__ = [
    "DEFAULT_PATTERNS",
    "IGNORED",
    "IGNORED_ANYWHERE",
    "Context",
    "Rules",
    "describe",
    "ignore_file",
    "prepare",
    "read_patterns",
]

# Without an ignore file of the project's: left out at the top of the context...
IGNORED = (".nox", "reports", ".git", ".venv", "venv", "build", "dist", ".tox", "htmlcov")
# ... and wherever they are.
IGNORED_ANYWHERE = (
    "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".coverage", "*.pyc",
)  # fmt: skip
DEFAULT_PATTERNS = (*IGNORED, *(f"**/{name}" for name in IGNORED_ANYWHERE))


# -- docker's ignore rules ----------------------------------------------------------------


def read_patterns(path: Path) -> list[str]:
    """The patterns of a ``.dockerignore``, read as the docker CLI and BuildKit read them: a
    byte-order mark dropped, ``#`` lines are comments, blanks trimmed, paths cleaned and made
    relative to the context."""
    text = path.read_bytes().decode("utf-8", errors="replace").removeprefix("\ufeff")
    patterns = []
    for raw in text.split("\n"):
        line = raw.removesuffix("\r")
        if line.startswith("#"):
            continue
        pattern = line.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = _clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        patterns.append("!" + pattern if invert else pattern)
    return patterns


def _clean(path: str) -> str:
    """Go's ``filepath.Clean`` (``posixpath.normpath`` keeps a leading ``//``)."""
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


@dataclass(frozen=True)
class _Pattern:
    text: str  # cleaned, without the "!"
    exclusion: bool
    regexp: re.Pattern[str]

    def match(self, path: str) -> bool:
        suffix = self.text[2:]
        if self.text.startswith("**") and not re.search(r"[*?\[\]\\]", suffix):
            # patternmatcher's shortcut, which the engine keeps: "**x" is any path ending in
            # x, also inside a name ("**secret" matches "a/mysecret"); "**/x" matches x too.
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        return self.regexp.match(path) is not None


def _compile(text: str, exclusion: bool) -> _Pattern:
    """patternmatcher's ``compile``: ``*`` and ``?`` stop at ``/``, ``**`` crosses folders, a
    backslash escapes the next character; the pattern covers the whole path."""
    regexp, i = "^", 0
    while i < len(text):
        ch = text[i]
        i += 1
        if ch == "*" and text[i : i + 1] == "*":
            i += 1
            if text[i : i + 1] == "/":
                i += 1
            regexp += ".*" if i >= len(text) else "(.*/)?"
        elif ch == "*":
            regexp += "[^/]*"
        elif ch == "?":
            regexp += "[^/]"
        elif ch in ".+()|{}$":
            regexp += "\\" + ch
        elif ch == "\\":  # a trailing one is an error, as in Go
            regexp += "\\" + text[i : i + 1]
            i += 1
        else:
            regexp += ch
    return _Pattern(text, exclusion, re.compile(regexp + r"\Z"))


class Rules:
    """A ``.dockerignore``'s patterns, applied as docker's archive walk applies them."""

    def __init__(self, patterns: Sequence[str], source: str = "the ignore rules") -> None:
        self.patterns: list[_Pattern] = []
        for raw in patterns:
            text = raw.strip()
            if not text:
                continue
            text = _clean(text)
            exclusion = text.startswith("!")
            if exclusion:
                text = text[1:]
            if not text:
                raise NoxopsError(f"{source}: '!' alone is not a pattern (docker refuses it)")
            try:
                self.patterns.append(_compile(text, exclusion))
            except (re.error, IndexError) as exc:
                raise NoxopsError(
                    f"{source}: {raw!r} is not a valid pattern ({exc}); docker refuses it too"
                ) from None
        self.exceptions = [p.text for p in self.patterns if p.exclusion]

    def excluded(self, path: str, parent_excluded: bool) -> bool:
        """Whether ``path`` (relative, with ``/``) is left out, its folder's answer given."""
        matched = parent_excluded
        for pattern in self.patterns:
            # An exclusion only matters once matched; an inclusion only until then.
            if pattern.exclusion == matched and pattern.match(path):
                matched = not pattern.exclusion
        return matched

    def skips(self, folder: str) -> bool:
        """Whether an excluded ``folder`` is not even entered: no exception pattern starts
        with it (docker enters it otherwise, and an exception may keep some of it)."""
        return not any((text + "/").startswith(folder + "/") for text in self.exceptions)


# -- the context --------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What the build sends: ``folder`` is given to the engine (the configured ``source``, or
    a copy without noxops's folders); ``paths`` are the files and folders it sends."""

    source: Path
    folder: Path
    ignore_file: Optional[Path]  # the project's, or None (the defaults)
    paths: tuple[str, ...]
    files: int
    size: int
    left_out: tuple[str, ...]  # noxops's own folders that would have been sent
    largest: tuple[tuple[str, int], ...]  # its biggest parts (5% or more), at the top


def ignore_file(context: Path, dockerfile: Path, buildx: bool = False) -> Optional[Path]:
    """The project's ignore file for this build, as the engine chooses it: BuildKit prefers
    ``<Dockerfile>.dockerignore``, the classic builder reads only the context's
    ``.dockerignore`` (noxops then applies a ``<Dockerfile>.dockerignore`` itself)."""
    own = dockerfile.with_name(dockerfile.name + ".dockerignore")
    shared = context / ".dockerignore"
    for candidate in (own, shared) if buildx else (shared, own):
        if candidate.is_file():
            return candidate
    return None


# One entry of a scanned context: its path (relative, with /), kind (dir, file or link), its
# size, and whether the rules exclude it (a folder entered only for an exception inside).
_Entry = tuple[str, str, int, bool]


def _scan(source: Path, rules: Rules, own: set[str]) -> tuple[list[_Entry], list[str]]:
    """Walk ``source`` as docker's archive walk does; the entries, and noxops's own folders
    (nox's, the reports folder, virtualenvs: any folder with pyvenv.cfg) left out."""
    entries: list[_Entry] = []
    left_out: list[str] = []
    stack: list[tuple[str, bool]] = [("", False)]
    while stack:
        folder, folder_excluded = stack.pop()
        try:
            with os.scandir(source / folder) as found:
                children = sorted(found, key=lambda entry: entry.name)
        except OSError as exc:
            raise NoxopsError(
                f"cannot read {source / folder} in the build context: {exc.strerror or exc}"
            ) from None
        below: list[tuple[str, bool]] = []
        for child in children:
            rel = f"{folder}/{child.name}" if folder else child.name
            excluded = rules.excluded(rel, folder_excluded)
            if child.is_dir(follow_symlinks=False):
                if excluded and rules.skips(rel):
                    continue
                path = Path(child.path)
                if path.name == ".nox" or rel in own or (path / "pyvenv.cfg").is_file():
                    left_out.append(rel)
                    continue
                entries.append((rel, "dir", 0, excluded))
                below.append((rel, excluded))
            elif not excluded and (child.is_symlink() or child.is_file(follow_symlinks=False)):
                kind = "link" if child.is_symlink() else "file"
                try:
                    size = child.stat(follow_symlinks=False).st_size
                except FileNotFoundError:  # removed while the scan ran: not in the context
                    continue
                entries.append((rel, kind, size, False))
            # sockets and pipes are left out: nothing an image build reads
        stack.extend(reversed(below))
    return entries, left_out


def _sent(entries: list[_Entry]) -> set[str]:
    """What the engine receives: the entries not excluded, and the folders that hold them."""
    sent: set[str] = set()
    for rel, _kind, _size, excluded in entries:
        if not excluded:
            sent.add(rel)
            parent = posixpath.dirname(rel)
            while parent and parent not in sent:
                sent.add(parent)
                parent = posixpath.dirname(parent)
    return sent


def _link_or_copy(src: Path, dst: Path) -> None:
    """A hard link where the file system allows one (a large context is then "copied" in
    no time, and no disk space), else a copy. The engine only reads the copy, and the copy's
    folder is removed by unlinking: the project's files are never changed through it."""
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:  # another file system, or a file this user may not link
        shutil.copy2(src, dst, follow_symlinks=False)


def _copy(source: Path, entries: list[_Entry], sent: set[str], target: Path) -> Path:
    """Copy the ``sent`` entries of ``source`` into ``target`` (files with their modes,
    links as links, folders' modes set once they are filled)."""
    target.mkdir(parents=True)
    folders = []
    for rel, kind, _size, _excluded in entries:
        if rel not in sent:
            continue
        src, dst = source / rel, target / rel
        if kind == "dir":
            dst.mkdir()
            folders.append(rel)
        elif kind == "link":
            dst.symlink_to(src.readlink())
        else:
            _link_or_copy(src, dst)
    for rel in reversed(folders):
        shutil.copystat(source / rel, target / rel, follow_symlinks=False)
    return target


def prepare(
    context: Path,
    dockerfile: Path,
    work: Path,
    *,
    reports: Optional[Path] = None,
    buildx: bool = False,
) -> Context:
    """Scan ``context`` and, unless the engine can be given it as it is, copy what it must
    send into ``work/context``. ``reports`` is the project's reports folder; ``buildx`` says
    the engine is BuildKit (which ignore file it reads).

    Raises :class:`NoxopsError` when the context is not a folder or cannot be read, or the
    ignore file holds a pattern docker refuses.
    """
    if not context.is_dir():
        raise NoxopsError(
            f"the build context {context} is not a folder: set [tool.noxops.image] context"
        )
    source = context.resolve()
    ignore = ignore_file(source, dockerfile.resolve(), buildx)
    rules = Rules(
        DEFAULT_PATTERNS if ignore is None else read_patterns(ignore),
        str(ignore or "the default ignore rules"),
    )
    own: set[str] = set()
    if reports is not None:
        rel = os.path.relpath(reports.resolve(), source)
        if rel != ".." and not rel.startswith("../"):
            own.add(Path(rel).as_posix())
    entries, left_out = _scan(source, rules, own)
    sent = _sent(entries)
    shared = ignore == source / ".dockerignore"
    engine_reads = shared or (ignore is not None and buildx)
    folder = source
    if left_out or not engine_reads:
        folder = _copy(source, entries, sent, work / "context")
        if shared and ".dockerignore" not in sent:  # the engine still judges by its rules
            shutil.copy2(source / ".dockerignore", folder / ".dockerignore")
    sizes: dict[str, int] = {}
    files = 0
    for rel, kind, size, _excluded in entries:
        if kind != "dir" and rel in sent:
            files += 1
            top = rel.split("/", 1)[0]
            sizes[top] = sizes.get(top, 0) + size
    big = [(name, size) for name, size in sizes.items() if size * 20 >= sum(sizes.values())]
    return Context(
        source=source,
        folder=folder,
        ignore_file=ignore,
        paths=tuple(sorted(sent)),
        files=files,
        size=sum(sizes.values()),
        left_out=tuple(left_out),
        largest=tuple(sorted(big, key=lambda item: -item[1])[:3]),
    )


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def describe(ctx: Context, warn_mb: float) -> list[str]:
    """The build's lines about its context: what was left out, its size, and a warning when
    it is over ``warn_mb`` megabytes (a large upload, and likely a large image)."""
    lines = []
    if ctx.ignore_file is None:
        lines.append(
            "build: no .dockerignore: building from a copy of the context without "
            f"{', '.join(IGNORED)}, virtualenvs and caches"
        )
    elif ctx.left_out:
        shown = ", ".join(ctx.left_out[:5]) + (
            f" and {len(ctx.left_out) - 5} more" if len(ctx.left_out) > 5 else ""
        )
        lines.append(
            f"build: {shown} left out of the context (noxops's and virtualenvs' folders, "
            f"whatever {ctx.ignore_file.name} says): building from a copy of it"
        )
    lines.append(f"build: context {_mb(ctx.size)} ({ctx.files:,} files) from {ctx.source}")
    if ctx.size > warn_mb * 1e6:
        largest = ", ".join(f"{name} ({_mb(size)})" for name, size in ctx.largest)
        where = ctx.ignore_file or ctx.source / ".dockerignore"
        lines.append(
            f"warning: the build context is {_mb(ctx.size)}, over context_warning_mb = "
            f"{warn_mb:g} ([tool.noxops.image]); largest: {largest}. List what the image "
            f"does not need in {where}"
        )
    return lines
