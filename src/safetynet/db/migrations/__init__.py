"""Alembic migrations of the system of record (registry and audit tables), shipped in the package."""
