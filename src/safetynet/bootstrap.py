"""Composition root: builds the database, the unit of work and the message bus once, and wires
every area's event handlers (never at import time, never as default arguments).

Entry points (CLI, API, batch) call ``bootstrap()`` and hand commands to the bus it returns.
"""

from __future__ import annotations

from sqlalchemy import MetaData

import safetynet.audit.model
import safetynet.batch.model
import safetynet.cases.model
import safetynet.db.calendar_years
import safetynet.insurance.contributions
import safetynet.monitoring.alerts_model
import safetynet.monitoring.model
import safetynet.payments.model
import safetynet.registry.model  # noqa: F401  (imported for their tables)
from safetynet.db.base import Base
from safetynet.db.engine import Database, migrate
from safetynet.registry.regions import sync_regions

__all__ = ["all_metadata", "upgrade"]


def all_metadata() -> MetaData:
    """The metadata with every area's tables loaded, for Alembic comparisons and tests."""
    return Base.metadata


def upgrade(db: Database, revision: str = "head") -> None:
    """Create or migrate the schema to ``revision``, then load the region list."""
    migrate(db, revision)
    with db.sessions.begin() as session:
        sync_regions(session)
