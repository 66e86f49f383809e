"""``noxops ci generate github|gitlab|jenkins|all`` and ``noxops ci check`` (drift detection)."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from noxops.ci import declared, github
from noxops.ci.model import HEADER, INPUTS_PREFIX, CIPipeline, build_pipeline, header
from noxops.ci.providers import CI_PROVIDERS, file_providers
from noxops.errors import NoxopsError
from noxops.project.pyproject import thaw
from noxops.project.textfile import tomllib
from noxops.runtime.distribution import __version__

if TYPE_CHECKING:
    from noxops.config import Config
    from noxops.stages.base import Stage

__all__ = [
    "add_parser",
    "check",
    "expected_files",
    "generate",
    "projects",
    "repository_root",
]

# The header's record of the noxops version that generated the file.
GENERATOR = "noxops"
# The header's record of the project's folder, when it is not the repository's top.
FOLDER = "folder"
# The header's record of the folders of the projects a file shared by several holds ("."
# the top), in order.
FOLDERS = "folders"
# Folders never searched for a repository's projects, besides hidden ones (.nox, .venv, .git)
# and virtual environments (a pyvenv.cfg): installed packages, not the repository's.
NOT_SEARCHED = frozenset({"node_modules", "__pycache__", "site-packages"})
# Where GitHub reads workflows; a project sharing the repository gets ci-<key>.yml there.
WORKFLOWS = ".github/workflows"
# A template placeholder ({python}, {host}) left in a generated file; ${...} is the provider's.
PLACEHOLDER = re.compile(r"(?<!\$)\{[a-z_]+\}")

# The stages of a repository's other projects (default: what their noxfiles declare).
StagesOf = Callable[["Config"], Mapping[str, "Stage"]]


def _pipeline(config: Config, stages: Mapping[str, Stage] | None) -> CIPipeline:
    """The pipeline of the given stages, default: the stages the project's noxfile declares
    (:mod:`noxops.ci.declared`), with the digests of what it was made from."""
    found = declared.load(config) if stages is None else declared.Declared(dict(stages), (), None)
    try:
        pipeline = build_pipeline(config, found.stages)
    except ValueError as exc:
        raise NoxopsError(f"{config.file}: cannot build the CI pipeline: {exc}") from None
    workdir = config.root.resolve().relative_to(repository_root(config)).as_posix()
    workdir = "" if workdir == "." else workdir
    sources = _sources(config, found)
    if workdir:  # whose pipeline a file at the repository's top is (see _folders)
        sources = ((FOLDER, workdir), *sources)
    return dataclasses.replace(pipeline, sources=sources, workdir=workdir)


def repository_root(config: Config) -> Path:
    """Where the CI files go: GitHub and GitLab read them only at the repository's top, so a
    project in a subfolder gets them there (its jobs work in its folder). ``[tool.noxops.ci]
    root`` says where that is, else git does; outside git it is the project folder."""
    return _top(config.root.resolve(), config.ci.root, config.file)


def _top(project: Path, root: str, file: str) -> Path:
    """:func:`repository_root` of the project in ``project`` whose ``root`` is given."""
    if root:
        top = (project / root).resolve()
        if project != top and top not in project.parents:
            raise NoxopsError(
                f"{file}: [tool.noxops.ci] root = {root!r} does not hold the "
                "project folder; give the repository's top folder, relative to the project"
            )
        return top
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=project,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return project  # not in a git work tree (or no git): the project folder is the top
    return Path(out).resolve() if out else project


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _sources(config: Config, found: declared.Declared) -> tuple[tuple[str, str], ...]:
    """(label, digest) of the noxfile's stages and of each ``[tool.noxops.*]`` table."""
    table: dict[str, Any] = thaw(config.project.tool.get("noxops", {}))  # read once, by load
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
    out = [(GENERATOR, __version__), (declared.NOXFILE, found.digest())]
    out += [("[tool.noxops]", _digest(scalars))]
    out += [(f"[tool.noxops.{k}]", _digest(v)) for k, v in table.items() if isinstance(v, dict)]
    return tuple(out)


