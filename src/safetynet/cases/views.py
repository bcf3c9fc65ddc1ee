"""Read-side queries of the case workflow: deadlines per office, the staff-relatives report and
the complaints households lodged with the offices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from safetynet.cases.model import (
    Appeal,
    Application,
    Complaint,
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
from safetynet.domain.privacy import mask_text
from safetynet.domain.regions import region_subtree
from safetynet.domain.workdays import add_working_days, working_days_between
from safetynet.registry.model import Household

__all__ = [
    "ComplaintRow",
    "DeadlineRow",
    "RegisteredRelative",
    "RelativeCase",
    "complaint_region",
    "complaint_rows",
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


# The work queue reads a track's state and dates, not its documents: these JSON columns (the
# household as declared, the screening with its explanations, reports, reasons) are left unread,
# loaded only if something asks for them.
_DOCUMENTS = (
    defer(Application.household_json), defer(Application.screening),
    defer(Application.relative_matches), defer(Track.investigators),
    defer(Track.verification_report), defer(Track.opinion_reasons), defer(Track.explanation),
    defer(Track.refusal_reasons), defer(Track.gradual_exit_schedule),
)  # fmt: skip


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
        .options(*_DOCUMENTS)
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


# -- complaints --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintRow:
    """One household's complaint (投诉) as an office reads it: the household, the track it is
    about (if any), what was said and by whom, and the answer. Identity numbers in the text, the
    answer and the name of who lodged it are masked."""

    id: int
    household_id: int
    household_no: str
    region: str
    track_id: int | None
    application_id: int | None
    program: str | None
    text: str
    lodged_by: str
    lodged_on: dt.date
    answered: bool
    answer: str | None
    answered_on: dt.date | None
    # Working days from lodging to today (unanswered) or to the answer (answered).
    working_days: int
    # The day by which the office answers (None: lodged before complaints had a time limit), and
    # whether that day has passed unanswered.
    answer_due: dt.date | None = None
    overdue: bool = False

    @property
    def late(self) -> bool:
        """Answered after its time limit."""
        due, answered = self.answer_due, self.answered_on
        return due is not None and answered is not None and answered > due


def complaint_rows(session: Session, *, within: str, today: dt.date) -> list[ComplaintRow]:
    """The complaints of households registered in ``within`` or a region below it: the unanswered
    ones first, the oldest first, then the answered ones, the most recently answered first."""
    rows = session.execute(
        select(Complaint, Household, Track)
        .join(Household, Household.id == Complaint.household_id)
        .outerjoin(Track, Track.id == Complaint.track_id)
        .where(Household.region_code.in_(region_subtree(within)))
        .order_by(Complaint.id)
    )
    found = [
        ComplaintRow(
            complaint.id,
            household.id,
            household.household_no,
            household.region_code,
            complaint.track_id,
            track.application_id if track is not None else None,
            track.program if track is not None else None,
            mask_text(complaint.text),
            mask_text(complaint.lodged_by),
            complaint.lodged_on,
            complaint.status == "answered",
            mask_text(complaint.answer) if complaint.answer is not None else None,
            complaint.answered_on,
            working_days_between(complaint.lodged_on, complaint.answered_on or today),
            complaint.answer_due,
            complaint.answered_on is None
            and complaint.answer_due is not None
            and complaint.answer_due < today,
        )
        for complaint, household, track in rows
    ]
    waiting = sorted((r for r in found if not r.answered), key=lambda r: (r.lodged_on, r.id))
    answered = sorted(
        (r for r in found if r.answered),
        key=lambda r: (r.answered_on or r.lodged_on, r.id),
        reverse=True,
    )
    return waiting + answered


def complaint_region(session: Session, complaint_id: int) -> str | None:
    """The region of the household that lodged the complaint (None if there is no such one)."""
    return session.execute(
        select(Household.region_code)
        .join(Complaint, Complaint.household_id == Household.id)
        .where(Complaint.id == complaint_id)
    ).scalar_one_or_none()
