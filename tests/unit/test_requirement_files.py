"""Requirements files read for their names and pins (noxops.project.install): ``-r`` includes are
followed once each, however the include spells the path."""

from __future__ import annotations

from pathlib import Path

from noxops.project import install


def test_files_that_include_each_other_from_other_folders_are_read_once(tmp_path: Path) -> None:
    # requirements/dev.txt reaches back to the root file as ../requirements.txt: the same
    # file by another spelling, which had been read again and again (an OSError traceback).
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements.txt").write_text("-r requirements/dev.txt\nrequests==2.32.3\n")
    (tmp_path / "requirements" / "dev.txt").write_text(
        "-r ../requirements.txt\nflake8==7.1.1  # the linter\n"
    )
    files = ["requirements.txt", "requirements/dev.txt"]
    assert install.requirement_lines(tmp_path, files) == ["flake8==7.1.1", "requests==2.32.3"]
    assert install.requirement_names(tmp_path, files) == ["flake8", "requests"]


def test_an_include_that_is_a_symlink_loop_is_passed_over(tmp_path: Path) -> None:
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    (tmp_path / "requirements.txt").write_text("-r loop.txt\nrequests==2.32.3\n")
    assert install.requirement_names(tmp_path, ["requirements.txt"]) == ["requests"]
