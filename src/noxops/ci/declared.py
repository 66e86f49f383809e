"""The sessions a project's noxfile declares, as ``noxops ci`` sees them.

A project declares stages of its own (``@noxops.stages.stage`` in a module its noxfile
imports) and may define plain ``@nox.session`` functions beside ``noxops.sessions()``. To put
them in the pipeline, ``noxops ci`` loads the project's ``noxfile.py`` in this process, in a
controlled way:

- ``noxops.sessions()`` only collects (:func:`noxops.runtime.declare.collecting`): it registers
  nothing with nox, searches no interpreter and sets no nox option; it records the stages it
  would register, with the noxfile's own ``only``/``exclude``;
- nox's session registry is emptied for the load and restored after
  (:func:`noxops.runtime.noxapi.isolated_registry`), so plain ``@nox.session`` functions are seen
  without leaking anywhere;
- the stages the project's modules declared, the modules the noxfile imported, ``sys.path``
  and the working folder are all put back as they were, whatever happens.

Loading runs the noxfile's module-level code (as ``nox -l`` does), nothing else: no session
runs. Why not ``nox --json -l``: its listing has no ``requires``, no CI stage, no report
files and no Docker or service needs, all of which a stage declaration carries.

A plain nox session becomes a job when nox runs it by default or ``[tool.noxops.ci] stages``
places it; it runs on the tools Python's image and goes into the CI stage ``stages`` names,
else after the latest stage it ``requires``, else into ``quality``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import runpy
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from noxops.errors import NoxopsError
from noxops.runtime import noxapi

if TYPE_CHECKING:
    from noxops.config import Config
    from noxops.stages.base import Stage

__all__ = ["NOXFILE", "Declared", "load"]

NOXFILE = "noxfile.py"


@dataclass(frozen=True)
class Declared:
    """What the project's noxfile declares for CI."""

    stages: dict[str, Stage]  # every stage and plain session the pipeline is made of
    own: tuple[str, ...]  # the names the project declares itself (not noxops's stages)
    noxfile: Optional[Path]  # None: no noxfile, noxops's stages for the configuration

    def digest(self) -> str:
        """A short digest of what the noxfile decides for CI: which sessions there are and
        how the project's own ones are declared (for the drift message)."""
        parts = [f"stages={','.join(self.stages)}"]
        for name in self.own:
            st = self.stages[name]
            outputs = ",".join(
                f"{o.kind}:{o.file if isinstance(o.file, str) else '?'}" for o in st.outputs
            )
            parts.append(
                f"{name}:{st.python}:{','.join(st.requires)}:{st.default}:{st.ci.stage}:"
                f"{st.ci.docker if isinstance(st.ci.docker, bool) else 'f'}:{st.ci.services}:"
                f"{','.join(st.ci.extras)}:{','.join(st.ci.artifacts)}:{outputs}"
            )
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def load(config: Config) -> Declared:
    """The stages of ``config``'s project: its ``noxfile.py``'s, else noxops's own."""
    from noxops.stages import STAGES

    noxfile = config.root / NOXFILE
    if not noxfile.is_file():
        return Declared(STAGES.for_config(config), (), None)
    from noxops.runtime.declare import collecting

    builtin = set(STAGES)
    with _isolated(config.root) as nox_sessions:
        with collecting() as calls:
            _run(noxfile)
        own_stages = [name for name in STAGES if name not in builtin]
        stages: dict[str, Stage] = {}
        for call in calls:
            stages.update(call.stages)
        plain = _plain_sessions(nox_sessions(), config, set(stages))
    stages.update(plain)
    own = tuple(name for name in stages if name in own_stages or name in plain)
    return Declared(stages, own, noxfile)


def _run(noxfile: Path) -> None:
    try:
        runpy.run_path(str(noxfile), run_name="noxfile")
    except NoxopsError as exc:
        raise NoxopsError(f"{noxfile.name}: {exc}") from None
    except SystemExit as exc:
        raise NoxopsError(
            f"{noxfile.name} stopped while loading (exit status {exc.code})"
        ) from None
    except Exception as exc:  # the project's code: one line, no traceback
        where = ""
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == str(noxfile):
                where = f" (line {tb.tb_lineno})"
            tb = tb.tb_next
        raise NoxopsError(
            f"{noxfile.name} could not be loaded{where}: {type(exc).__name__}: {exc}"
        ) from None


@contextlib.contextmanager
def _isolated(root: Path) -> Iterator[Any]:
    """Run with the working folder at ``root`` and nox's registry empty; afterwards put back
    nox's registry, the stages and report file kinds declared meanwhile, ``sys.modules``,
    ``sys.path`` and the working folder. Yields a function returning the sessions registered
    meanwhile."""
    from noxops.reports.outputs import KINDS
    from noxops.stages import STAGES

    saved_stages = set(STAGES)
    saved_kinds = set(KINDS)
    saved_modules = set(sys.modules)
    saved_path = list(sys.path)
    saved_cwd = Path.cwd()
    with noxapi.isolated_registry() as registered:
        os.chdir(root)
        try:
            yield registered
        finally:
            os.chdir(saved_cwd)
            for name in [n for n in STAGES if n not in saved_stages]:
                STAGES.unregister(name)
            for name in [n for n in KINDS if n not in saved_kinds]:
                KINDS.unregister(name)
            for name in [m for m in sys.modules if m not in saved_modules]:
                if _projects(name, sys.modules[name], root):
                    del sys.modules[name]
            sys.path[:] = saved_path


def _projects(name: str, module: Any, root: Path) -> bool:
    """Whether ``module`` is one of the project's own (never nox or noxops, even when noxops
    is the project: its modules hold the registries)."""
    if name.split(".", maxsplit=1)[0] in {"nox", "noxops"}:
        return False
    file = getattr(module, "__file__", None)
    if not file:
        return False
    try:
        return Path(file).resolve().is_relative_to(root.resolve())
    except (OSError, ValueError):
        return False


def _plain_sessions(
    registered: Mapping[str, Any], config: Config, taken: set[str]
) -> dict[str, Stage]:
    """The noxfile's own ``@nox.session`` functions that CI runs, as stages."""
    from noxops.incremental.prepare import MARK
    from noxops.stages.base import Stage

    placed = config.ci.stages
    found: dict[str, Stage] = {}
    for name, func in registered.items():
        if name in taken or getattr(func, MARK, None) is not None:
            continue  # a noxops stage (or a session of that name replacing one)
        if not (getattr(func, "default", True) or name in placed):
            continue  # on demand only: `nox -s name`, not CI
        requires = tuple(r for r in getattr(func, "requires", ()) or () if "{" not in r)
        doc = (getattr(func, "__doc__", None) or name).strip().splitlines()[0]
        found[name] = Stage(
            name=name,
            func=_not_run,
            doc=doc,
            python="tools" if getattr(func, "python", None) is not False else "none",
            requires=requires,
        )
    return found


def _not_run(session: Any, config: Any) -> None:  # pragma: no cover - never called
    raise NoxopsError("a plain nox session is run by nox, not by noxops")
