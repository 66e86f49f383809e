"""The Jenkins renderer: a declarative ``Jenkinsfile`` from the pipeline model.

Each CI stage is a top-level stage; inside it the jobs run in dependency waves (jobs of one
wave in ``parallel``, a matrix job as a declarative ``matrix``). Jobs run in the job image on
a Docker agent (Docker CIPipeline plugin); the integration job starts its services as sidecar
containers with ``docker.image(...).withRun`` and runs the session ``inside`` the job image,
linked to them. Reports go through ``junit`` and ``recordCoverage``; later jobs get earlier
jobs' reports through ``stash``/``unstash``. Stashes do not outlive a build: the check jobs'
noxops records (and the shards' durations) are kept between builds only in
``[tool.noxops.ci] jenkins_cache``, a folder on the agents mounted into the job containers,
one sub-folder per Jenkins job, job and branch; without it every build runs in full.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from noxops.ci.gitlab import DOCKER_CLI
from noxops.ci.model import NOX_FLOOR, REPORT_JOB, TAG_PREFIX, CIJob, CIPipeline

__all__ = ["PATH", "render", "render_many"]

PATH = "Jenkinsfile"
NOTIFY = "notify"  # the session the pipeline's post runs
VENV = ".ci-venv"
# A matrix job whose image's Python is older than nox's floor makes its venv (which runs nox)
# with Debian's python3 (model.NOX_RUNNER says why); the session runs on the image's Python.
OLD_PYTHON_VENV = (
    f'PY=python; if python -c "import sys; sys.exit(sys.version_info >= {NOX_FLOOR})"; then'
    " apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 python3-venv"
    f' >/dev/null && PY=/usr/bin/python3; fi; "$PY" -m venv {VENV}'
)
STAGE_TITLES = {
    "quality": "Quality",
    "tests": "Tests",
    "integration": "Integration",
    "build": "Build",
    "smoke": "Smoke",
    "report": "Report",
    "deploy": "Deploy",
}


def q(text: str) -> str:
    """A Groovy single-quoted (non-interpolating) string."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def qq(text: str) -> str:
    """A Groovy double-quoted string whose ``${...}`` are interpolated by Groovy."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def qm(text: str, depth: int) -> str:
    """A Groovy triple-single-quoted (non-interpolating) multi-line string, indented."""
    pad = "    " * depth
    body = text.replace("\\", "\\\\").replace("'''", "\\'\\'\\'")
    return "'''\n" + "\n".join(pad + line for line in body.split("\n")) + "\n" + pad[4:] + "'''"


class _Out:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def line(self, text: str = "") -> None:
        self.lines.append(("    " * self.depth + text) if text else "")

    def open(self, text: str) -> None:
        self.line(text + " {")
        self.depth += 1

    def open_closure(self, text: str) -> None:
        """A line that already ends with the opening of a Groovy closure (``{ x ->``)."""
        self.line(text)
        self.depth += 1

    def close(self) -> None:
        self.depth -= 1
        self.line("}")


def _stash_names(pipeline: CIPipeline, job: CIJob) -> list[str]:
    name = pipeline.id(job.name, "-")
    if job.shards > 1:
        return [
            f"{art.name}-{name}-{py}-{k}"
            for art in job.artifacts
            for py in job.matrix
            for k in job.shard_numbers
        ]
    if job.matrix:
        return [f"{art.name}-{name}-{py}" for art in job.artifacts for py in job.matrix]
    return [f"{art.name}-{name}" for art in job.artifacts]


# A branch (or change request's target) name as one folder name of the records folder.
_SLUG = "tr -c 'A-Za-z0-9._-' _"


def _cached(pipeline: CIPipeline, job: CIJob) -> bool:
    """Whether the job keeps records (or test durations) in ``jenkins_cache`` between builds."""
    return bool(pipeline.jenkins_cache) and bool(job.records or job.durations)


def _cache_folder(pipeline: CIPipeline, name: str) -> str:
    """``<jenkins_cache>/<the Jenkins job>/<name>`` as a shell word: a multibranch project's
    branches share its folder (``JOB_NAME`` without the branch), each branch a sub-folder."""
    return f'"{pipeline.jenkins_cache}/$(printf %s "${{JOB_NAME%/*}}" | {_SLUG})/{name}"'


def _cache_name(pipeline: CIPipeline, job: CIJob) -> str:
    name = pipeline.id(job.name, "-")
    if job.matrix:
        name += "-$PYTHON"
    if job.shards > 1:
        name += "-shard$SHARD"
    return name


def _kept(pipeline: CIPipeline, job: CIJob) -> list[tuple[str, str]]:
    """(name in the records folder, files in the workspace) the job keeps between builds:
    its session records, and the test durations (``*.shards`` folders) of a shard set."""
    kept = [(_cache_name(pipeline, job), f"{pipeline.records}.")] if job.records else []
    if job.durations:
        kept.append((pipeline.id("durations", "-"), pipeline.durations.rstrip("/")))
    return kept


def _restore_lines(pipeline: CIPipeline, job: CIJob) -> list[str]:
    """Before the session: copy the newest kept files of this branch (else of the change
    request's target, else of the default branch) from the agent's records folder."""
    if job.durations == "save":
        return []
    records = pipeline.records.rstrip("/")
    branches = f'"${{BRANCH_NAME:-default}}" "${{CHANGE_TARGET:-{pipeline.default_branch}}}"'
    return [
        f'for b in {branches}; do d={_cache_folder(pipeline, name)}/$(printf %s "$b" | {_SLUG});'
        f' if [ -d "$d" ]; then mkdir -p {records} && cp -R "$d/." {records}/'
        f' && echo "noxops: {name} restored from $d" && break; fi; done'
        for name, _ in _kept(pipeline, job)
    ]


def _save_lines(pipeline: CIPipeline, job: CIJob) -> list[str]:
    """After the session passed: what the job keeps replaces this branch's copy in the
    agent's records folder, in one move (a build reading it sees the old or the new one)."""
    if job.durations == "restore":  # a shard reads the durations; the coverage job writes them
        kept = [k for k in _kept(pipeline, job) if k[0] != pipeline.id("durations", "-")]
    else:
        kept = _kept(pipeline, job)
    lines = []
    for name, files in kept:
        folder = _cache_folder(pipeline, name)
        lines.append(
            f'd={folder}/$(printf %s "${{BRANCH_NAME:-default}}" | {_SLUG});'
            f' if ls -d {files} >/dev/null 2>&1; then rm -rf "$d.$$" && mkdir -p "$d.$$"'
            f' && cp -R {files} "$d.$$/"'
            f' && rm -rf "$d" && mv "$d.$$" "$d"; fi'
        )
    return lines


def _setup(pipeline: CIPipeline, job: CIJob) -> str:
    lines = [
        OLD_PYTHON_VENV if job.below_nox_floor else f"python -m venv {VENV}",
        f"{VENV}/bin/python -m pip install --quiet uv",
        shlex.join(
            ["uv", "pip", "install", "--python", f"{VENV}/bin/python", *pipeline.install(job)]
        ).replace("uv pip", f"{VENV}/bin/uv pip", 1),
    ]
    if job.docker and not pipeline.docker_image:
        lines.insert(0, DOCKER_CLI)
    return "\n".join(lines)


def _image(pipeline: CIPipeline, job: CIJob) -> str:
    if job.matrix:
        return qq(pipeline.image_for(job, "${PYTHON}"))
    return q(pipeline.image_for(job))


def _agent(out: _Out, pipeline: CIPipeline, job: CIJob) -> None:
    if job.services:  # sidecars need the Docker CLI on the agent itself
        if pipeline.docker_label:
            out.line(f"agent {{ label {q(pipeline.docker_label)} }}")
        else:
            out.line("agent any")
        return
    out.open("agent")
    out.open("docker")
    out.line(f"image {_image(pipeline, job)}")
    args: list[str] = []
    if job.below_nox_floor and not job.docker:  # root: it installs Debian's python3
        args.append("-u root")
    if job.docker:
        if pipeline.docker_label:
            out.line(f"label {q(pipeline.docker_label)}")
        # root: the job installs the docker CLI, and the socket belongs to root's group
        if not pipeline.docker_image:
            args.append("-u root")
        args.append("-v /var/run/docker.sock:/var/run/docker.sock")
    args += _cache_mount(pipeline, job)
    if args:
        out.line(f"args {q(' '.join(args))}")
    out.close()
    out.close()


def _cache_mount(pipeline: CIPipeline, job: CIJob) -> list[str]:
    """The agent's records folder, mounted at the same path into the job's container."""
    if not _cached(pipeline, job):
        return []
    return [f"-v {pipeline.jenkins_cache}:{pipeline.jenkins_cache}"]


def _forced(pipeline: CIPipeline) -> str:
    """``replay = "branches"``: ``NOXOPS_FORCE`` on a tag and on the default and deploy
    branches, which run in full and refresh the records (the tests' map of affected tests
    among them, which only a --changed-only run keeps; a job that is no multibranch one,
    without BRANCH_NAME, builds the default branch), else the build parameter; "" for
    "always" (the parameter alone)."""
    if pipeline.replay == "always":
        return ""
    branches = ", ".join(q(b) for b in pipeline.branches)
    branch = f"(env.BRANCH_NAME ?: {q(pipeline.default_branch)})"
    return qq(f"${{env.TAG_NAME || ({branch} in [{branches}]) ? '1' : params.NOXOPS_FORCE}}")


def _environment(out: _Out, pipeline: CIPipeline, job: CIJob) -> None:
    out.open("environment")
    out.line('UV_CACHE_DIR = "${env.WORKSPACE}/.cache/uv"')
    out.line('PIP_CACHE_DIR = "${env.WORKSPACE}/.cache/pip"')
    for var, value in job.env:
        out.line(f"{var} = {q(value)}")
    for svc in job.services:
        out.line(f"{svc.url_var} = {q(svc.url(svc.name))}")
    if job.approval and job.environment:
        out.line(f"NOXOPS_APPROVED = {q(job.environment)}  // given by the input above")
    if _cached(pipeline, job) and job.records:  # --changed-only, forced on release refs
        out.line(f"NOXOPS_CHANGED_ONLY = {q('1')}")
        if _forced(pipeline):
            out.line(f"NOXOPS_FORCE = {_forced(pipeline)}")
    for var, secret in job.secrets:
        cred = f"{secret}-{job.environment}" if job.environment else secret
        out.line(f"{var} = credentials({q(cred)})")
    out.close()


def _run(out: _Out, pipeline: CIPipeline, job: CIJob) -> None:
    wanted = {art.name for art in job.downloads}
    for dep in pipeline.inputs(job):
        for name in _stash_names(pipeline, dep):
            if name.split("-", 1)[0] in wanted:
                out.line(f"unstash {q(name)}")
    out.line("sh " + qm(_setup(pipeline, job), out.depth + 1))
    if job.handover in ("load", "pull"):
        out.line(f"sh {q(shlex.join([f'{VENV}/bin/python', *job.handover_argv()[1:]]))}")
    cached = _cached(pipeline, job)
    for line in _restore_lines(pipeline, job) if cached else []:
        out.line(f"sh {q(line)}")
    argv = job.nox_argv('"$PYTHON"' if job.matrix else None, '"$SHARD"')
    out.line(f"sh {q(' '.join([f'{VENV}/bin/{argv[0]}', *argv[1:]]))}")
    for line in _save_lines(pipeline, job) if cached else []:
        out.line(f"sh {q(line)}")
    if job.handover == "save":
        out.line(f"sh {q(shlex.join([f'{VENV}/bin/python', *job.handover_argv()[1:]]))}")


def _in_project(out: _Out, pipeline: CIPipeline, job: CIJob) -> None:
    """The job's commands, in the project's folder when it is not the repository's top."""
    if not pipeline.workdir:
        _run(out, pipeline, job)
        return
    out.open(f"dir({q(pipeline.workdir)})")
    _run(out, pipeline, job)
    out.close()


def _steps(out: _Out, pipeline: CIPipeline, job: CIJob) -> None:
    out.open("steps")
    if not job.services:
        _in_project(out, pipeline, job)
        out.close()
        return
    out.open("script")
    depth = 0
    for svc in job.services:
        env = " ".join(f"-e {k}={v}" for k, v in svc.env)
        health = (
            f"--health-cmd {shlex.quote(svc.health_cmd)} --health-interval 5s --health-retries 20"
        )
        args = f"{env} {health}".strip()
        out.open_closure(f"docker.image({q(svc.image)}).withRun({q(args)}) {{ {svc.name} ->")
        depth += 1
    links = [f"--link ${{{svc.name}.id}}:{svc.name}" for svc in job.services]
    links += _cache_mount(pipeline, job)
    out.open(f"docker.image({q(pipeline.image_for(job))}).inside({qq(' '.join(links))})")
    _in_project(out, pipeline, job)
    out.close()
    for _ in range(depth):
        out.close()
    out.close()
    out.close()


def _post(out: _Out, pipeline: CIPipeline, job: CIJob) -> None:
    out.open("post")
    out.open("always")
    for report in job.reports:
        path = pipeline.at(
            report.path.replace("{python}", "${PYTHON}").replace("{shard}", "${SHARD}")
        )
        text = qq(path) if job.matrix else q(path)
        if report.kind == "junit":
            out.line(f"junit allowEmptyResults: true, testResults: {text}")
        elif report.kind == "coverage":
            out.line(f"recordCoverage tools: [[parser: 'COBERTURA', pattern: {text}]]")
    for art in job.artifacts:
        name = f"{art.name}-{pipeline.id(job.name, '-')}" + ("-${PYTHON}" if job.matrix else "")
        name += "-${SHARD}" if job.shards > 1 else ""
        name_text = qq(name) if job.matrix else q(name)
        files = q(pipeline.at(art.path + "/**"))
        out.line(f"stash name: {name_text}, includes: {files}, allowEmpty: true")
        if job.stage in ("build", "report"):
            out.line(f"archiveArtifacts artifacts: {files}, allowEmptyArchive: true")
    out.close()
    out.close()


def _job_body(out: _Out, pipeline: CIPipeline, job: CIJob, *, in_matrix: bool = False) -> None:
    stage_released = all(
        j.trigger == "release" and not j.branch for j in pipeline.in_stage(job.stage)
    )
    if job.trigger == "release" and not job.branch and not stage_released:
        _release_when(out, pipeline)
    if job.branch:
        out.open("when")
        out.line("beforeAgent true")
        if job.approval:
            out.line("beforeInput true")
        out.line(f"branch {q(job.branch)}")
        out.close()
    if job.approval:
        out.open("input")
        out.line(f"message {q(f'Deploy to {job.environment}?')}")
        out.line(f"ok {q('Deploy')}")
        if pipeline.jenkins_submitter:
            out.line(f"submitter {q(pipeline.jenkins_submitter)}")
        out.close()
    if not in_matrix:
        _agent(out, pipeline, job)
    out.open("options")
    out.line(f"timeout(time: {job.timeout_minutes}, unit: 'MINUTES')")
    out.close()
    _environment(out, pipeline, job)
    _steps(out, pipeline, job)
    _post(out, pipeline, job)


def _job(out: _Out, pipeline: CIPipeline, job: CIJob) -> None:
    out.open(f"stage({q(pipeline.id(job.name, ': '))})")
    if not job.matrix:
        _job_body(out, pipeline, job)
        out.close()
        return
    out.open("matrix")
    out.open("axes")
    out.open("axis")
    out.line("name 'PYTHON'")
    out.line("values " + ", ".join(q(py) for py in job.matrix))
    out.close()
    if job.shards > 1:  # PYTHON x SHARD: each shard of each Python is a cell
        out.open("axis")
        out.line("name 'SHARD'")
        out.line("values " + ", ".join(q(k) for k in job.shard_numbers))
        out.close()
    out.close()
    _agent(out, pipeline, job)
    out.open("stages")
    out.open(f"stage({q(pipeline.id(job.name + ' (matrix)', ': '))})")
    _job_body(out, pipeline, job, in_matrix=True)
    out.close()
    out.close()
    out.close()
    out.close()


def _head(out: _Out, header: Sequence[str], pipelines: Sequence[CIPipeline]) -> None:
    """The header comment, then the pipeline's opening: no agent of its own (each stage
    takes one), its options, the NOXOPS_FORCE parameter when jobs keep records, and its
    environment."""
    for line in header:
        out.line(f"// {line}")
    out.open("pipeline")
    out.line("agent none")
    out.open("options")
    out.line("buildDiscarder(logRotator(numToKeepStr: '30'))")
    out.line("disableConcurrentBuilds()")
    out.close()
    if any(_cached(p, job) and job.records for p in pipelines for job in p.jobs):
        out.open("parameters")
        force = "Run every stage in full: replay nothing from the noxops records"
        out.line(
            f"booleanParam(name: 'NOXOPS_FORCE', defaultValue: false, description: {q(force)})"
        )
        out.close()
    out.open("environment")
    out.line("CI = 'true'")
    out.line("PIP_DISABLE_PIP_VERSION_CHECK = '1'")
    out.line("UV_LINK_MODE = 'copy'")
    out.close()


def _stages(out: _Out, pipeline: CIPipeline) -> None:
    """A stage per CI stage, its jobs inside in dependency waves."""
    for stage in pipeline.stages:
        jobs = [j for j in pipeline.in_stage(stage) if _staged(pipeline, j)]
        if not jobs:
            continue
        out.open(f"stage({q(pipeline.id(STAGE_TITLES[stage], ': '))})")
        if all(j.trigger == "release" and not j.branch for j in jobs):
            _release_when(out, pipeline)
        out.open("stages")
        for wave in pipeline.waves(stage):
            plain = [j for j in wave if not j.matrix and _staged(pipeline, j)]
            for job in (j for j in wave if j.matrix):
                _job(out, pipeline, job)
            if len(plain) == 1:
                _job(out, pipeline, plain[0])
            elif plain:
                title = f"{STAGE_TITLES[stage]}: " + ", ".join(j.name for j in plain)
                out.open(f"stage({q(pipeline.id(title, ': '))})")
                out.line("failFast false")
                out.open("parallel")
                for job in plain:
                    _job(out, pipeline, job)
                out.close()
                out.close()
        out.close()
        out.close()


def render(pipeline: CIPipeline) -> str:
    """The ``Jenkinsfile`` text."""
    out = _Out()
    _head(out, pipeline.header, [pipeline])
    out.open("stages")
    _stages(out, pipeline)
    out.close()
    _pipeline_post(out, [pipeline])
    out.close()
    return "\n".join(out.lines) + "\n"


# The first stage of a Jenkinsfile shared by several projects. The pipeline has no agent of
# its own, so nothing is checked out before the first stage that takes one, and `changeset`
# reads the build's changelog, which a checkout records: this stage checks out first.
CHANGES_STAGE = "Changes"


def render_many(pipelines: Sequence[CIPipeline], header: Sequence[str]) -> str:
    """One ``Jenkinsfile`` for several projects of a repository, each with a ``key``: a stage
    per project, one after the other (declarative Jenkins cannot nest the projects' matrix
    and parallel stages in a ``parallel``), holding its stages (``backend: lint``), that runs
    when the build's changes touch its files (``changeset``), on a v* tag (a tag releases
    every project), and when the build has no changelog: a branch's or pull request's first
    build, a rebuild, where ``changeset`` alone would run nothing."""
    out = _Out()
    _head(out, header, pipelines)
    out.open("stages")
    out.open(f"stage({q(CHANGES_STAGE)})")
    out.line("agent any")
    out.open("steps")
    out.line(f"echo {q('checked out: the changelog says which projects changed')}")
    out.close()
    out.close()
    for pipeline in pipelines:
        out.open(f"stage({q(pipeline.key)})")
        if pipeline.changes:
            out.open("when")
            out.open("anyOf")
            for pattern in pipeline.changes:
                out.line(f"changeset {q(pattern)}")
            out.line(f"tag {q(TAG_PREFIX + '*')}")
            out.line("expression { currentBuild.changeSets.isEmpty() }")
            out.close()
            out.close()
        out.open("stages")
        _stages(out, pipeline)
        out.close()
        out.close()
    out.close()
    _pipeline_post(out, pipelines)
    out.close()
    return "\n".join(out.lines) + "\n"


def _staged(pipeline: CIPipeline, job: CIJob) -> bool:
    """Whether ``job`` is a stage of the pipeline: ``notify`` runs in its ``post`` instead,
    after every stage (a stage beside the report's would run before summary.json exists)."""
    return not (pipeline.notify_stage and job.name == NOTIFY)


def _release_when(out: _Out, pipeline: CIPipeline) -> None:
    """Only pushes to the default and deploy branches, and v* tags (never a change request:
    its BRANCH_NAME is PR-<n>)."""
    out.open("when")
    out.line("beforeAgent true")
    out.open("anyOf")
    for branch in pipeline.branches:
        out.line(f"branch {q(branch)}")
    out.line(f"tag {q(TAG_PREFIX + '*')}")
    out.close()
    out.close()


def _staged_jobs(pipeline: CIPipeline) -> list[CIJob]:
    return [job for job in pipeline.jobs if _staged(pipeline, job)]


def _pipeline_post(out: _Out, pipelines: Sequence[CIPipeline]) -> None:
    """Always: every job's reports archived in one place, the workspace cleaned. On failure
    and success: each project's ``notify`` session when it declares one (else the deploy
    sessions have sent their own notices)."""
    labels = [p.docker_label for p in pipelines if p.docker_label]
    label = q(labels[0]) if labels else "''"
    stashes = [n for p in pipelines for job in _staged_jobs(p) for n in _stash_names(p, job)]
    out.open("post")
    out.open("always")
    out.open("script")
    out.open(f"node({label})")
    out.open_closure(f"for (name in [{', '.join(q(n) for n in stashes)}]) {{")
    out.line('try { unstash name } catch (err) { echo "no ${name}: that job did not run" }')
    out.close()
    for pipeline in pipelines:
        reports = pipeline.at(f"{pipeline.reports_dir}/**")
        out.line(f"archiveArtifacts artifacts: {q(reports)}, allowEmptyArchive: true")
    out.line("cleanWs()")
    out.close()
    out.close()
    out.close()
    notifying = [p for p in pipelines if p.notify_stage]
    for status in ("failure", "success"):
        out.open(status)
        if notifying:
            out.open("script")
            out.open(f"node({label})")
            out.open(f"withEnv([{q('NOXOPS_PIPELINE_STATUS=' + status)}])")
            # A fresh workspace: the noxfile, and the report's summary.json that notify sends.
            out.line("checkout scm")
            if any(p.changes for p in notifying):
                out.line("def ran = [:]")
            for pipeline in notifying:
                _notify(out, pipeline)
            out.line("cleanWs()")
            out.close()
            out.close()
            out.close()
        else:
            out.line(f"echo {q(f'pipeline {status}: the deploy sessions sent their own notices')}")
        out.close()
    out.close()


def _notify(out: _Out, pipeline: CIPipeline) -> None:
    """The project's ``notify`` session in its folder, after its report job's stash. A
    project whose stages may have been skipped (``changes``) first unstashes all its
    stashes: none means none of its stages ran, and it sends nothing."""
    staged = _staged_jobs(pipeline)
    if pipeline.changes:
        stashes = [n for job in staged for n in _stash_names(pipeline, job)]
        ran = f"ran[{q(pipeline.key)}]"
        out.open_closure(f"for (name in [{', '.join(q(n) for n in stashes)}]) {{")
        out.line(f'try {{ unstash name; {ran} = true }} catch (err) {{ echo "no ${{name}}" }}')
        out.close()
        out.open(f"if ({ran})")
    else:
        report = [job for job in staged if job.name == REPORT_JOB]
        for name in (n for job in report for n in _stash_names(pipeline, job)):
            out.line(f"try {{ unstash {q(name)} }} catch (err) {{ echo 'no report' }}")
    if pipeline.workdir:  # the noxfile is in the project's folder
        out.open(f"dir({q(pipeline.workdir)})")
    out.line(f"sh {q(f'python3 -m venv {VENV} && {VENV}/bin/pip install --quiet uv')}")
    install = ["uv", "pip", "install", "--python", f"{VENV}/bin/python"]
    notify = pipeline.job(NOTIFY)
    out.line(f"sh {q(f'{VENV}/bin/' + shlex.join([*install, *pipeline.install(notify)]))}")
    out.line(f"sh {q(f'{VENV}/bin/nox --no-dependencies -s notify')}")
    if pipeline.workdir:
        out.close()
    if pipeline.changes:
        out.depth -= 1
        out.open("} else")
        out.line(f"echo {q(f'{pipeline.key}: none of its stages ran (no change): no notice')}")
        out.close()
