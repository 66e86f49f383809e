"""A small notes HTTP API: PostgreSQL storage, a Redis read cache, health and metrics."""

__all__ = ["__version__"]
__version__ = "1.0.0"