def _recorded(text: str) -> tuple[dict[str, str], str]:
    """The digests a file's header records, and its text without that line."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines[:3]):
        body = line.lstrip("#/ ").rstrip("\n")
        if body.startswith(INPUTS_PREFIX):
            pairs = (item.rpartition("=") for item in body[len(INPUTS_PREFIX) :].split())
            return {k: v for k, _, v in pairs if k}, "".join(lines[:i] + lines[i + 1 :])
    return {}, text


def _what_changed(committed: str, generated: str) -> str:
    """Which inputs changed since ``committed`` was generated, for the drift message."""
    before, _ = _recorded(committed)
    now, _ = _recorded(generated)
    if not before:
        return "what noxops generates differs"
    changed = [
        label for label, digest in now.items() if before.get(label) != digest and label != GENERATOR
    ]
    changed += [label for label in before if label not in now]
    if not changed:
        return "it was edited by hand (or generated by another noxops version)"
    return f"{', '.join(map(_input_name, changed))} changed since it was generated"


def _input_name(label: str) -> str:
    """An input of the header as the drift message names it."""
    if label.rpartition("/")[2] == declared.NOXFILE:
        return f"the stages declared in {label}"
    return "the projects it holds" if label == FOLDERS else label


def _older_generator(text: str) -> str | None:
    """The noxops version a file's header records when it is older than this one (its
    pipeline may lack what this version fixed: CI would still run the old one)."""
    from packaging.version import InvalidVersion, Version

    recorded = _recorded(text)[0].get(GENERATOR)
    if not recorded:
        return None
    try:
        return recorded if Version(recorded) < Version(__version__) else None
    except InvalidVersion:
        return recorded


def _ours(text: str) -> bool:
    """Whether ``text`` carries noxops's header (a file noxops may replace)."""
    return any(HEADER in line for line in text.splitlines()[:3])


def _unfilled(rel: str, text: str) -> None:
    """Refuse a file with a template placeholder left in it (an image ``python:{python}``
    that no registry has): a defect of noxops or a [tool.noxops.ci] template."""
    for number, line in enumerate(text.splitlines(), 1):
        found = PLACEHOLDER.search(line)
        if found:
            raise NoxopsError(
                f"noxops ci generate: {rel} line {number} leaves the placeholder "
                f"{found.group()} unfilled: {line.strip()!r}; check the templates in "
                "[tool.noxops.ci] (image, images, docker_image), else report it as a bug"
            )


def path_of(config: Config, provider: str) -> str:
    """Where ``provider``'s pipeline goes: [tool.noxops.ci] paths, else its usual file."""
    return config.ci.paths.get(provider) or CI_PROVIDERS[provider].pipeline_file()


def _providers(config: Config, which: str) -> list[str]:
    if which == "all":
        return list(config.ci.providers)
    known = file_providers()
    if which not in known:
        raise NoxopsError(f"unknown CI provider {which!r}; use one of {', '.join(known)}, all")
    return [which]


def _noxops_table(pyproject: Path) -> dict[str, Any] | None:
    """The ``[tool.noxops]`` table of ``pyproject`` (None: it has none)."""
    try:
        text = pyproject.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if "tool.noxops" not in text:
        return None
    try:
        table = tomllib.loads(text).get("tool", {}).get("noxops")
    except ValueError as exc:
        raise NoxopsError(
            f"{pyproject}: not valid TOML ({exc}): fix it; noxops ci reads every project of "
            "the repository to give them one pipeline"
        ) from None
    return table if isinstance(table, dict) else None


