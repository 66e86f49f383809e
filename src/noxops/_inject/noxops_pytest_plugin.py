"""noxops: per-test coverage contexts, test selection, the run's results
(noxops.incremental.affected), and the per-Python coverage XML, written at the end of the run
(noxops.stages.tests).

Copied into the session's environment (noxops.runtime.inject) and loaded with ``-p``: it runs in
the project's pytest, on the project's Python (3.9 on), without noxops installed."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

import pytest

if TYPE_CHECKING:
    import coverage

# The names noxops.incremental.affected gives them (a test checks that both say the same).
CONTEXTS_ENV = "NOXOPS_TEST_CONTEXTS"
SELECT_ENV = "NOXOPS_TEST_SELECT"
RESULTS_ENV = "NOXOPS_TEST_RESULTS"
MERGE_ENV = "NOXOPS_TEST_MERGE"
REPORT_ENV = "NOXOPS_TEST_REPORT"

_collected: list[str] = []
_failed: set[str] = set()


def _coverage() -> Optional[coverage.Coverage]:
    try:
        import coverage
    except ImportError:
        return None
    return coverage.Coverage.current()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: Optional[pytest.Item]
) -> Generator[None, None, None]:
    cov = _coverage() if os.environ.get(CONTEXTS_ENV) else None
    if cov is not None:
        cov.switch_context(item.nodeid)
    yield
    if cov is not None:
        cov.switch_context("")


_plan: list[Optional[dict[str, Any]]] = []  # the selection, read once (at configure), or [None]


def _selection() -> Optional[dict[str, Any]]:
    if not _plan:
        path = os.environ.get(SELECT_ENV)
        if path:
            with Path(path).open(encoding="utf-8") as fh:
                _plan.append(json.load(fh))
        else:
            _plan.append(None)
    return _plan[0]


class _Narrowing:
    """Collect only what holds a test to run: a known test file none of whose tests runs is
    not collected, and in the others only the classes and functions of those tests are (the
    changed and new test files in full). The session asks for it only when no changed line
    ran while the full run collected its tests, so these files yield the same tests again."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.known = {t.split("::", 1)[0] for t in data["known"]}
        self.whole = set(data.get("whole", ()))
        self.names: dict[str, set[str]] = {}  # test file -> the module-level names to run
        for test in data["run"]:
            file, _, rest = test.partition("::")
            name = rest.split("::", 1)[0].split("[", 1)[0]
            if not name:
                self.whole.add(file)
            self.names.setdefault(file, set()).add(name)

    def _partial(self, file: str) -> bool:
        return file in self.known and file not in self.whole

    @pytest.hookimpl(tryfirst=True)
    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config) -> Optional[bool]:
        if collection_path.name in ("__init__.py", "conftest.py"):
            return None
        try:
            file = collection_path.relative_to(config.rootpath).as_posix()
        except ValueError:
            return None
        if self._partial(file) and file not in self.names:
            return True
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_pycollect_makeitem(
        self, collector: pytest.Collector, name: str, obj: object
    ) -> Optional[list[pytest.Item]]:
        if not isinstance(collector, pytest.Module) or not self._partial(collector.nodeid):
            return None
        if name in self.names.get(collector.nodeid, ()):
            return None
        return []  # not one of the tests to run: nothing to collect here


def pytest_configure(config: pytest.Config) -> None:
    data = _selection()
    if data and data.get("narrow") and getattr(pytest, "version_tuple", (0,)) >= (7,):
        config.pluginmanager.register(_Narrowing(data), "noxops-narrowing")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    data = _selection()
    if data:
        known, run = set(data["known"]), set(data["run"])
        keep = [i for i in items if i.nodeid in run or i.nodeid not in known]
        dropped = [i for i in items if i.nodeid in known and i.nodeid not in run]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep
    _collected[:] = [i.nodeid for i in items]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed:
        _failed.add(report.nodeid)


def _stop_and_save(*expected: str) -> bool:
    """Stop measuring and save, so that this process can report on the run's data; False
    when coverage does not measure this run, or measures it in parallel mode (the data of
    worker processes is complete only once `coverage run` has ended: the session combines it
    then). Coverage's warnings (a --source no test imported) are shown, as `coverage run`
    shows them when it saves after pytest, never made errors by the project's
    filterwarnings: that would stop the save half-way, and leave the files no test ran out of
    the data. The ``expected`` warnings are not shown."""
    cov = _coverage()
    if cov is None or cov.config.parallel:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        for message in expected:
            warnings.filterwarnings("ignore", message=message)
        cov.stop()
        cov.save()
    return True


def _merge() -> bool:
    """An affected run: merge with the full run's data here, in this process (no second
    interpreter start and coverage import); False when it cannot be done, and the session
    then runs the merge as a script."""
    args = os.environ.get(MERGE_ENV)
    if not args:
        return False
    try:
        # "No data was collected" is expected when no chosen test reached the measured code
        # (an edit no test ran): the full run's data is what the merge keeps then.
        if not _stop_and_save("No data was collected"):
            return False
        import noxops_coverage  # type: ignore[import-not-found]  # beside this file

        noxops_coverage.merge(*json.loads(args))
    except Exception:  # the script, run by the session, shows what went wrong
        return False
    return True


def _report() -> None:
    """Any other run: write the per-Python XML here, at the end of the run (pytest-cov stops
    earlier, after the last test), as the session's script would. When it cannot be done, no
    XML appears, and the session runs the script."""
    xml = os.environ.get(REPORT_ENV)
    if not xml:
        return
    try:
        if _stop_and_save():
            import noxops_coverage

            noxops_coverage.xml_report(xml)
    except Exception:  # noqa: S110 - the script, run by the session, shows what went wrong
        pass


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: Union[int, pytest.ExitCode]) -> None:
    _report()
    path = os.environ.get(RESULTS_ENV)
    if path:
        merged = _merge()
        with Path(path).open("w", encoding="utf-8") as fh:
            json.dump({"collected": _collected, "failed": sorted(_failed), "merged": merged}, fh)
