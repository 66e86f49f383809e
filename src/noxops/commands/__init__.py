"""Commands beside the CLI's own: ``noxops init``, ``noxops doctor`` and
``noxops reference``."""
