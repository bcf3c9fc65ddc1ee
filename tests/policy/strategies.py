"""Hypothesis strategies: random but valid households built from the declared input fields."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from safetynet.policy.engine import programs
from safetynet.policy.parameters import coerce_value, default_tree
from safetynet.policy.population import FIELDS, Entity, Field, Kind

ROOT = Path(__file__).resolve().parents[2]
ON = dt.date(2025, 9, 1)


def illustrative_overrides() -> dict[str, Any]:
    """The illustrative locality of examples/ as engine overrides."""
    raw = yaml.safe_load(
        (ROOT / "examples" / "illustrative_locality.yaml").read_text(encoding="utf-8")
    )
    tree = default_tree()
    return {name: coerce_value(tree.spec(name), value, name) for name, value in raw.items()}


def _money(max_yuan: int) -> st.SearchStrategy[str]:
    return st.integers(0, max_yuan * 100).map(lambda fen: f"{fen // 100}.{fen % 100:02d}")


def field_strategy(f: Field) -> st.SearchStrategy[Any]:
    if f.kind is Kind.MONEY:
        return _money(300_000 if f.entity is Entity.HOUSEHOLD else 8_000)
    if f.kind is Kind.INT:
        low = f.minimum if f.minimum is not None else 0
        high = min(f.maximum if f.maximum is not None else 30, low + 30)
        return st.integers(low, high)
    if f.kind is Kind.BOOL:
        return st.booleans()
    if f.kind is Kind.ENUM:
        return st.sampled_from(f.choices)
    return st.dates(dt.date(1925, 1, 1), dt.date(2025, 8, 31)).map(dt.date.isoformat)


def person_strategy() -> st.SearchStrategy[dict[str, Any]]:
    programs()  # every program module declares its fields on import
    return st.fixed_dictionaries({f.name: field_strategy(f) for f in FIELDS.all(Entity.PERSON)})


def household_strategy(max_members: int = 5) -> st.SearchStrategy[dict[str, Any]]:
    programs()
    fields = {f.name: field_strategy(f) for f in FIELDS.all(Entity.HOUSEHOLD)}
    fields["members"] = st.lists(person_strategy(), min_size=1, max_size=max_members)
    return st.fixed_dictionaries(fields)
