# The noxops runner image: a CI job image with noxops, nox and uv, running as a non-root user.
#
#   nox -s build        builds the noxops wheel, collects it and its dependencies into
#                       build/wheelhouse ([tool.noxops.image] wheelhouse), then this image
#   docker run --rm -v "$PWD:/workspace" noxops:latest nox -s lint
#
# It installs the wheel `nox -s build` just made (never noxops from PyPI), offline from the
# wheelhouse, so the image holds exactly the code that was tested.
FROM python:3.11-slim

# git: CI jobs check out code and noxops reads tags from it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/*

# The docker CLI (no engine): the build, smoke and docker-provider integration jobs run in
# this image and drive the engine CI provides (GitLab: docker:dind or the host socket;
# Jenkins: the agent's socket). Copied from the official docker:cli image.
COPY --from=docker:cli /usr/local/bin/docker /usr/local/bin/docker

COPY build/wheelhouse/ /opt/noxops/wheels/
RUN python -m venv /opt/noxops/venv \
 && /opt/noxops/venv/bin/pip install --no-cache-dir --disable-pip-version-check \
      --no-index --find-links /opt/noxops/wheels noxops \
 && /opt/noxops/venv/bin/nox --version && /opt/noxops/venv/bin/uv --version \
 && docker --version \
 && find /opt/noxops/wheels -type f ! -name 'noxops-*.whl' -delete

RUN useradd --create-home --uid 1000 --user-group noxops \
 && mkdir -p /workspace && chown noxops:noxops /workspace \
 && git config --system --add safe.directory '*'

# NOXOPS_REQUIREMENT: sessions that need noxops in their environment install this wheel.
ENV PATH=/opt/noxops/venv/bin:$PATH \
    NOXOPS_REQUIREMENT=/opt/noxops/wheels \
    PYTHONUNBUFFERED=1 \
    UV_LINK_MODE=copy

USER noxops
WORKDIR /workspace
CMD ["nox", "--list"]
