"""The region table: the packaged GB/T 2260 divisions copied into the registry (``db upgrade``)."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from safetynet.domain.regions import RegionLevel, default_registry
from safetynet.registry.model import RegionRow

__all__ = ["sync_regions"]


def sync_regions(session: Session) -> int:
    """Insert the packaged GB/T 2260 divisions that the table lacks; return how many."""
    present = set(session.scalars(select(RegionRow.code)))
    missing = [
        {"code": r.code, "name": r.name, "level": r.level.value, "parent_code": r.parent}
        for r in default_registry().regions()
        if r.code not in present and r.level is not RegionLevel.NATION
    ]
    # Parents before children: provinces, cities, counties (the rows are in code order).
    rank = {"province": 0, "city": 1, "county": 2}
    missing.sort(key=lambda r: (rank[str(r["level"])], str(r["code"])))
    if missing:
        session.execute(insert(RegionRow), missing)
    return len(missing)
