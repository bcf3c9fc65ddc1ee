"""Read-side queries of the case workflow: deadlines per office and the staff-relatives report."""

from __future__ import annotations

import datetime as dt
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
from safetynet.domain.regions import default_registry
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


def region_subtree(code: str) -> list[str]:
    """``code`` and every division below it (the offices whose cases a region oversees)."""
    registry = default_registry()
    found = [registry.get(code).code]
    for child in registry.children(code):
        found.extend(region_subtree(child.code))
    return found


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


def overdue_and_due_soon(
    session: Session, office_region: str, today: dt.date, within_working_days: int = 3
) -> list[DeadlineRow]:
    """Deadlines of open tracks lodged in ``office_region`` (or below it) that have passed, or that
    fall within ``within_working_days`` working days of ``today``; the most urgent first. Besides
    each track's own deadlines: open appeals' decisions and open re-checks (``alert_recheck``,
    opened from a monitoring alert)."""
    horizon = add_working_days(today, within_working_days)
    codes = region_subtree(office_region)
    rows = [
        *_track_deadlines(session, codes, today, horizon),
        *_appeal_deadlines(session, codes, today, horizon),
        *_recheck_deadlines(session, codes, today, horizon),
    ]
    return sorted(rows, key=lambda r: (r.due, r.track_id, r.deadline))


def _deadline_row(
    today: dt.date,
    track: Track,
    app: Application,
    deadline: str,
    due: dt.date,
    appeal_id: int | None = None,
    recheck_id: int | None = None,
    provisional: bool = False,
) -> DeadlineRow:
    return DeadlineRow(
        track.id,
        app.id,
        track.program,
        track.department,
        track.status,
        app.region_code,
        deadline,
        due,
        due < today,
        _working_days_left(today, due),
        appeal_id,
        recheck_id,
        provisional,
    )


def _working_days_left(today: dt.date, due: dt.date) -> int:
    """Working days from ``today`` to ``due``; negative when overdue."""
    if due >= today:
        return working_days_between(today, due)
    return -working_days_between(due, today)


def _track_deadlines(
    session: Session, codes: list[str], today: dt.date, horizon: dt.date
) -> list[DeadlineRow]:
    """The pending deadlines of open tracks, due by ``horizon``."""
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
        _deadline_row(today, track, app, name, due, provisional=provisional_deadline(track, name))
        for track, app in tracks
        for name, due in pending_deadlines(track)
        if due <= horizon
    ]


def _appeal_deadlines(
    session: Session, codes: list[str], today: dt.date, horizon: dt.date
) -> list[DeadlineRow]:
    """The decisions of lodged appeals, due by ``horizon``."""
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
    rows: list[DeadlineRow] = []
    for appeal, track, app in appeals:
        decision_due = appeal.decision_due
        if decision_due is not None and decision_due <= horizon:
            rows.append(
                _deadline_row(
                    today,
                    track,
                    app,
                    f"{appeal.kind}_decision",
                    decision_due,
                    appeal_id=appeal.id,
                    provisional=provisional_deadline(appeal, "decision_due"),
                )
            )
    return rows


def _recheck_deadlines(
    session: Session, codes: list[str], today: dt.date, horizon: dt.date
) -> list[DeadlineRow]:
    """Open re-checks of tracks that can be re-checked, due by ``horizon``."""
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
        _deadline_row(
            today,
            track,
            app,
            "alert_recheck",
            recheck.due,
            recheck_id=recheck.id,
            provisional=provisional_deadline(recheck, "due"),
        )
        for recheck, track, app in rechecks
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
