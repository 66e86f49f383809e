"""Building and smoke-testing a project's packages and container image, without nox.

:mod:`noxops.build.runner` does the work of the ``build`` and ``smoke`` stages (their nox
layers are :mod:`noxops.stages.build` and :mod:`noxops.stages.smoke`): the configuration
(:mod:`~noxops.build.config`), the image's name and labels (:mod:`~noxops.build.image`), its
tags (:mod:`~noxops.build.tags`), the container engine (:mod:`~noxops.build.engine`), registry
credentials (:mod:`~noxops.build.auth`), the wheel, sdist and wheelhouse
(:mod:`~noxops.build.packages`), the SBOM (:mod:`~noxops.build.sbom`), the build manifest
(:mod:`~noxops.build.manifest`) and the running service (:mod:`~noxops.build.smoke`, with its
pytest plugin :mod:`~noxops.build.smoke_plugin`). Importing this package imports nothing.
"""

__all__: list[str] = []