def projects(config: Config) -> list[Path]:
    """The noxops projects whose CI files go where ``config``'s do (its repository's top),
    ``config``'s own among them, by folder: every folder under the top with a pyproject.toml
    holding a ``[tool.noxops]`` table, except those whose ``[tool.noxops.ci] root`` puts their files
    elsewhere (a stand-alone example). Hidden folders (.nox, .venv), node_modules, virtual
    environments and nested git repositories are not searched, nor the inside of a project:
    a project within another one's folder is part of it (its test fixtures, its examples)."""
    top = repository_root(config)
    own = config.root.resolve()
    found: list[Path] = []
    claimed: list[Path] = []
    for folder, dirs, files in os.walk(top):
        here = Path(folder)
        if here != top and (here / ".git").exists():
            dirs[:] = []  # another repository (a submodule): its CI is its own
            continue
        table = _noxops_table(here / "pyproject.toml") if "pyproject.toml" in files else None
        if here == own or table is not None:
            dirs[:] = []
            claimed.append(here)
            root = str((table or {}).get("ci", {}).get("root", "") or "")
            if here == own or _top(here, root, f"{here / 'pyproject.toml'}") == top:
                found.append(here)
            continue
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d not in NOT_SEARCHED
            and not (here / d / "pyvenv.cfg").is_file()
        )
    if own not in found:
        outer = next(p for p in claimed if p in own.parents)
        where = outer.relative_to(top).as_posix()
        raise NoxopsError(
            f"noxops ci: {config.file} is inside the noxops project in "
            f"{'the top folder' if where == '.' else where + '/'} (its fixtures or examples are "
            "part of it), whose pipeline the repository's top holds; give this project "
            '[tool.noxops.ci] root = "." to keep its CI files beside it'
        )
    return sorted(found, key=lambda p: p.as_posix())


@dataclass(frozen=True)
class _Member:
    """One project of the repository and its pipeline."""

    config: Config
    folder: str  # relative to the repository's top; "" the top itself
    pipeline: CIPipeline

    @property
    def key(self) -> str:
        """The name its jobs carry in a pipeline shared with other projects: its folder
        (``services-api`` for services/api), or its name for a project at the top."""
        name = self.folder.replace("/", "-") or self.config.project_name
        return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip(".-") or "top"


@dataclass(frozen=True)
class _Plan:
    """What ``noxops ci generate`` writes: (path from the top, provider, text) per file."""

    top: Path
    members: tuple[_Member, ...]
    files: tuple[tuple[str, str, str], ...]

    @property
    def texts(self) -> dict[str, str]:
        return {rel: text for rel, _, text in self.files}


def _members(
    config: Config, stages: Mapping[str, Stage] | None, others: StagesOf | None
) -> tuple[Path, list[_Member]]:
    from noxops.config import load

    top = repository_root(config)
    members: list[_Member] = []
    for folder in projects(config):
        cfg = config if folder == config.root.resolve() else load(folder)
        found = stages if cfg is config else (others(cfg) if others else None)
        pipeline = _pipeline(cfg, found)
        members.append(_Member(cfg, pipeline.workdir, pipeline))
    return top, members


def _shared_path(provider: str, chosen: Sequence[_Member]) -> str:
    """The one file a provider's shared pipeline goes to: the projects' [tool.noxops.ci]
    paths must agree (one of them set is enough)."""
    paths = {m.config.ci.paths[provider]: m for m in chosen if m.config.ci.paths.get(provider)}
    if len(paths) > 1:
        (a, first), (b, second) = list(paths.items())[:2]
        raise NoxopsError(
            f"noxops ci: one {provider} file holds the pipeline of every project of the "
            f"repository, but {first.config.file} puts it in {a} and {second.config.file} in "
            f"{b}: give [tool.noxops.ci] paths the same {provider} file in both, or none"
        )
    return next(iter(paths), CI_PROVIDERS[provider].pipeline_file())


