"""View models of the workbench's pages, built from the service layer's reads (the API's
``CaseService`` and the areas' views): routes call these and render; templates only display."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from safetynet.entrypoints.api.schemas import DeadlinePublic

__all__ = ["WEEK_WORKING_DAYS", "QueueGroup", "work_queue"]

WEEK_WORKING_DAYS = 5
"""The queue's horizon: deadlines falling within this many working days ("this week")."""


@dataclass
class QueueGroup:
    key: str  # overdue, today, week
    title: str  # message id
    rows: list[DeadlinePublic] = field(default_factory=list)


def work_queue(rows: Sequence[DeadlinePublic], today: dt.date) -> list[QueueGroup]:
    """The deadlines as the clerk reads them: overdue, due today, due this week (most urgent
    first within each)."""
    groups = [
        QueueGroup("overdue", "Overdue"),
        QueueGroup("today", "Due today"),
        QueueGroup("week", "Due this week"),
    ]
    for row in rows:
        index = 0 if row.due < today else 1 if row.due == today else 2
        groups[index].rows.append(row)
    return groups
