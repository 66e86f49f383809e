"""``noxops ci generate github|gitlab|jenkins|all`` and ``noxops ci check`` (drift detection)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import difflib
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from noxops.ci import declared, github, gitlab, jenkins
from noxops.ci.config import PROVIDERS
from noxops.ci.model import HEADER, INPUTS_PREFIX, CIPipeline, build_pipeline
from noxops.distribution import __version__
from noxops.errors import NoxopsError

if TYPE_CHECKING:
    from noxops.config import Config
    from noxops.stages.base import Stage

__all__ = ["RENDERERS", "add_parser", "check", "expected_files", "generate", "repository_root"]

# The header's record of the noxops version that generated the file.
GENERATOR = "noxops"
# The header's record of the project's folder, when it is not the repository's top.
FOLDER = "folder"
# A template placeholder ({python}, {host}) left in a generated file; ${...} is the provider's.
PLACEHOLDER = re.compile(r"(?<!\$)\{[a-z_]+\}")

# provider -> (file written, renderer)
RENDERERS: dict[str, tuple[str, Callable[[CIPipeline], str]]] = {
    "github": (github.PATH, github.render),
    "gitlab": (gitlab.PATH, gitlab.render),
    "jenkins": (jenkins.PATH, jenkins.render),
}


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
    if workdir:  # whose pipeline a file at the repository's top is (see _other_project)
        sources = ((FOLDER, workdir), *sources)
    return dataclasses.replace(pipeline, sources=sources, workdir=workdir)


def repository_root(config: Config) -> Path:
    """Where the CI files go: GitHub and GitLab read them only at the repository's top, so a
    project in a subfolder gets them there (its jobs work in its folder). ``[tool.noxops.ci]
    root`` says where that is, else git does; outside git it is the project folder."""
    project = config.root.resolve()
    if config.ci.root:
        top = (project / config.ci.root).resolve()
        if project != top and top not in project.parents:
            raise NoxopsError(
                f"{config.file}: [tool.noxops.ci] root = {config.ci.root!r} does not hold the "
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
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.9/3.10
        import tomli as tomllib

    table: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError), (config.root / config.file).open("rb") as fh:
        table = tomllib.load(fh).get("tool", {}).get("noxops", {})
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
    names = [
        f"the stages declared in {label}" if label == declared.NOXFILE else label
        for label in changed
    ]
    return f"{', '.join(names)} changed since it was generated"


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
    return config.ci.paths.get(provider) or RENDERERS[provider][0]


def _providers(config: Config, which: str) -> list[str]:
    if which == "all":
        return list(config.ci.providers)
    if which not in RENDERERS:
        raise NoxopsError(f"unknown CI provider {which!r}; use one of {', '.join(PROVIDERS)}, all")
    return [which]


def expected_files(
    config: Config, which: str = "all", stages: Mapping[str, Stage] | None = None
) -> dict[str, str]:
    """Path relative to the repository's top (:func:`repository_root`) -> the text
    ``noxops ci generate`` writes there."""
    pipeline = _pipeline(config, stages)
    files = {path_of(config, p): RENDERERS[p][1](pipeline) for p in _providers(config, which)}
    for rel, text in files.items():
        _unfilled(rel, text)
    return files


def _foreign(config: Config, top: Path, files: Mapping[str, str]) -> str | None:
    """Why writing ``files`` would replace a CI file noxops did not write, or None."""
    provider_of = {path_of(config, p): p for p in RENDERERS}
    refused: list[str] = []
    for rel, text in files.items():
        path = top / rel
        if not path.is_file():
            continue
        current = path.read_text(encoding="utf-8", errors="replace")
        if _ours(current):
            continue
        diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(), lineterm=""))
        added = sum(1 for d in diff if d.startswith("+") and not d.startswith("+++"))
        removed = sum(1 for d in diff if d.startswith("-") and not d.startswith("---"))
        provider = provider_of.get(rel, "github")
        other = {"github": ".github/workflows/noxops.yml", "gitlab": ".gitlab/noxops-ci.yml"}
        refused.append(
            f"noxops ci generate: {rel} was not written by noxops (no '{HEADER[:31]}' line): "
            f"left as it is; noxops's would add {added} lines and remove {removed} (see `noxops ci "
            f"generate {provider} --stdout`); write it beside with [tool.noxops.ci] paths = "
            f'{{ {provider} = "{other.get(provider, "Jenkinsfile.noxops")}" }}, '
            "or replace it with --force"
        )
    return "\n".join(refused) or None


def _other_project(top: Path, files: Mapping[str, str]) -> str | None:
    """Why writing ``files`` would replace the pipeline of another noxops project of the same
    repository (its folder still holds one), or None: one pipeline for two projects is not
    generated yet, and the other project's CI must not silently stop running."""
    for rel, text in files.items():
        path = top / rel
        if not path.is_file():
            continue
        current = path.read_text(encoding="utf-8", errors="replace")
        theirs = _recorded(current)[0].get(FOLDER, "")
        ours = _recorded(text)[0].get(FOLDER, "")
        pyproject = top / theirs / "pyproject.toml"
        if not _ours(current) or theirs == ours or not pyproject.is_file():
            continue
        if "[tool.noxops" not in pyproject.read_text(encoding="utf-8", errors="replace"):
            continue
        return (
            f"noxops ci generate: {rel} at the repository's top is the pipeline of the noxops "
            f"project in {theirs or 'the top folder'}; writing this project's "
            f"({ours or 'the top folder'}) would stop that one's CI. One pipeline for both is "
            "not generated yet: give this project its own file with [tool.noxops.ci] paths "
            "(a GitLab top file then needs an include:), or replace it with --force"
        )
    return None


