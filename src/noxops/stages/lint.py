"""The ``lint`` stage (the project's formatter, import sorter and ruff, as checks) and
``fmt`` (the same tools, fixing). Which tools, at which versions: :mod:`noxops.tools`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from noxops import tools
from noxops.stages.base import CI, Install, Output, install_plan, run_tool, stage

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = ["RUFF", "fmt", "lint", "lint_env", "lint_paths"]

# ruff's findings, machine-readable, for the report (black and isort say only pass or fail).
RUFF = Output("ruff.json", kind="ruff", check="lint")
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
    """The lint and fmt environment: ruff, and black or isort when the project uses them, at
    the project's own pinned versions when it pins them (noxops.tools)."""
    chosen = tools.choices(config)
    names = ["ruff"]
    if chosen["formatter"].tool == "black":
        names.append("black")
    if chosen["imports"].tool == "isort":
        names.append("isort")
    return [tuple(tools.requirement(config, name) for name in names)]


def _describe(config: Config) -> str:
    chosen = tools.choices(config)
    return "; ".join(f"{role}: {c.tool} ({c.why})" for role, c in chosen.items())


def _checks(config: Config, paths: list[str]) -> dict[str, list[str]]:
    """The check commands lint runs, by name; none of them changes a file."""
    chosen = tools.choices(config)
    lint_cfg = config.lint
    checks: dict[str, list[str]] = {}
    if chosen["formatter"].tool == "ruff":
        checks["ruff format"] = ["ruff", "format", "--check", "--diff", *paths]
    elif chosen["formatter"].tool == "black":
        checks["black"] = ["black", "--check", "--diff", *lint_cfg.black_args, *paths]
    if chosen["imports"].tool == "isort":
        checks["isort"] = ["isort", "--check-only", "--diff", *lint_cfg.isort_args, *paths]
    elif chosen["imports"].tool == "ruff" and not tools.ruff_selects_isort(config):
        checks["ruff isort"] = ["ruff", "check", "--no-fix", "--select", "I", *paths]
    # --no-fix: a project's `fix = true` must not turn the check into a rewrite.
    checks["ruff"] = [
        "ruff", "check", "--no-fix", "--output-format=concise", *lint_cfg.ruff_args, *paths
    ]  # fmt: skip
    return checks


@stage("lint", section="lint", env=lint_env, inputs=lint_paths, outputs=[RUFF], ci=QUALITY)
def lint(session: nox.Session, config: Config) -> None:
    """Check formatting, import order and style with the project's own tools; changes nothing."""
    paths = lint_paths(config)
    install_plan(session, config, lint_env)
    session.log(_describe(config))
    ruff_json = RUFF.path(config)
    checks = _checks(config, paths)
    failed = [name for name, argv in checks.items() if not run_tool(session, *argv)]
    # A machine-readable copy of ruff's findings for the report stage (ruff is fast).
    session.run(
        "ruff", "check", "--no-fix", "--exit-zero", "--output-format=json",
        f"--output-file={ruff_json}", *config.lint.ruff_args, *paths, silent=True,
    )  # fmt: skip
    if failed:
        fixable = " and ".join(n for n in failed if n != "ruff") or "some of it"
        session.error(f"lint failed: {', '.join(failed)}; `nox -s fmt` fixes {fixable}")


@stage(
    "fmt",
    default=False,
    section="lint",
    allow_parallel=False,
    env=lint_env,
    ci=QUALITY,
    check=False,  # it changes files; lint is the check
)
def fmt(session: nox.Session, config: Config) -> None:
    """Apply fixes with the project's own tools: ruff check --fix, the import sorter, the
    formatter."""
    paths = lint_paths(config)
    install_plan(session, config, lint_env)
    session.log(_describe(config))
    chosen = tools.choices(config)
    run_tool(session, "ruff", "check", "--fix", *config.lint.ruff_args, *paths)
    if chosen["imports"].tool == "isort":
        session.run("isort", *config.lint.isort_args, *paths)
    elif chosen["imports"].tool == "ruff" and not tools.ruff_selects_isort(config):
        run_tool(session, "ruff", "check", "--fix", "--select", "I", *paths)
    if chosen["formatter"].tool == "ruff":
        session.run("ruff", "format", *paths)
    elif chosen["formatter"].tool == "black":
        session.run("black", *config.lint.black_args, *paths)
