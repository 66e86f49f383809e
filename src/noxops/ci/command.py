"""``noxops ci generate github|gitlab|jenkins|all`` and ``noxops ci check`` (drift detection)."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from noxops.ci import github, gitlab, jenkins
from noxops.ci.config import PROVIDERS
from noxops.ci.model import Pipeline, build_pipeline
from noxops.errors import NoxopsError

if TYPE_CHECKING:
    from noxops.config import Config
    from noxops.stages.base import Stage

__all__ = ["RENDERERS", "add_parser", "check", "expected_files", "generate"]

# provider -> (file written, renderer)
RENDERERS: dict[str, tuple[str, Callable[[Pipeline], str]]] = {
    "github": (github.PATH, github.render),
    "gitlab": (gitlab.PATH, gitlab.render),
    "jenkins": (jenkins.PATH, jenkins.render),
}


def _pipeline(config: Config, stages: Mapping[str, Stage] | None) -> Pipeline:
    """The pipeline of the given stages, default: every stage declared for ``config``."""
    if stages is None:
        from noxops.stages import STAGES

        stages = STAGES.for_config(config)
    try:
        return build_pipeline(config, stages)
    except ValueError as exc:
        raise NoxopsError(f"{config.file}: cannot build the CI pipeline: {exc}") from None


def _providers(config: Config, which: str) -> list[str]:
    if which == "all":
        return list(config.ci.providers)
    if which not in RENDERERS:
        raise NoxopsError(f"unknown CI provider {which!r}; use one of {', '.join(PROVIDERS)}, all")
    return [which]


def expected_files(
    config: Config, which: str = "all", stages: Mapping[str, Stage] | None = None
) -> dict[str, str]:
    """Relative path -> the text ``noxops ci generate`` writes there."""
    pipeline = _pipeline(config, stages)
    return {RENDERERS[p][0]: RENDERERS[p][1](pipeline) for p in _providers(config, which)}


def generate(
    config: Config, which: str = "all", stages: Mapping[str, Stage] | None = None
) -> list[Path]:
    """Write the CI files; returns the paths written."""
    written: list[Path] = []
    for rel, text in expected_files(config, which, stages).items():
        path = config.root / rel
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
    provider_of = {RENDERERS[p][0]: p for p in RENDERERS}
    for rel, text in files.items():
        path = config.root / rel
        regenerate = f"`noxops ci generate {provider_of[rel]}`"
        if not path.is_file():
            problems += 1
            print(f"noxops ci check: {rel} is missing; run {regenerate} and commit it", file=stream)
            continue
        committed = path.read_text(encoding="utf-8")
        if committed == text:
            continue
        problems += 1
        print(
            f"noxops ci check: {rel} differs from what [tool.noxops.ci] generates (edit the "
            f"configuration, not the file; run {regenerate} and commit it):",
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
    for path in generate(config, args.provider):
        print(f"noxops ci generate: wrote {path.relative_to(config.root)}")
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