def _shared(provider: str, chosen: Sequence[_Member]) -> list[tuple[str, str, str]]:
    """The files of ``provider`` for several projects: on GitHub a workflow per project that
    runs when its files change (``paths`` can only filter a whole workflow); elsewhere one
    file whose jobs carry their project's key and run when its files change."""
    keys = [m.key for m in chosen]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise NoxopsError(
            f"noxops ci: two projects of the repository would name their jobs {twice[0]}: "
            "rename one's folder (a project at the top is named after its [project] name)"
        )

    def shared(member: _Member, rel: str) -> CIPipeline:
        changes = (f"{member.folder}/**", *member.config.ci.changes, rel) if member.folder else ()
        return dataclasses.replace(member.pipeline, key=member.key, changes=changes)

    if provider == "github":
        out = []
        for m in chosen:
            rel = m.config.ci.paths.get("github") or (
                f"{WORKFLOWS}/ci-{m.key}.yml" if m.folder else github.PATH
            )
            out.append((rel, provider, github.render(shared(m, rel))))
        return out
    rel = _shared_path(provider, chosen)
    sources = [(FOLDERS, ",".join(m.folder or "." for m in chosen)), (GENERATOR, __version__)]
    for m in chosen:
        prefix = f"{m.folder}/" if m.folder else ""
        sources += [(prefix + k, v) for k, v in m.pipeline.sources if k not in (FOLDER, GENERATOR)]
    text = CI_PROVIDERS[provider].render_projects([shared(m, rel) for m in chosen], header(sources))
    if text is None:
        raise NoxopsError(
            f"noxops ci: the {provider} CI provider writes one project's pipeline only, and this "
            "repository holds several: leave it out of [tool.noxops.ci] providers in all but one"
        )
    return [(rel, provider, text)]


def _plan(
    config: Config,
    which: str,
    stages: Mapping[str, Stage] | None,
    others: StagesOf | None,
) -> _Plan:
    """The files for ``config``'s repository: one pipeline per provider for every project of
    it that lists the provider (``config``'s always); a project alone gets the files it
    would get in a repository of its own."""
    top, members = _members(config, stages, others)
    files: list[tuple[str, str, str]] = []
    for provider in _providers(config, which):
        chosen = [m for m in members if m.config is config or provider in m.config.ci.providers]
        if len(chosen) == 1:
            rel = path_of(config, provider)
            files.append((rel, provider, CI_PROVIDERS[provider].render(chosen[0].pipeline)[1]))
        else:
            files += _shared(provider, chosen)
    rels = [rel for rel, _, _ in files]
    twice = sorted({rel for rel in rels if rels.count(rel) > 1})
    if twice:
        raise NoxopsError(
            f"noxops ci: two pipelines would be written to {twice[0]}: give each project's "
            "[tool.noxops.ci] paths a file of its own"
        )
    for rel, _, text in files:
        _unfilled(rel, text)
    return _Plan(top, tuple(members), tuple(files))


def expected_files(
    config: Config,
    which: str = "all",
    stages: Mapping[str, Stage] | None = None,
    *,
    others: StagesOf | None = None,
) -> dict[str, str]:
    """Path relative to the repository's top (:func:`repository_root`) -> the text
    ``noxops ci generate`` writes there. ``stages``: the project's (default: what its
    noxfile declares); ``others``: those of the repository's other projects."""
    return _plan(config, which, stages, others).texts


def _foreign(plan: _Plan) -> str | None:
    """Why writing the plan's files would replace a CI file noxops did not write, or None."""
    refused: list[str] = []
    for rel, provider, text in plan.files:
        path = plan.top / rel
        if not path.is_file():
            continue
        current = path.read_text(encoding="utf-8", errors="replace")
        if _ours(current):
            continue
        diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(), lineterm=""))
        added = sum(1 for d in diff if d.startswith("+") and not d.startswith("+++"))
        removed = sum(1 for d in diff if d.startswith("-") and not d.startswith("---"))
        other = {"github": ".github/workflows/noxops.yml", "gitlab": ".gitlab/noxops-ci.yml"}
        refused.append(
            f"noxops ci generate: {rel} was not written by noxops (no '{HEADER[:31]}' line): "
            f"left as it is; noxops's would add {added} lines and remove {removed} (see `noxops ci "
            f"generate {provider} --stdout`); write it beside with [tool.noxops.ci] paths = "
            f'{{ {provider} = "{other.get(provider, "Jenkinsfile.noxops")}" }}, '
            "or replace it with --force"
        )
    return "\n".join(refused) or None


def _folders(text: str) -> list[str]:
    """The project folders a noxops file's header records ("" the top)."""
    recorded = _recorded(text)[0]
    if FOLDERS in recorded:
        return ["" if f == "." else f for f in recorded[FOLDERS].split(",")]
    return [recorded.get(FOLDER, "")]


