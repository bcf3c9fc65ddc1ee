"""Persons of a synthetic registry written straight into the database, and a stored model."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text

from safetynet.db.engine import Database
from safetynet.registry.duplicates_model import DuplicateModel
from safetynet.registry.linkage import LinkageRecord
from safetynet.registry.model import Person

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def seed(db: Database, records: list[LinkageRecord]) -> None:
    with db.sessions.begin() as session:
        session.add_all(
            Person(
                id=r.person_id,
                id_number=r.id_number,
                name=r.name,
                sex=r.sex,
                birth_date=r.birth_date,
                hukou_region_code=r.region,
                hukou_type="urban",
                created_at=NOW,
                updated_at=NOW,
            )
            for r in records
        )
        session.flush()
        if session.get_bind().dialect.name == "postgresql":  # explicit ids: move the sequence on
            session.execute(
                text("SELECT setval(pg_get_serial_sequence('persons', 'id'), max(id)) FROM persons")
            )


def store_model(db: Database, settings: dict[str, Any]) -> None:
    with db.sessions.begin() as session:
        session.add(DuplicateModel(trained_at=NOW, scope="test", persons=0, settings=settings))
