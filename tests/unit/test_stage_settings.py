"""A stage's own settings: ``stage(..., settings=...)`` makes ``[tool.noxops.<section>]``.

The table of a section a declared stage owns is validated by the same machinery as noxops's
own sections (one line naming the file and key), documented in the reference, read with
``config.settings(...)``, and governs the stage's ``enabled`` and ``timeout``; noxops's own
stages declare the section classes that ``Config`` holds as fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest

from noxops.commands.reference import render
from noxops.config import Config, iter_options, load
from noxops.errors import ConfigError, NoxopsError
from noxops.schema import option, time_limit
from noxops.stages import STAGES, stage


@dataclass(frozen=True)
class ToySettings:
    """``[tool.noxops.toy]``: the ``toy`` session (a stage of the project's own)."""

    enabled: Optional[bool] = option(None, doc="Register the toy session.")
    level: int = option(1, doc="How thorough the toy is.")
    pages: list[str] = option(factory=list, path=True, doc="Pages the toy reads.")
    timeout: float = option(120.0, check=time_limit, doc="Seconds before the stage is stopped.")


@dataclass(frozen=True)
class OtherSettings:
    """``[tool.noxops.other]``: another class."""

    level: int = option(1, doc="A level.")


def _toy(session: Any, config: Config) -> None:
    """Play with the project."""


@pytest.fixture
def toy() -> Iterator[None]:
    stage("toy", settings=ToySettings)(_toy)
    try:
        yield
    finally:
        STAGES.unregister("toy")


def _project(tmp_path: Path, table: str, *, noxfile: bool = False) -> Path:
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "pkg"\n[tool.noxops]\n{table}')
    (tmp_path / "src").mkdir(exist_ok=True)
    if noxfile:
        (tmp_path / "noxfile.py").write_text("import noxops\nnoxops.sessions()\n")
    return tmp_path


@pytest.mark.usefixtures("toy")
def test_a_stage_s_table_is_read_typed_and_governs_it(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text("# Guide\n")
    config = load(_project(tmp_path, "[tool.noxops.toy]\nlevel = 3\npages = ['guide.md']\n"))
    settings = config.settings("toy", ToySettings)
    assert (settings.level, settings.pages, settings.timeout) == (3, ["guide.md"], 120.0)
    assert config.settings("toy") == settings  # the class the stage declares, by default
    assert config.settings("lint") is config.lint  # noxops's own sections: their fields
    st = STAGES["toy"]
    assert (st.section, st.settings, st.timeout(config), st.enabled(config)) == (
        "toy",
        ToySettings,
        120.0,
        True,
    )
    off = load(_project(tmp_path, "[tool.noxops.toy]\nenabled = false\ntimeout = 30\n"))
    assert (st.enabled(off), st.timeout(off)) == (False, 30.0)
    # --changed-only compares the configuration's repr: a changed table reruns the stage
    assert repr(config) != repr(off)
    assert "'toy': {" in repr(config)


@pytest.mark.usefixtures("toy")
@pytest.mark.parametrize(
    ("table", "key", "message"),
    [
        ("[tool.noxops.toy]\nlevle = 2", "tool.noxops.toy.levle", "did you mean 'level'?"),
        ("[tool.noxops.toy]\nlevel = 'high'", "tool.noxops.toy.level", "expected an integer"),
        ("[tool.noxops.toy]\ntimeout = 0", "tool.noxops.toy.timeout", "must be greater than 0"),
        ("[tool.noxops.toy]\npages = ['nope.md']", "tool.noxops.toy.pages[0]", "does not exist"),
        ("toy = 3", "tool.noxops.toy", "expected a table, found 3 (int)"),
        ("[tool.noxops.tyo]\nlevel = 2", "tool.noxops.tyo", "did you mean 'toy'?"),
    ],
)
def test_a_mistake_in_a_stage_s_table_is_one_line(
    tmp_path: Path, table: str, key: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(_project(tmp_path, table))
    assert str(caught.value).startswith(f"{tmp_path.resolve() / 'pyproject.toml'}: {key}: ")
    assert message in str(caught.value)


def test_a_table_no_stage_declares_waits_for_the_noxfile(tmp_path: Path) -> None:
    """Outside the noxfile (``noxops ci`` before it loads it, ``noxops report``, ``doctor``)
    the noxfile's own stages are not declared yet: their tables wait, and are read once the
    stage is known; noxops.sessions() loads after the noxfile declared them and refuses a
    table no stage declares."""
    root = _project(tmp_path, "[tool.noxops.toy]\nlevel = 2\ntimeout = 60\n", noxfile=True)
    config = load(root)
    assert config.tables == {"toy": {"level": 2, "timeout": 60}}
    with pytest.raises(ConfigError, match=r"tool\.noxops\.toy: unknown key; known keys: "):
        load(root, stages_declared=True)
    (root / "noxfile.py").unlink()
    with pytest.raises(ConfigError, match=r"tool\.noxops\.toy: unknown key"):
        load(root)
    # A stage declared (and gone again, as after noxops ci loaded the noxfile) reads it.
    stage("toy", settings=ToySettings)(_toy)
    st = STAGES["toy"]
    STAGES.unregister("toy")
    assert (st.timeout(config), config.settings("toy", ToySettings).level) == (60.0, 2)
    with pytest.raises(KeyError, match=r"no declared stage has a \[tool.noxops.toy\] section"):
        config.settings("toy")
    assert "tool.noxops.toy" not in {o.section for o in iter_options()}


@pytest.mark.usefixtures("toy")
def test_the_reference_documents_a_stage_s_table() -> None:
    options = [o for o in iter_options() if o.section == "tool.noxops.toy"]
    assert [o.key for o in options] == ["enabled", "level", "pages", "timeout"]
    assert options[1].type == "an integer" and options[1].default == "1"
    text = render()
    assert "## `[tool.noxops.toy]`\n\nThe `toy` session (a stage of the project's own).\n" in text
    assert "| `level` | an integer | `1` | How thorough the toy is. |" in text
    # after noxops's own sections
    assert text.index("[tool.noxops.toy]") > text.index("[tool.noxops.deploy.<name>]")


@pytest.mark.usefixtures("toy")
def test_a_section_has_one_settings_class(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"declares OtherSettings for \[tool.noxops.toy\]"):
        stage("toy2", section="toy", settings=OtherSettings)(_toy)
    assert "toy2" not in STAGES
    with pytest.raises(ValueError, match=r"another stage declares as LintConfig"):
        stage("mylint", section="lint", settings=OtherSettings)(_toy)
    # a section of noxops's own that no stage declares (slo, ci, deploy) is not a stage's
    stage("myslo", section="slo", settings=OtherSettings)(_toy)
    try:
        with pytest.raises(NoxopsError, match=r"OtherSettings for \[tool.noxops.slo\]"):
            load(_project(tmp_path, ""))
    finally:
        STAGES.unregister("myslo")
    with pytest.raises(TypeError, match="settings must be a dataclass"):
        stage("toy3", settings=dict)(_toy)


def test_noxops_s_own_stages_declare_the_sections_config_holds() -> None:
    fields = Config.__dataclass_fields__
    sections = {st.section: st.settings for st in STAGES.values() if st.section is not None}
    assert set(sections) == {
        "lint", "type", "pylint", "security", "tests", "integration", "image", "load",
        "report", "notify",
    }  # fmt: skip
    for section, settings in sections.items():
        assert settings is not None
        assert fields[section].type == settings.__name__, section
