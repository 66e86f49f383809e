"""The ``lint`` stage (black, isort and ruff as checks) and ``fmt`` (the same tools, fixing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from noxops.stages.base import CI, Install, Output, install_plan, run_tool, stage

if TYPE_CHECKING:
    import nox

    from noxops.config import Config

__all__ = ["RUFF", "fmt", "lint", "lint_env", "lint_paths"]

TOOLS = ("black", "isort", "ruff")
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
    """The lint and fmt environment: the three tools."""
    return [TOOLS]


@stage("lint", section="lint", env=lint_env, inputs=lint_paths, outputs=[RUFF], ci=QUALITY)
def lint(session: nox.Session, config: Config) -> None:
    """Check formatting and style: black --check, isort --check-only, ruff check."""
    paths = lint_paths(config)
    install_plan(session, config, lint_env)
    ruff_json = RUFF.path(config)
    checks = {
        "black": ["black", "--check", "--diff", *config.lint.black_args, *paths],
        "isort": ["isort", "--check-only", "--diff", *config.lint.isort_args, *paths],
        "ruff": ["ruff", "check", "--output-format=concise", *config.lint.ruff_args, *paths],
    }
    failed = [name for name, argv in checks.items() if not run_tool(session, *argv)]
    # A machine-readable copy of ruff's findings for the report stage (ruff is fast).
    session.run(
        "ruff", "check", "--exit-zero", "--output-format=json", f"--output-file={ruff_json}",
        *config.lint.ruff_args, *paths, silent=True,
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
    """Apply fixes: ruff check --fix, isort, black."""
    paths = lint_paths(config)
    install_plan(session, config, lint_env)
    run_tool(session, "ruff", "check", "--fix", *config.lint.ruff_args, *paths)
    session.run("isort", *config.lint.isort_args, *paths)
    session.run("black", *config.lint.black_args, *paths)
