"""Read-side queries of the case workflow: deadlines per office and the staff-relatives report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.cases.model import (
    Appeal,
    Application,
    Recheck,
    StaffMember,
    StaffRelative,
    Track,
)
from safetynet.cases.workflow import (
    RECHECKABLE,
    State,
    pending_deadlines,
    provisional_deadline,
)
from safetynet.domain.identity import mask_identity_number
from safetynet.domain.regions import region_subtree
from safetynet.domain.workdays import add_working_days, working_days_between

__all__ = [
    "DeadlineRow",
    "RegisteredRelative",
    "RelativeCase",
    "overdue_and_due_soon",
    "region_subtree",
    "relatives_report",
    "staff_register",
]


@dataclass(frozen=True)
class DeadlineRow:
    """One deadline of one track (or appeal) that is overdue or falls due soon."""

    track_id: int
    application_id: int
    program: str
    department: str
    status: str
    region: str
    deadline: str
    due: dt.date
    overdue: bool
    working_days_left: int  # negative when overdue
    appeal_id: int | None = None
    recheck_id: int | None = None
    # Computed across a year with no official calendar yet: recomputed when it is added.
    provisional: bool = False


# (track, application, deadline name, due, appeal id, re-check id, provisional)
_Due = tuple[Track, Application, str, dt.date, int | None, int | None, bool]


def overdue_and_due_soon(
    session: Session, office_region: str, today: dt.date, within_working_days: int = 3
) -> list[DeadlineRow]:
    """Deadlines of open tracks lodged in ``office_region`` (or below it) that have passed, or that
    fall within ``within_working_days`` working days of ``today``; the most urgent first. Besides
    each track's own deadlines: open appeals' decisions and open re-checks (``alert_recheck``,
    opened from a monitoring alert)."""
    horizon = add_working_days(today, within_working_days)
    codes = region_subtree(office_region)

    def left(due: dt.date) -> int:
        if due >= today:
            return working_days_between(today, due)
        return -working_days_between(due, today)

    rows = [
        DeadlineRow(
            track.id,
            app.id,
            track.program,
            track.department,
            track.status,
            app.region_code,
            deadline,
            due,
            due < today,
            left(due),
            appeal_id,
            recheck_id,
            provisional,
        )
        for track, app, deadline, due, appeal_id, recheck_id, provisional in (
            *_track_deadlines(session, codes, horizon),
            *_appeal_deadlines(session, codes, horizon),
            *_recheck_deadlines(session, codes, horizon),
        )
    ]
    return sorted(rows, key=lambda r: (r.due, r.track_id, r.deadline))


def _track_deadlines(session: Session, codes: Collection[str], horizon: dt.date) -> list[_Due]:
    """The open tracks' own deadlines up to ``horizon``."""
    tracks = session.execute(
        select(Track, Application)
        .join(Application, Application.id == Track.application_id)
        .where(
            Application.region_code.in_(codes),
            Track.status.not_in([State.TERMINATED.value, State.APPROVED.value]),
        )
        .order_by(Track.id)
    )
    return [
        (track, app, name, due, None, None, provisional_deadline(track, name))
        for track, app in tracks
        for name, due in pending_deadlines(track)
        if due <= horizon
    ]


def _appeal_deadlines(session: Session, codes: Collection[str], horizon: dt.date) -> list[_Due]:
    """The decisions of lodged appeals due up to ``horizon``."""
    appeals = session.execute(
        select(Appeal, Track, Application)
        .join(Track, Track.id == Appeal.track_id)
        .join(Application, Application.id == Track.application_id)
        .where(
            Application.region_code.in_(codes),
            Appeal.status == "lodged",
            Appeal.decision_due.is_not(None),
        )
    )
    out: list[_Due] = []
    for appeal, track, app in appeals:
        due = appeal.decision_due
        if due is not None and due <= horizon:
            provisional = provisional_deadline(appeal, "decision_due")
            out.append((track, app, f"{appeal.kind}_decision", due, appeal.id, None, provisional))
    return out


def _recheck_deadlines(session: Session, codes: Collection[str], horizon: dt.date) -> list[_Due]:
    """Open re-checks (opened from a monitoring alert) due up to ``horizon``."""
    rechecks = session.execute(
        select(Recheck, Track, Application)
        .join(Track, Track.id == Recheck.track_id)
        .join(Application, Application.id == Track.application_id)
        .where(
            Application.region_code.in_(codes),
            Recheck.status == "open",
            Recheck.due <= horizon,
            Track.status.in_([s.value for s in RECHECKABLE]),
        )
    )
    return [
        (track, app, "alert_recheck", r.due, None, r.id, provisional_deadline(r, "due"))
        for r, track, app in rechecks
    ]


@dataclass(frozen=True)
class RelativeCase:
    """An application from a household with a registered relative of staff (identity numbers
    masked), with the state of each track and whether the county has visited."""

    application_id: int
    household_id: int
    region: str
    lodged_on: dt.date
    matches: list[dict[str, Any]]
    tracks: list[dict[str, Any]]


def relatives_report(session: Session, region: str) -> list[RelativeCase]:
    codes = region_subtree(region)
    apps = session.scalars(
        select(Application)
        .where(Application.region_code.in_(codes), Application.relative_flag.is_(True))
        .order_by(Application.id)
    )
    report = []
    for app in apps:
        tracks = session.scalars(
            select(Track).where(Track.application_id == app.id).order_by(Track.id)
        )
        report.append(
            RelativeCase(
                app.id,
                app.household_id,
                app.region_code,
                app.lodged_on,
                list(app.relative_matches),
                [
                    {
                        "track_id": t.id,
                        "program": t.program,
                        "status": t.status,
                        "county_home_visit_on": t.county_home_visit_on,
                        "decided_by": t.decided_by,
                    }
                    for t in tracks
                ],
            )
        )
    return report


@dataclass(frozen=True)
class RegisteredRelative:
    """One entry of the register of staff and their close relatives (identity number masked)."""

    relative_id: int
    staff_id: int
    staff: str
    staff_role: str
    staff_region: str
    relation: str
    id_number: str


def staff_register(session: Session, region: str) -> list[RegisteredRelative]:
    """The register entries of staff working in ``region`` or below it."""
    rows = session.execute(
        select(StaffRelative, StaffMember)
        .join(StaffMember, StaffMember.id == StaffRelative.staff_id)
        .where(StaffMember.region_code.in_(region_subtree(region)))
        .order_by(StaffRelative.id)
    )
    return [
        RegisteredRelative(
            relative.id,
            staff.id,
            staff.name,
            staff.role,
            staff.region_code,
            relative.relation,
            mask_identity_number(relative.id_number),
        )
        for relative, staff in rows
    ]
