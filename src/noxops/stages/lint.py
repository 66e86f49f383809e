"""The ``lint`` stage (the project's formatter, import sorter and linters, as checks) and
``fmt`` (the same tools, fixing). Which tools, at which versions: :mod:`noxops.project.tools`.

The linters are the project's own: ruff and/or flake8 (with its plugins) here, pylint in its
own stage; ruff with ruff's defaults only where the project configures none."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from noxops.config import LintConfig
from noxops.project import tools
from noxops.stages.base import CI, Install, Output, install_plan, run_tool, stage

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = ["FLAKE8", "RUFF", "fmt", "lint", "lint_env", "lint_paths"]


def _lints_with(tool: str) -> Callable[[Config], bool]:
    return lambda config: tool in tools.linter_names(config)


# The linters' findings, machine-readable, for the report (black and isort say only pass or
# fail, through the lint session's record): ruff's JSON, flake8's default format.
RUFF = Output("ruff.json", kind="ruff", check="lint", when=_lints_with("ruff"))
FLAKE8 = Output("flake8.txt", kind="flake8", check="flake8", when=_lints_with("flake8"))
QUALITY = CI(stage="quality")


def lint_paths(config: Config) -> list[str]:
    if config.lint.paths:
        return list(config.lint.paths)
    paths = [*config.sources]
    for extra in ("tests", "noxfile.py"):
        if (config.root / extra).exists() and extra not in paths:
            paths.append(extra)
    return paths


def lint_env(config: Config, python: str | None) -> list[Install]:
    """The lint and fmt environment: the project's formatter and import sorter (ruff, black,
    isort) and its linters (ruff; flake8 with its plugins), at the project's own pinned
    versions when it pins them (noxops.project.tools)."""
    chosen = tools.choices(config)
    linters = tools.linter_names(config)
    names = [tool for tool in ("black", "isort") if tool in (c.tool for c in chosen.values())]
    if "ruff" in linters or any(c.tool == "ruff" for c in chosen.values()):
        names.insert(0, "ruff")
    if "flake8" in linters:
        names.append("flake8")
    requirements = [tools.requirement(config, name) for name in names]
    if "flake8" in linters:
        requirements += tools.flake8_plugins(config)
    return [tuple(requirements)]


def _describe(config: Config) -> list[str]:
    return tools.describe(config)


def _checks(config: Config, paths: list[str]) -> dict[str, list[str]]:
    """The check commands lint runs, by name; none of them changes a file."""
    chosen = tools.choices(config)
    linters = tools.linter_names(config)
    lint_cfg = config.lint
    checks: dict[str, list[str]] = {}
    if chosen["formatter"].tool == "ruff":
        checks["ruff format"] = ["ruff", "format", "--check", "--diff", *paths]
    elif chosen["formatter"].tool == "black":
        checks["black"] = ["black", "--check", "--diff", *lint_cfg.black_args, *paths]
    if chosen["imports"].tool == "isort":
        checks["isort"] = ["isort", "--check-only", "--diff", *lint_cfg.isort_args, *paths]
    elif chosen["imports"].tool == "ruff" and not (
        "ruff" in linters and tools.ruff_selects_isort(config)
    ):
        checks["ruff isort"] = ["ruff", "check", "--no-fix", "--select", "I", *paths]
    if "ruff" in linters:
        # --no-fix: a project's `fix = true` must not turn the check into a rewrite.
        checks["ruff"] = [
            "ruff", "check", "--no-fix", "--output-format=concise", *lint_cfg.ruff_args, *paths
        ]  # fmt: skip
    if "flake8" in linters:
        # Its findings to the terminal and, in flake8's default format, to the report file.
        checks["flake8"] = [
            "flake8", "--format=default", f"--output-file={FLAKE8.path(config)}", "--tee",
            *lint_cfg.flake8_args, *paths,
        ]  # fmt: skip
    return checks


@stage(
    "lint",
    section="lint",
    settings=LintConfig,
    env=lint_env,
    inputs=lint_paths,
    outputs=[RUFF, FLAKE8],
    ci=QUALITY,
)
def lint(session: nox.Session, config: Config) -> None:
    """Check formatting, import order and style with the project's own tools; changes nothing."""
    paths = lint_paths(config)
    install_plan(session, config, lint_env)
    for line in _describe(config):
        session.log(line)
    linters = tools.linter_names(config)
    # This run's findings only: flake8 appends to its file, and a linter not run leaves none.
    for out in (RUFF, FLAKE8):
        out.path(config).unlink(missing_ok=True)
    checks = _checks(config, paths)
    failed = [name for name, argv in checks.items() if not run_tool(session, *argv)]
    if "ruff" in linters:
        # A machine-readable copy of ruff's findings for the report stage (ruff is fast).
        session.run(
            "ruff", "check", "--no-fix", "--exit-zero", "--output-format=json",
            f"--output-file={RUFF.path(config)}", *config.lint.ruff_args, *paths, silent=True,
        )  # fmt: skip
    if failed:
        # fmt fixes what the formatter and import sorter found, and some of ruff's findings;
        # flake8 fixes nothing.
        fixable = " and ".join(n for n in failed if n not in ("ruff", "flake8"))
        fixable = fixable or ("some of it" if "ruff" in failed else "")
        hint = f"; `nox -s fmt` fixes {fixable}" if fixable else ""
        session.error(f"lint failed: {', '.join(failed)}{hint}")


@stage(
    "fmt",
    default=False,
    section="lint",
    settings=LintConfig,
    allow_parallel=False,
    env=lint_env,
    ci=QUALITY,
    check=False,  # it changes files; lint is the check
)
def fmt(session: nox.Session, config: Config) -> None:
    """Apply fixes with the project's own tools: ruff check --fix (where ruff lints), the
    import sorter, the formatter."""
    paths = lint_paths(config)
    install_plan(session, config, lint_env)
    for line in _describe(config):
        session.log(line)
    chosen = tools.choices(config)
    ruff_lints = "ruff" in tools.linter_names(config)
    if ruff_lints:  # ruff's fixes where ruff is the linter; never where flake8 lints
        run_tool(session, "ruff", "check", "--fix", *config.lint.ruff_args, *paths)
    if chosen["imports"].tool == "isort":
        session.run("isort", *config.lint.isort_args, *paths)
    elif chosen["imports"].tool == "ruff" and not (ruff_lints and tools.ruff_selects_isort(config)):
        run_tool(session, "ruff", "check", "--fix", "--select", "I", *paths)
    if chosen["formatter"].tool == "ruff":
        session.run("ruff", "format", *paths)
    elif chosen["formatter"].tool == "black":
        session.run("black", *config.lint.black_args, *paths)
