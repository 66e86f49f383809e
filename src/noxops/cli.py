"""The ``noxops`` command: ``noxops ci ...``, ``noxops report``, ``noxops doctor``, ``noxops init``.

Each area adds its own subcommand through an ``add_parser(subparsers)`` function that sets
``func`` (``(args) -> int``) on its parser; :data:`COMMANDS` lists those modules. User
mistakes (:class:`~noxops.errors.NoxopsError`) print one line and exit 2, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from noxops.errors import NoxopsError
from noxops.runtime.distribution import __version__

__all__ = ["COMMANDS", "main"]

# Modules that define a subcommand, in the order `noxops --help` lists them.
COMMANDS: tuple[str, ...] = (
    "noxops.ci.command",
    "noxops.reports.command",
    "noxops.commands.doctor",
    "noxops.commands.init",
    "noxops.commands.reference",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="noxops", description="Your CI/CD pipeline as Nox sessions."
    )
    parser.add_argument("--version", action="version", version=f"noxops {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that area is not built yet
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except NoxopsError as exc:
        print(f"noxops: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("noxops: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
