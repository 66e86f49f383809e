"""Building and smoke-testing a project's packages and container image, without nox.

:mod:`noxops.image.runner` does the work of the ``build`` and ``smoke`` stages (their nox
layers are :mod:`noxops.stages.build` and :mod:`noxops.stages.smoke`): the configuration
(:mod:`~noxops.image.settings`), the image's name and labels (:mod:`~noxops.image.naming`), its
tags (:mod:`~noxops.image.tags`), the container engine (:mod:`~noxops.containers.engine`), registry
credentials (:mod:`~noxops.image.auth`), the wheel, sdist and wheelhouse
(:mod:`~noxops.image.packages`), the SBOM (:mod:`~noxops.image.sbom`), the build manifest
(:mod:`~noxops.image.manifest`) and the running service (:mod:`~noxops.image.smoke`, with its
pytest plugin :mod:`~noxops.image.smoke_plugin`). Importing this package imports nothing.
"""

__all__: list[str] = []
