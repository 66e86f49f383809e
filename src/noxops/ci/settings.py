"""``[tool.noxops.ci]``: what the generated CI pipelines look like."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from noxops.schema import non_empty, option, python_version

__all__ = ["CI_STAGES", "DOCKER_ENGINES", "PROVIDERS", "REPLAY", "CIConfig", "CIStage"]

PROVIDERS = ("github", "gitlab", "jenkins")
# The CI stages, in pipeline order; every session lands in one of them. Written here only: a
# stage's declaration (noxops.stages.CI) and the CI model both take them from here.
CIStage = Literal["quality", "tests", "integration", "build", "smoke", "report", "deploy"]
CI_STAGES: tuple[str, ...] = get_args(CIStage)


def _providers(value: Any) -> str | None:
    from noxops.ci.providers import file_providers  # the registered ones, a declared one too

    known = file_providers()
    bad = [v for v in value if v not in known]
    if bad:
        return f"{bad[0]!r} is not a CI provider; use any of {', '.join(map(repr, known))}"
    return None


def _stage_names(value: Any) -> str | None:
    bad = [v for v in value.values() if v not in CI_STAGES]
    if bad:
        return f"{bad[0]!r} is not a CI stage; use one of {', '.join(map(repr, CI_STAGES))}"
    return None


def _repository_globs(value: Any) -> str | None:
    bad = [v for v in value if not v or v.startswith(("/", "../")) or "\\" in v]
    if bad:
        return (
            f"{bad[0]!r} is not a path from the repository's top; write it with / from the "
            "top, like 'shared/**'"
        )
    return None


DOCKER_ENGINES = ("dind", "socket")
# When the checks replay a stage's last completed run (--changed-only) from the records the
# provider's cache carries: on pull requests and branches other than the default and deploy
# branches (which, with tags, run in full and refresh the records), everywhere, or never (no
# records cached; the tests' shards still share their durations, which replay nothing).
REPLAY = ("branches", "always", "never")


def _replay(value: Any) -> str | None:
    if value not in REPLAY:
        return f"{value!r} is not a replay choice; use one of {', '.join(map(repr, REPLAY))}"
    return None


def _absolute(value: Any) -> str | None:
    if value and (not value.startswith("/") or any(c in value for c in "'\"$`\\ ")):
        return f"{value!r} is not an absolute folder; write it like '/var/cache/noxops'"
    return None


def _docker_engine(value: Any) -> str | None:
    if value not in DOCKER_ENGINES:
        return f"{value!r} is not a Docker engine choice; use 'dind' or 'socket'"
    return None


@dataclass(frozen=True)
class CIConfig:
    """``[tool.noxops.ci]``: the generated CI pipelines (`noxops ci generate`)."""

    providers: list[str] = option(
        factory=lambda: list(PROVIDERS),
        check=_providers,
        doc="Providers whose CI files `noxops ci generate all` writes and `noxops ci check` reads.",
    )
    python: str = option(
        "3.12",
        check=python_version,
        doc="Python that runs nox in CI (the tools sessions run on it too, unless tools_python).",
    )
    requirements: list[str] = option(
        factory=lambda: ["noxops"],
        check=non_empty,
        doc="What CI installs to run nox (noxops brings nox and uv); '.' for noxops itself.",
    )
    default_branch: str = option("main", doc="The repository's default branch.")
    deploy_branches: dict[str, str] = option(
        factory=lambda: {"develop": "staging", "main": "production"},
        doc=(
            "Branch -> deployment environment: a push to the branch runs deploy-<environment>. "
            "Environments without a branch are not deployed by CI."
        ),
    )
    image: str = option(
        "python:{python}-slim",
        doc=(
            "GitLab and Jenkins job image; {python} is replaced by the Python the job's "
            "session runs on (each matrix Python gets its own image: nothing downloads one)."
        ),
    )
    images: dict[str, str] = option(
        factory=dict,
        doc=(
            "Python -> GitLab/Jenkins job image, for Pythons whose `image` does not fit "
            "(a 3.9 job needs none: nox, which needs 3.10+, runs on the image's Debian python3)."
        ),
    )
    docker_image: str = option(
        "",
        doc=(
            "GitLab/Jenkins image with Python ({python}) and a docker CLI for the jobs that "
            "drive Docker (build, smoke), like the noxops runner image; empty: those jobs use "
            "`image` and install Debian's docker CLI (docker.io) before running nox."
        ),
    )
    docker_engine: str = option(
        "dind",
        check=_docker_engine,
        doc=(
            "How GitLab Docker jobs reach an engine: 'dind' (a docker:dind service, needs a "
            "privileged runner) or 'socket' (the runner mounts /var/run/docker.sock)."
        ),
    )
    branches: list[str] = option(
        factory=lambda: ["release/**", "hotfix/**"],
        doc=(
            "GitHub: more branch patterns whose pushes run the checks (quality, tests, "
            "integration, report); feature branches run them through their pull request."
        ),
    )
    jenkins_submitter: str = option(
        "",
        doc=(
            "Jenkins users/groups (comma-separated) allowed to approve a deployment's `input`; "
            "empty: anyone who may build the job."
        ),
    )
    registry_secrets: dict[str, str] = option(
        factory=lambda: {
            "NOXOPS_REGISTRY_USER": "REGISTRY_USER",
            # the names of secrets, not secrets
            "NOXOPS_REGISTRY_PASSWORD": "REGISTRY_PASSWORD",  # nosec B105
        },
        doc=(
            "Environment variable -> provider secret (Jenkins: credentials id) handed to the "
            "build job when [tool.noxops.image] registry is set; on ghcr.io the job also gets "
            "GITHUB_TOKEN, on GitLab CI_REGISTRY_USER/CI_REGISTRY_PASSWORD are used when unset."
        ),
    )
    build_args: list[str] = option(
        factory=lambda: ["--push"],
        doc="Arguments after `--` for the build session in CI when a registry is set.",
    )
    deploy_secrets: dict[str, str] = option(
        factory=dict,
        doc=(
            "More environment variable -> secret pairs for the deploy jobs (each environment's "
            "kubeconfig_env is handed in already). GitHub: environment secrets; GitLab: "
            "variables scoped to the environment; Jenkins: credentials id + '-<environment>'."
        ),
    )
    exclude: list[str] = option(
        factory=lambda: ["fmt"],
        doc="Stages never run in CI (rollback-<env> sessions are always left out).",
    )
    stages: dict[str, str] = option(
        factory=dict,
        check=_stage_names,
        doc=(
            "Stage -> CI stage (quality, tests, integration, build, smoke, report, deploy) for "
            "stages noxops does not know; unknown stages otherwise follow what they require."
        ),
    )
    root: str = option(
        "",
        doc=(
            "The repository's top folder, relative to the project folder: the CI files go "
            "there (GitHub and GitLab read them only there) and every job works in the "
            "project folder; empty: the top of the git work tree holding the project."
        ),
    )
    changes: list[str] = option(
        factory=list,
        check=_repository_globs,
        doc=(
            "More paths (globs from the repository's top, like shared/**) whose changes run "
            "this project's jobs when the repository's pipeline holds other projects too: "
            "code it uses from outside its folder; its folder and the pipeline file always do."
        ),
    )
    paths: dict[str, str] = option(
        factory=dict,
        check=lambda value: _providers(list(value)),  # the keys are providers
        doc=(
            "Provider -> the file its pipeline goes to, for a repository whose own CI file "
            'stays (github = ".github/workflows/noxops.yml"); unset: '
            ".github/workflows/ci.yml, .gitlab-ci.yml, Jenkinsfile."
        ),
    )
    replay: str = option(
        "branches",
        check=_replay,
        doc=(
            "When the check jobs (lint, type, tests, ...: stages whose inputs noxops can "
            "fingerprint) replay a stage's last completed run, whose records travel through "
            "the provider's cache: 'branches' (pull/merge requests and branches other than the "
            "default and deploy branches; those and tags run in full and refresh the records), "
            "'always', or 'never' (the checks run in full and cache no records). "
            "NOXOPS_FORCE=1 runs everything in full (docs/ci.md#replays-and-shards-in-ci)."
        ),
    )
    jenkins_cache: str = option(
        "",
        check=_absolute,
        doc=(
            "Jenkins: a folder on every agent, writable by the agent's user and kept between "
            "builds, where the check jobs keep their records (mounted into the job containers); "
            "empty: Jenkins has no cache between builds, and its jobs run in full."
        ),
    )
    runner: str = option("ubuntu-latest", doc="GitHub Actions runner label.")
    jenkins_docker_label: str = option(
        "",
        doc="Jenkins agent label for stages that need Docker (build, smoke, integration); "
        "empty means any agent.",
    )
