"""Services for integration tests (PostgreSQL, Redis, ...), each from one of several providers."""