def _other_project(plan: _Plan) -> str | None:
    """Why writing the plan's files would replace the pipeline of a project of the same
    repository that is not among its projects (its pyproject.toml has no [tool.noxops]
    table, so it was not found), or None: its CI must not silently stop running."""
    ours = {m.folder for m in plan.members}
    for rel, _, _ in plan.files:
        path = plan.top / rel
        if not path.is_file():
            continue
        current = path.read_text(encoding="utf-8", errors="replace")
        if not _ours(current):
            continue
        for theirs in _folders(current):
            pyproject = plan.top / theirs / "pyproject.toml"
            if theirs in ours or not pyproject.is_file() or _noxops_table(pyproject) is not None:
                continue  # ours, gone, or a project whose files now go elsewhere
            return (
                f"noxops ci generate: {rel} at the repository's top holds the pipeline of the "
                f"project in {theirs or 'the top folder'}, which has no [tool.noxops] table: "
                f"add one to {Path(theirs, 'pyproject.toml').as_posix()} (an empty one will do) "
                "so that one pipeline runs both projects, or replace it with --force"
            )
    return None


def _stale(plan: _Plan) -> list[str]:
    """noxops's own workflows (``ci.yml``, ``ci-<key>.yml``) of an earlier layout of the
    repository's projects: generated for a project of the plan (whose jobs are now in
    another file) or for a folder that holds no noxops project any more. Left there, GitHub
    would run those jobs twice, or fail on a project that is gone."""
    if not any(provider == "github" for _, provider, _ in plan.files):
        return []
    written = {rel for rel, _, _ in plan.files}
    ours = {m.folder for m in plan.members}
    stale: list[str] = []
    for path in sorted((plan.top / WORKFLOWS).glob("ci*.yml")):
        rel = path.relative_to(plan.top).as_posix()
        if rel in written or not (path.name == "ci.yml" or path.name.startswith("ci-")):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if not _ours(text):
            continue
        gone = (_noxops_table(plan.top / f / "pyproject.toml") is None for f in _folders(text))
        if all(f in ours for f in _folders(text)) or all(gone):
            stale.append(rel)
    return stale


def _write(plan: _Plan, force: bool) -> tuple[list[Path], list[Path]]:
    """Writes the plan's files and removes the stale workflows; (written, removed)."""
    why = None if force else (_foreign(plan) or _other_project(plan))
    if why:
        raise NoxopsError(why)
    written: list[Path] = []
    for rel, _, text in plan.files:
        path = plan.top / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    removed = [plan.top / rel for rel in _stale(plan)]
    for path in removed:
        path.unlink()
    return written, removed


def generate(
    config: Config,
    which: str = "all",
    stages: Mapping[str, Stage] | None = None,
    *,
    force: bool = False,
    others: StagesOf | None = None,
) -> list[Path]:
    """Write the CI files; returns the paths written. A file there without noxops's header
    (the project's own CI) is replaced only with ``force``: else nothing is written. A
    workflow noxops wrote for an earlier layout of the repository's projects is removed."""
    return _write(_plan(config, which, stages, others), force)[0]


