"""The neutral CI pipeline model: built from the registered stages and the loaded config."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.ci_projects import fake_stages, make_project, stage

from noxops.ci.command import expected_files
from noxops.ci.model import (
    CI_STAGES,
    CIPipeline,
    build_pipeline,
    ci_stage_of,
    pinned,
    with_extras,
)
from noxops.config import load
from noxops.errors import ConfigError, NoxopsError
from noxops.runtime.distribution import __version__

REPO = Path(__file__).resolve().parents[2]


def pipeline_for(tmp_path: Path, case: str) -> CIPipeline:
    config, stages = make_project(tmp_path / case, case)
    return build_pipeline(config, stages)


def test_jobs_follow_the_standard_stage_order(tmp_path: Path) -> None:
    pipeline = pipeline_for(tmp_path, "service")
    placed = [(job.name, job.stage) for job in pipeline.jobs]
    assert placed == [
        ("lint", "quality"),
        ("type", "quality"),
        ("security", "quality"),
        ("audit-licenses", "quality"),  # unknown, requires nothing: a check
        ("tests", "tests"),
        ("coverage", "tests"),
        ("integration", "integration"),
        ("build", "build"),
        ("docs", "build"),  # unknown, requires build: placed with it
        ("smoke", "smoke"),
        ("report", "report"),
        ("deploy-staging", "deploy"),
        ("deploy-production", "deploy"),
    ]
    assert pipeline.stages == list(CI_STAGES)
    # Local-only sessions never reach CI.
    assert not {"fmt", "rollback-staging", "rollback-production"} & {j.name for j in pipeline.jobs}


def test_needs_are_the_declared_requires_plus_the_stage_gate(tmp_path: Path) -> None:
    pipeline = pipeline_for(tmp_path, "service")
    quality = ("lint", "type", "security", "audit-licenses")
    assert pipeline.job("lint").needs == ()
    assert pipeline.job("tests").needs == quality
    assert pipeline.job("coverage").needs == (*quality, "tests")  # coverage requires tests
    assert pipeline.job("coverage").requires == ("tests",)
    assert pipeline.job("integration").needs == ("tests", "coverage")
    assert pipeline.job("smoke").needs == ("build", "docs")
    assert "build" in pipeline.job("smoke").requires
    before_report = [j.name for j in pipeline.jobs if j.stage not in ("report", "deploy")]
    assert list(pipeline.job("report").needs) == before_report
    assert list(pipeline.job("deploy-production").needs) == [*before_report, "report"]
    # Every need names an earlier job: the graph is acyclic and ordered.
    seen: set[str] = set()
    for job in pipeline.jobs:
        assert set(job.needs) <= seen, job.name
        seen.add(job.name)


def test_the_tests_matrix_is_the_configured_pythons(tmp_path: Path) -> None:
    assert pipeline_for(tmp_path, "service").job("tests").matrix == ("3.10", "3.11", "3.12")
    # Unset python: the project's classifiers.
    assert pipeline_for(tmp_path, "library").job("tests").matrix == ("3.9", "3.13")
    job = pipeline_for(tmp_path, "service").job("tests")
    assert job.session("3.11") == "tests-3.11"
    assert job.nox_argv("3.11") == ["nox", "--no-dependencies", "-s", "tests-3.11"]
    with pytest.raises(ValueError, match="matrix"):
        job.session()


def test_pull_requests_run_the_checks_integration_and_the_report(tmp_path: Path) -> None:
    pipeline = pipeline_for(tmp_path, "service")
    checks = {j.name for j in pipeline.jobs if j.trigger == "checks" and not j.branch}
    assert checks == {
        "lint", "type", "security", "audit-licenses", "tests", "coverage", "integration", "report"
    }  # fmt: skip
    # build, smoke and what needs them (docs requires build) only run on release refs
    release = {j.name for j in pipeline.jobs if j.trigger == "release"}
    assert release == {"build", "docs", "smoke"}
    assert pipeline.job("report").run_always  # the gate reports even when a stage failed
    report = pipeline.job("report")
    assert pipeline.optional_need(report, "build") and not pipeline.optional_need(report, "lint")


def test_deploy_branches_and_approvals(tmp_path: Path) -> None:
    pipeline = pipeline_for(tmp_path, "service")
    staging, production = pipeline.job("deploy-staging"), pipeline.job("deploy-production")
    assert (staging.branch, staging.environment, staging.approval) == ("develop", "staging", False)
    assert (production.branch, production.environment, production.approval) == (
        "main",
        "production",
        True,
    )
    assert staging.secrets[0] == ("STAGING_KUBECONFIG_B64", "STAGING_KUBECONFIG_B64")
    # the notification channels' variables reach the deploy job (unset ones stay off)
    assert ("NOXOPS_SLACK_WEBHOOK", "NOXOPS_SLACK_WEBHOOK") in staging.secrets
    assert ("NOXOPS_SMTP_PASSWORD", "NOXOPS_SMTP_PASSWORD") in staging.secrets
    assert pipeline.branches == ("main", "develop")
    custom = pipeline_for(tmp_path, "gitlab-app").job("deploy-qa")
    assert (custom.branch, custom.approval) == ("release", False)
    assert ("NOXOPS_SLACK_WEBHOOK", "SLACK_WEBHOOK") in custom.secrets


def test_an_environment_without_a_branch_is_not_deployed_by_ci(tmp_path: Path) -> None:
    config, stages = make_project(tmp_path / "w", "worker")
    stages.update(fake_stages(deploy=("staging",)))
    pipeline = build_pipeline(config, stages)  # deploy_branches = {}
    assert not [j for j in pipeline.jobs if j.stage == "deploy"]
    assert pipeline.branches == ("trunk",)


def test_integration_gets_the_configured_services(tmp_path: Path) -> None:
    job = pipeline_for(tmp_path, "service").job("integration")
    assert [(s.name, s.image, s.url_var) for s in job.services] == [
        ("postgres", "postgres:15", "DATABASE_URL"),
        ("redis", "redis:7", "REDIS_URL"),
    ]
    assert dict(job.env) == {"NOXOPS_PROVIDER": "url"}
    assert job.services[0].url("db") == (
        "postgresql://noxops:noxops-ci-password@db:5432/noxops"
    )  # a password unlike the user and database names: "password not in repr" can hold
    worker = pipeline_for(tmp_path, "worker").job("integration")
    assert [(s.name, s.image) for s in worker.services] == [("postgres", "postgres:16")]
    assert not [j for j in pipeline_for(tmp_path, "library").jobs if j.services]


def test_the_image_is_pushed_only_with_a_registry(tmp_path: Path) -> None:
    build = pipeline_for(tmp_path, "service").job("build")
    assert build.docker and build.registry == "ghcr.io"
    assert build.args == ("--push",) and build.trigger == "release"
    assert dict(build.secrets) == {
        "NOXOPS_REGISTRY_USER": "REGISTRY_USER",
        "NOXOPS_REGISTRY_PASSWORD": "REGISTRY_PASSWORD",
    }
    assert [a.name for a in build.artifacts] == ["reports", "dist"]
    wheel_only = pipeline_for(tmp_path, "worker").job("build")
    assert (wheel_only.args, wheel_only.secrets, wheel_only.registry) == ((), (), "")
    smoke = pipeline_for(tmp_path, "service").job("smoke")
    assert [a.name for a in smoke.downloads] == ["reports", "dist"]
    # the pushed image reaches the smoke job through the registry, pulled by digest with
    # the registry's (read) credentials
    assert smoke.handover == "pull" and smoke.registry == "ghcr.io"
    assert smoke.handover_argv() == ["python", "-m", "noxops.ci.handover", "pull"]
    assert dict(smoke.secrets) == dict(build.secrets)
    assert build.handover == ""


def test_without_a_registry_the_image_travels_as_an_artifact(tmp_path: Path) -> None:
    pipeline = pipeline_for(tmp_path, "worker")
    build, smoke = pipeline.job("build"), pipeline.job("smoke")
    assert (build.handover, smoke.handover) == ("save", "load")
    assert "image" in [a.name for a in build.artifacts]
    assert "image" in [a.name for a in smoke.downloads]
    assert "image" not in [a.name for a in pipeline.job("report").downloads]
    assert smoke.nox_argv() == ["nox", "--no-dependencies", "-s", "smoke"]  # not a rebuild


def test_every_job_installs_noxops_with_the_extras_its_stages_declare(tmp_path: Path) -> None:
    pipeline = pipeline_for(tmp_path, "service")  # requirements = ["noxops[services]"]
    assert pipeline.job("integration").extras == ("docker", "services")
    install = [f"noxops[docker,services]=={__version__}"]  # pinned: the generating version
    assert pipeline.install(pipeline.job("integration")) == install
    assert pipeline.install(pipeline.job("lint")) == [f"noxops[services]=={__version__}"]
    library = pipeline_for(tmp_path, "library")
    assert library.install(library.job("lint")) == [f"noxops=={__version__}"]


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        ("noxops", f"noxops=={__version__}"),
        ("noxops[services]", f"noxops[services]=={__version__}"),
        ("noxops>=0.1", "noxops>=0.1"),  # the project's own choice of versions
        (".", "."),  # this checkout (the repository's own CI)
        ("./dist/noxops-0.1.0-py3-none-any.whl", "./dist/noxops-0.1.0-py3-none-any.whl"),
        ("noxops @ https://example.org/noxops.whl", "noxops @ https://example.org/noxops.whl"),
        ("nox", "nox"),
    ],
)
def test_ci_installs_the_noxops_that_generated_it(requirement: str, expected: str) -> None:
    assert pinned(requirement) == expected


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        ("noxops", "noxops[docker,services]"),
        (".", ".[docker,services]"),
        ("noxops[deploy]>=1.2", "noxops[deploy,docker,services]>=1.2"),
        ("noxops @ file:///src", "noxops[docker,services] @ file:///src"),
        ("noxops-plugin", "noxops-plugin"),
        ("pytest", "pytest"),
    ],
)
def test_extras_go_on_the_noxops_requirement_only(requirement: str, expected: str) -> None:
    assert with_extras(requirement, ("services", "docker")) == expected
    assert with_extras(requirement, ()) == requirement


def test_jobs_run_on_images_of_their_own_python(tmp_path: Path) -> None:
    pipeline = pipeline_for(tmp_path, "worker")  # python 3.13, tools_python 3.11
    assert pipeline.image_for(pipeline.job("lint")) == "python:3.11-slim"
    assert pipeline.image_for(pipeline.job("tests"), "3.12") == "python:3.12-slim"
    assert pipeline.job("coverage").python == "3.11"  # a tools stage: tools_python


def test_tools_python_is_set_up_next_to_the_nox_python(tmp_path: Path) -> None:
    pipeline = pipeline_for(tmp_path, "worker")
    assert pipeline.job("lint").pythons == ("3.11", "3.13")
    assert pipeline.job("tests").pythons == ("3.13",)
    assert pipeline.image == "python:{python}-slim"


def test_unknown_stages_follow_requires_or_configuration() -> None:
    assert ci_stage_of("docs", ["build"], {"build": "build"}, {}) == "build"
    assert ci_stage_of("x", ["smoke", "lint"], {"smoke": "smoke", "lint": "quality"}, {}) == (
        "smoke"
    )
    assert ci_stage_of("x", [], {}, {}) == "quality"
    assert ci_stage_of("x", [], {}, {"x": "integration"}) == "integration"
    # A declared CI stage wins over requires; the configuration wins over both.
    assert ci_stage_of("deploy-eu", ["build"], {"build": "build"}, {}, "deploy") == "deploy"
    assert ci_stage_of("lint", [], {}, {"lint": "tests"}, "quality") == "tests"


def test_a_configured_ci_stage_places_an_unknown_stage(tmp_path: Path) -> None:
    pipeline = pipeline_for(tmp_path, "gitlab-app")
    assert pipeline.job("e2e").stage == "smoke"
    assert pipeline.job("e2e").needs == ("build",)


def test_a_requires_cycle_is_a_clear_error(tmp_path: Path) -> None:
    config, _ = make_project(tmp_path / "lib", "library")
    stages = {"a": stage("a", requires=["b"]), "b": stage("b", requires=["a"])}
    with pytest.raises(ValueError, match="cycle: a -> b -> a"):
        build_pipeline(config, stages)
    with pytest.raises(NoxopsError, match="cannot build the CI pipeline"):
        expected_files(config, "all", stages)


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('providers = ["github", "circle"]', "'circle' is not a CI provider"),
        ('stages = { e2e = "later" }', "'later' is not a CI stage"),
        ('python = "3"', "not a Python version"),
        ("requirements = []", "must not be empty"),
        ("runs_on = 'x'", "unknown key"),
    ],
)
def test_bad_ci_configuration_is_refused(tmp_path: Path, table: str, problem: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.noxops.ci]\n{table}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=problem) as info:
        load(tmp_path)
    assert info.value.key.startswith("tool.noxops.ci.")


def test_the_model_comes_from_noxops_own_registry() -> None:
    """Without a fake registry: the stages noxops registers for this repository."""
    from noxops.stages import STAGES

    config = load(REPO)
    registered = STAGES.for_config(config)
    pipeline = build_pipeline(config, registered)
    for job in pipeline.jobs:
        assert job.name in registered
        declared = {r for r in registered[job.name].requires if r in registered}
        assert declared <= set(job.needs), job.name
    assert pipeline.job("tests").matrix == tuple(config.pythons)
    assert pipeline.job("coverage").needs[-1] == "tests"
