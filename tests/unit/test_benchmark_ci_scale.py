"""benchmarks/ci_scale.py reads each CI job's times from gitlab-ci-local's ``--timestamps``
log and never counts a target as met without a figure (issue #28, "How to measure")."""

from __future__ import annotations

import math

from support.benchmarks import load_benchmark

ci_scale = load_benchmark("ci_scale")

# A matrix job's log as gitlab-ci-local 4.75 prints it with --timestamps (trimmed).
LOG = """\
[08:01:02 8.09 ms] tests: [3.12] starting python:3.12-slim (tests)
[08:01:04  1.27 s] tests: [3.12] $ python -m pip install --quiet uv
[08:01:07  4.83 s] tests: [3.12] $ nox --no-dependencies -s tests-"$PYTHON"
[08:01:08  5.91 s] tests: [3.12] > nox > noxops: tests-3.12 runs 6 of 1818 tests, those affected
[08:03:07  2.08 min] tests: [3.12] finished in 2.08 min
[08:03:09  2.08 min] tests: [3.12] cache created in '.gitlab-ci-local/cache/noxops-tests-3.12-x'

 PASS  [ 2.08 min] tests: [3.12]
"""


def test_a_job_log_gives_the_script_and_nox_times_and_what_noxops_said() -> None:
    t = ci_scale.job_time("tests", "tests: [3.12]", "PASS", 130.0, LOG)
    assert math.isclose(t.script, 124.8)
    assert math.isclose(t.nox, 124.8 - 4.83)
    assert (t.setup, math.isclose(t.installs, 4.83 - 1.27)) == (1.27, True)
    assert math.isclose(t.outside, 130.0 - 124.8)
    assert t.said == ("noxops: tests-3.12 runs 6 of 1818 tests, those affected",)


def test_the_nox_time_ends_where_the_next_command_starts() -> None:
    after = LOG.replace(
        "[08:03:07  2.08 min] tests: [3.12] finished in",
        "[08:03:05  2.05 min] tests: [3.12] $ uv cache prune --ci\n"
        "[08:03:07  2.08 min] tests: [3.12] finished in",
    )
    t = ci_scale.job_time("tests", "tests: [3.12]", "PASS", 130.0, after)
    assert math.isclose(t.nox, 123.0 - 4.83)  # not the prune's 1.8 s
    assert math.isclose(t.script, 124.8)


def test_a_job_without_nox_has_no_nox_time_and_its_target_is_not_met() -> None:
    t = ci_scale.job_time("lint", "lint", "FAIL", 3.0, "[08:00:00  1 s] lint finished in 1 s")
    assert math.isnan(t.nox)
    assert ci_scale.verdict(t.nox / 10.0, 0.1) == "FAIL (not measured)"
    assert ci_scale.verdict(0.1, 0.1) == "PASS"
    assert ci_scale.verdict(0.11, 0.1) == "FAIL"


def test_a_job_result_is_its_own_line_not_a_warning_before_it() -> None:
    results = {"Avoid overriding predefined variables [CI_PIPELINE_SOURCE]": "WARN"}
    results["tests: [3.12]"] = "PASS"
    assert ci_scale.job_result(results, "tests") == ("tests: [3.12]", "PASS")
    assert ci_scale.job_result(results, "lint") == ("lint", "no result")
