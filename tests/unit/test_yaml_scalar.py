"""One YAML scalar writer (``ci.yamldoc.scalar``) for the CI files and the deploy manifests.

The two writers it replaced differed: the CI one wrote dates, ``0b101``, ``<<``, ``=`` and
control characters plain (YAML 1.1 reads them as other values, or fails), the deploy one lost
a trailing newline, split characters beyond U+FFFF into two, and both wrote ``1e+20`` and the
infinities so that YAML does not read a float back.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml

from noxops.ci.yamldoc import dump, scalar
from noxops.deploy.resources import to_yaml

STRINGS = [
    "", "yes", "no", "on", "Off", "y", "null", "NULL", "~", "true", "1", "3.10", "1e3", "1_000",
    "0x1F", "0o17", "0b101", "12:30", "1:30.5", ".inf", ".NaN", "2024-01-01",
    "2001-12-14t21:59:43.10-05:00", "<<", "=", " lead", "trail ", "trail\n", "a: b", "x:", "a#b",
    "a #b", "#x", "nginx:1.25", "it's", 'say "hi"', "line1\nline2", "a\tb", "a\rb", "naïve",
    "日本", "emoji😀", "x: 😀", "\x85", "a\u2028b", "\x00", "\x7f", "\ufeffbom", "-", "- x", "?",
    "!x", "&x", "*x", "|", ">", "%x", "@v1", "`x", "[x]", "{x}", "${{ matrix.python }}",
]  # fmt: skip
NUMBERS: list[Any] = [0, -1, 10**30, 1.5, 0.02, 1e20, 1e-7, float("inf"), float("-inf")]


@pytest.mark.parametrize("value", STRINGS + NUMBERS + [True, False, None])
def test_both_writers_read_back_as_written(value: Any) -> None:
    data = {"key": value, "list": [value], "nested": {"k": value}}
    assert yaml.safe_load(dump(data)) == data
    assert list(yaml.safe_load_all(to_yaml([data]))) == [data]


@pytest.mark.parametrize("key", [s for s in STRINGS if s])
def test_deploy_keys_read_back_as_written(key: str) -> None:
    """Manifest keys (labels, annotations, ConfigMap data) go through the same writer."""
    assert list(yaml.safe_load_all(to_yaml([{key: "v"}]))) == [{key: "v"}]


def test_nan_reads_back_as_nan() -> None:
    text = to_yaml([{"k": float("nan")}])
    assert text == "---\nk: .nan\n"
    value = next(yaml.safe_load_all(text))["k"]
    assert math.isnan(value)


def test_deploy_manifests_write_what_the_ci_files_write() -> None:
    """Plain where YAML reads the same string back, unicode as it is: one writer, one style."""
    obj = {"image": "reg.test/web@sha256:ab", "cpu": "100m", "note": "naïve", "on": "2024-01-01"}
    assert to_yaml([obj]) == (
        '---\nimage: reg.test/web@sha256:ab\ncpu: 100m\nnote: naïve\n"on": "2024-01-01"\n'
    )
    assert [scalar(v) for v in obj.values()] == [
        "reg.test/web@sha256:ab",
        "100m",
        "naïve",
        '"2024-01-01"',
    ]
    assert scalar("emoji😀: x") == '"emoji😀: x"'
    assert scalar("\x85") == '"\\x85"'
