"""A pytest plugin for smoke tests: ``--base-url``/``--image`` and their fixtures.

The ``smoke`` stage loads it explicitly (``pytest -p noxops.image.smoke_plugin``); it is not an
entry point, so it never changes other pytest runs. The URL comes from ``--base-url``, else
``$NOXOPS_BASE_URL``; the image under test from ``--image``, else ``$NOXOPS_IMAGE``. Tests
that need one are skipped with the reason when it is not given.
"""

from __future__ import annotations

import os

import pytest

__all__ = ["base_url", "image", "pytest_addoption", "pytest_report_header"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--base-url",
        default=None,
        help="Base URL of the service under test (default: $NOXOPS_BASE_URL).",
    )
    parser.addoption(
        "--image",
        default=None,
        help="The image under test, by id or reference (default: $NOXOPS_IMAGE).",
    )


def _base_url(config: pytest.Config) -> str:
    value = config.getoption("--base-url") or os.environ.get("NOXOPS_BASE_URL", "")
    return str(value).rstrip("/")


def _image(config: pytest.Config) -> str:
    return str(config.getoption("--image") or os.environ.get("NOXOPS_IMAGE", ""))


def pytest_report_header(config: pytest.Config) -> str:
    return f"base URL: {_base_url(config) or '(none)'}; image: {_image(config) or '(none)'}"


@pytest.fixture(scope="session")
def base_url(pytestconfig: pytest.Config) -> str:
    """The service under test, like ``http://127.0.0.1:49153`` (no trailing slash)."""
    value = _base_url(pytestconfig)
    if not value:
        pytest.skip("no service to test: pass --base-url or set NOXOPS_BASE_URL")
    return value


@pytest.fixture(scope="session")
def image(pytestconfig: pytest.Config) -> str:
    """The image under test (an id like ``sha256:...`` or a reference like ``app:tag``)."""
    value = _image(pytestconfig)
    if not value:
        pytest.skip("no image to test: pass --image or set NOXOPS_IMAGE")
    return value