def check(
    config: Config,
    stages: Mapping[str, Stage] | None = None,
    out: Any = None,
    *,
    others: StagesOf | None = None,
) -> int:
    """0 when every configured CI file matches what would be generated, else 1 (with a diff)."""
    stream = out if out is not None else sys.stdout
    problems = 0
    plan = _plan(config, "all", stages, others)
    for rel, provider, text in plan.files:
        path = plan.top / rel
        regenerate = f"`noxops ci generate {provider}`"
        if not path.is_file():
            problems += 1
            print(f"noxops ci check: {rel} is missing; run {regenerate} and commit it", file=stream)
            continue
        committed = path.read_text(encoding="utf-8")
        old = _older_generator(committed)
        if old:
            problems += 1
            print(
                f"noxops ci check: {rel} was generated by noxops {old}, older than the "
                f"installed {__version__}: run {regenerate} and commit it",
                file=stream,
            )
            continue
        if _recorded(committed)[1] == _recorded(text)[1]:
            continue  # the digests may differ: a table changed in a way the file does not show
        problems += 1
        print(
            f"noxops ci check: {rel} is out of date: {_what_changed(committed, text)} (edit "
            f"the configuration or the noxfile, not the file; run {regenerate} and commit it):",
            file=stream,
        )
        stream.writelines(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"{rel} (committed)",
                tofile=f"{rel} (generated)",
            )
        )
        if not committed.endswith("\n"):
            print(file=stream)
    stale = _stale(plan)
    for rel in stale:
        problems += 1
        print(
            f"noxops ci check: {rel} is a workflow noxops wrote for an earlier layout of the "
            "repository's projects (its jobs would run twice, or for a project that is gone): "
            "run `noxops ci generate github`, which removes it, and commit that",
            file=stream,
        )
    total = len(plan.files) + len(stale)
    if problems:
        print(f"noxops ci check: {problems} of {total} CI file(s) out of date", file=stream)
        return 1
    names = ", ".join(rel for rel, _, _ in plan.files)
    print(f"noxops ci check: {total} CI file(s) up to date: {names}", file=stream)
    return 0


def _load(args: argparse.Namespace) -> Config:
    from noxops.config import load

    root = Path(args.root)
    if not root.is_dir():
        raise NoxopsError(f"--root {args.root}: no such folder")
    return load(root)


def _generate_cmd(args: argparse.Namespace) -> int:
    config = _load(args)
    plan = _plan(config, args.provider, None, None)
    if args.stdout:
        for rel, _, text in plan.files:
            print(f"# --- {rel}" if not rel.endswith("Jenkinsfile") else f"// --- {rel}")
            sys.stdout.write(text)
        return 0
    top = plan.top
    if top != config.root.resolve():
        where = config.root.resolve().relative_to(top).as_posix()
        print(
            f"noxops ci generate: the project is in {where}/ of the repository at {top}: the "
            f"CI files go to the repository's top and every job works in {where}/"
        )
    if len(plan.members) > 1:
        names = ", ".join(f"{m.folder or '.'}/" for m in plan.members)
        print(
            f"noxops ci generate: the repository holds {len(plan.members)} noxops projects "
            f"({names}): one pipeline runs each one's jobs when its files change"
        )
    written, removed = _write(plan, args.force)
    for path in written:
        print(f"noxops ci generate: wrote {path.relative_to(top)}")
    for path in removed:
        print(f"noxops ci generate: removed {path.relative_to(top)} (an earlier layout's)")
    return 0


def _check_cmd(args: argparse.Namespace) -> int:
    return check(_load(args))


def add_parser(subparsers: Any) -> None:
    """Add ``noxops ci`` to the ``noxops`` command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "ci",
        help="generate GitHub Actions, GitLab CI and Jenkins pipelines; check them for drift",
        description=(
            "CI files generated from the project's nox sessions: every job runs one "
            "`nox -s <session>`. Configure them in [tool.noxops.ci]."
        ),
    )
    sub = parser.add_subparsers(dest="ci_command", metavar="ACTION")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--root", default=".", help="the project folder (with pyproject.toml); default: ."
        )

    gen = sub.add_parser("generate", help="write the CI files")
    gen.add_argument(
        "provider",
        nargs="?",
        default="all",
        choices=[*file_providers(), "all"],
        help="which provider's file to write; all (default) means [tool.noxops.ci] providers",
    )
    gen.add_argument("--stdout", action="store_true", help="print instead of writing")
    gen.add_argument(
        "--force",
        action="store_true",
        help="replace CI files that noxops did not write (without its header line)",
    )
    common(gen)
    gen.set_defaults(func=_generate_cmd)

    chk = sub.add_parser(
        "check",
        help="fail (exit 1, with a diff) when a committed CI file differs from the generated one",
    )
    common(chk)
    chk.set_defaults(func=_check_cmd)

    def usage(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=usage)