def generate(
    config: Config,
    which: str = "all",
    stages: Mapping[str, Stage] | None = None,
    *,
    force: bool = False,
) -> list[Path]:
    """Write the CI files; returns the paths written. A file there without noxops's header
    (the project's own CI) is replaced only with ``force``: else nothing is written."""
    written: list[Path] = []
    top = repository_root(config)
    files = expected_files(config, which, stages)
    why = None if force else (_foreign(config, top, files) or _other_project(top, files))
    if why:
        raise NoxopsError(why)
    for rel, text in files.items():
        path = top / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def check(
    config: Config,
    stages: Mapping[str, Stage] | None = None,
    out: Any = None,
) -> int:
    """0 when every configured CI file matches what would be generated, else 1 (with a diff)."""
    stream = out if out is not None else sys.stdout
    problems = 0
    files = expected_files(config, "all", stages)
    provider_of = {path_of(config, p): p for p in RENDERERS}
    top = repository_root(config)
    for rel, text in files.items():
        path = top / rel
        regenerate = f"`noxops ci generate {provider_of[rel]}`"
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
    if problems:
        print(f"noxops ci check: {problems} of {len(files)} CI file(s) out of date", file=stream)
        return 1
    print(f"noxops ci check: {len(files)} CI file(s) up to date: {', '.join(files)}", file=stream)
    return 0


def _load(args: argparse.Namespace) -> Config:
    from noxops.config import load

    root = Path(args.root)
    if not root.is_dir():
        raise NoxopsError(f"--root {args.root}: no such folder")
    return load(root)


def _generate_cmd(args: argparse.Namespace) -> int:
    config = _load(args)
    if args.stdout:
        for rel, text in expected_files(config, args.provider).items():
            print(f"# --- {rel}" if not rel.endswith("Jenkinsfile") else f"// --- {rel}")
            sys.stdout.write(text)
        return 0
    top = repository_root(config)
    if top != config.root.resolve():
        where = config.root.resolve().relative_to(top).as_posix()
        print(
            f"noxops ci generate: the project is in {where}/ of the repository at {top}: the "
            f"CI files go to the repository's top and every job works in {where}/"
        )
    for path in generate(config, args.provider, force=args.force):
        print(f"noxops ci generate: wrote {path.relative_to(top)}")
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
        choices=[*PROVIDERS, "all"],
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
