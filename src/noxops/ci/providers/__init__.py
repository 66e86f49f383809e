"""The CI providers: one object each that reads its run and renders its pipeline file.

:func:`current` is the provider running this process (else ``local``); everything in noxops
that needs a CI system's variables asks it, or the module-level helpers here. Adding a
provider is one module that subclasses :class:`Provider` and registers an instance with
:data:`CI_PROVIDERS`.
"""

from __future__ import annotations

from noxops.ci.providers.base import (
    CI_PROVIDERS,
    GIT_HEAD_ENV,
    LOCAL,
    Event,
    GitHead,
    Provider,
    ProviderRegistry,
    RunContext,
    credential_variables,
    current,
    file_providers,
    git,
    git_default_branch,
    git_head,
    hand_over,
    output_file,
    registry_repository,
    repository_url,
    summary_file,
)
from noxops.ci.providers.github import GitHub
from noxops.ci.providers.gitlab import GitLab
from noxops.ci.providers.jenkins import Jenkins
from noxops.ci.providers.local import Local

# Detection order: the first provider whose variables are set runs this process; `local`
# detects nothing and is the fallback.
for _provider in (GitHub(), GitLab(), Jenkins(), Local()):
    CI_PROVIDERS.register(_provider)

__all__ = [
    "CI_PROVIDERS",
    "GIT_HEAD_ENV",
    "LOCAL",
    "Event",
    "GitHead",
    "Provider",
    "ProviderRegistry",
    "RunContext",
    "credential_variables",
    "current",
    "file_providers",
    "git",
    "git_default_branch",
    "git_head",
    "hand_over",
    "output_file",
    "registry_repository",
    "repository_url",
    "summary_file",
]
