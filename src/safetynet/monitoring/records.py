"""The columnar shape of accepted feed records, shared by the feed loaders and the comparison.

Accepted rows of every feed kind are one long Arrow table with these columns (the ``feed_records``
table of the registry has the same typed columns, with ``person_id`` instead of ``id_number``).
Which columns a kind fills is documented in docs/feeds.md; the others are null.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["FEED_RECORD_SCHEMA", "empty_records"]

FEED_RECORD_SCHEMA = pa.schema(
    [
        pa.field("kind", pa.string(), nullable=False),
        pa.field("id_number", pa.string(), nullable=False),  # 18 characters, validated
        pa.field("event_date", pa.date32()),
        pa.field("month", pa.string()),  # YYYY-MM
        pa.field("reference", pa.string()),  # plate, property, company, bank, other person's id
        pa.field("amount_fen", pa.int64()),
        pa.field("second_amount_fen", pa.int64()),
        pa.field("area_dm2", pa.int64()),
        pa.field("region_code", pa.string()),  # 6-digit division code
        pa.field("code", pa.string()),  # a value of the kind's vocabulary
        pa.field("grade", pa.int8()),
    ]
)


def empty_records() -> pa.Table:
    return FEED_RECORD_SCHEMA.empty_table()
