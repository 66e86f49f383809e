"""The ``deploy-<env>`` and ``rollback-<env>`` stages."""
