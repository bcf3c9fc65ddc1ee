"""The statutory procedure as pure logic: track states, allowed steps, and deadline arithmetic.

Nothing here reads a database or a file: the parameter tree is passed in, dates are passed in,
and a track is anything with the attributes of ``TrackView``. The handlers
(``cases/handlers.py``) load, call these functions, write and audit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from safetynet.domain.regions import NATION_CODE, default_registry
from safetynet.domain.workdays import add_natural_days, add_working_days
from safetynet.errors import SafetyNetError
from safetynet.policy.engine import Department, Procedure, program, programs
from safetynet.policy.parameters import ParameterTree

__all__ = [
    "DECIDABLE",
    "DEPARTMENTS",
    "DEPARTMENT_TITLES_ZH",
    "PARAMETER_ROOT",
    "RECHECKABLE",
    "ConcurrentUpdateError",
    "DeadlineRules",
    "Department",
    "Procedure",
    "State",
    "TrackView",
    "WorkflowError",
    "add_months",
    "first_day_of_next_month",
    "month_end",
    "month_of",
    "pending_deadlines",
    "procedure_for",
    "provisional_deadline",
    "require_state",
]

PARAMETER_ROOT = "common.procedure"


class State(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    ADVANCE_PAID = "advance_paid"  # emergency temporary assistance: paid first, documented after
    INVESTIGATING = "investigating"
    VERIFIED = "verified"
    TOWNSHIP_OPINION = "township_opinion"
    NOTICE_POSTED = "notice_posted"
    NOTICE_CLOSED = "notice_closed"
    APPROVED = "approved"
    REFUSED = "refused"
    PAYING = "paying"
    SUSPENDED = "suspended"
    GRADUAL_EXIT = "gradual_exit"  # dibao kept for the gradual-exit period after income rose
    TERMINATION_NOTICE = "termination_notice"
    TERMINATED = "terminated"


class _Departments(Mapping[str, Department]):
    """The department responsible for each program a one-door application can fan out to, read
    from the programs' metadata (``ProgramInfo.department``; 社会救助暂行办法 arts 3, 28, 33, 37,
    42, 20: civil affairs leads and hands the specialised assistance to the department in
    charge). Programs without one (social insurance, the automatic price subsidy) are not applied
    for through the one door. Read on use, so a program registered later is included."""

    def _map(self) -> dict[str, Department]:
        return {
            pid: prog.info.department
            for pid, prog in programs().items()
            if prog.info.department is not None
        }

    def __getitem__(self, program: str) -> Department:
        return self._map()[program]

    def __iter__(self) -> Iterator[str]:
        return iter(self._map())

    def __len__(self) -> int:
        return len(self._map())


DEPARTMENTS: Mapping[str, Department] = _Departments()

DEPARTMENT_TITLES_ZH: Mapping[Department, str] = {
    Department.CIVIL_AFFAIRS: "民政局",
    Department.HOUSING: "住房和城乡建设局",
    Department.EDUCATION: "教育局",
    Department.MEDICAL_SECURITY: "医疗保障局",
    Department.HUMAN_RESOURCES: "人力资源和社会保障局",
    Department.EMERGENCY_MANAGEMENT: "应急管理局",
}
"""The usual name of each department at county level, as it signs a notice (localities may name
theirs differently; the region's name goes in front)."""

DECIDABLE: Mapping[Procedure, frozenset[State]] = {
    Procedure.DIBAO: frozenset({State.NOTICE_CLOSED}),
    Procedure.TEKUN: frozenset({State.NOTICE_CLOSED}),
    Procedure.NO_NOTICE: frozenset({State.TOWNSHIP_OPINION}),
    Procedure.GENERIC: frozenset({State.TOWNSHIP_OPINION}),
    Procedure.EMERGENCY: frozenset({State.VERIFIED}),
}
"""States in which the county (or the township, where devolved) may confirm or refuse."""

PAYABLE_STATES = frozenset(
    {State.PAYING, State.SUSPENDED, State.GRADUAL_EXIT, State.TERMINATION_NOTICE}
)
RECHECKABLE = frozenset({State.PAYING, State.SUSPENDED, State.GRADUAL_EXIT})
"""States in which a re-check may be opened (e.g. from a monitoring alert) and recorded."""
OPEN_STATES = frozenset(
    {
        State.SUBMITTED,
        State.ACCEPTED,
        State.ADVANCE_PAID,
        State.INVESTIGATING,
        State.VERIFIED,
        State.TOWNSHIP_OPINION,
        State.NOTICE_POSTED,
        State.NOTICE_CLOSED,
    }
)


def procedure_for(program_id: str, *, emergency: bool = False) -> Procedure:
    """The procedure a track of ``program_id`` follows (``ProgramInfo.procedure``; emergency
    temporary assistance is paid first and documented after)."""
    return program(program_id).info.procedure_for(emergency=emergency)


class WorkflowError(SafetyNetError):
    """A step the procedure does not allow now; names what it is about (``track 12``), its
    program and state, and what is needed first."""

    def __init__(
        self, action: str, subject: str, state: str, reason: str, program: str = ""
    ) -> None:
        self.action = action
        self.subject = subject
        self.state = state
        self.reason = reason
        self.program = program
        what = f"{program}, {state}" if program else state
        super().__init__(f"cannot {action} {subject} ({what}): {reason}")

    @classmethod
    def for_track(cls, track: TrackView, action: str, reason: str) -> WorkflowError:
        return cls(action, f"track {track.id}", track.status, reason, track.program)


class ConcurrentUpdateError(WorkflowError):
    """Someone else changed the track between reading and writing it (optimistic locking)."""

    @classmethod
    def changed_since_read(
        cls, action: str, subject: str, state: str, read: int, now: int, program: str = ""
    ) -> ConcurrentUpdateError:
        """The version the user read (``read``) is no longer the current one (``now``)."""
        return cls(
            action,
            subject,
            state,
            f"it has changed since you read it (version {read}, now {now}); reload it and try "
            "again",
            program,
        )


class TrackView(Protocol):
    """What the pure functions need to know of a track (the ``Track`` row satisfies it)."""

    id: int
    program: str
    procedure: str
    status: str
    devolved: bool
    investigation_start_due: dt.date | None
    township_opinion_due: dt.date | None
    county_decision_due: dt.date | None
    overall_due: dt.date | None
    refusal_notice_due: dt.date | None
    refusal_notified_on: dt.date | None
    paperwork_due: dt.date | None
    recheck_due: dt.date | None
    notice_ends_on: dt.date | None
    decided_on: dt.date | None
    gradual_exit_until: str | None


# What each command needs, said the way a caseworker would read it.
_NEEDS: Mapping[str, str] = {
    State.ACCEPTED: "the application must be accepted first",
    State.INVESTIGATING: "the household investigation must be started first",
    State.VERIFIED: "the verification report must be attached first",
    State.TOWNSHIP_OPINION: "the township must give its opinion first",
    State.NOTICE_POSTED: "the public notice must be posted first",
    State.NOTICE_CLOSED: "the public notice must be closed first",
    State.APPROVED: "the track must be approved first",
    State.PAYING: "payment must have started",
}


def took_part(accepted_by: str | None, investigators: Collection[str], name: str) -> bool:
    """Whether ``name`` accepted or investigated the case: maker-checker keeps them from
    deciding it (the handlers refuse; the workbench says so before anyone tries)."""
    return name == accepted_by or name in investigators


def require_state(track: TrackView, action: str, allowed: Collection[State]) -> None:
    """Raise ``WorkflowError`` unless the track is in one of ``allowed``, saying what is missing."""
    if track.status in allowed:
        return
    raise WorkflowError.for_track(track, action, _missing(track, allowed))


def _missing(track: TrackView, allowed: Collection[State]) -> str:
    status = State(track.status)
    if status is State.NOTICE_POSTED and State.NOTICE_CLOSED in allowed:
        ends = track.notice_ends_on.isoformat() if track.notice_ends_on else "?"
        return f"the public notice ends on {ends} and must be closed first"
    if status is State.REFUSED:
        return f"it was refused on {track.decided_on}"
    if status is State.TERMINATED:
        return "support has ended"
    if status is State.APPROVED and set(allowed) & OPEN_STATES:
        return f"it was already approved on {track.decided_on}"
    # The first allowed state in procedure order says what has to happen first.
    order = list(State)
    for state in sorted(allowed, key=order.index):
        if state in _NEEDS and order.index(state) > order.index(status):
            return _NEEDS[state]
    return f"the step needs the track to be {' or '.join(sorted(s.value for s in allowed))}"


# -- dates -----------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day where it is shorter)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    first_next = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = (first_next - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def first_day_of_next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def month_end(day: dt.date) -> dt.date:
    return first_day_of_next_month(day) - dt.timedelta(days=1)


def month_of(label: str) -> dt.date:
    """The first day of a ``YYYY-MM`` month."""
    year, month = label.split("-")
    return dt.date(int(year), int(month), 1)


@dataclass(frozen=True)
class DeadlineRules:
    """Deadline arithmetic from the ``common.procedure`` parameters of one region.

    Each limit is read as in force on the day of the step that starts it; working days follow the
    working-day calendar, and a date counted across a year with no official calendar yet is a
    provisional ``Deadline`` (``domain/workdays.py``).
    """

    tree: ParameterTree
    region: str

    def _value(self, name: str, on: dt.date) -> Any:
        lineage = (
            default_registry().lineage_codes(self.region)
            if self.region != NATION_CODE
            else [NATION_CODE]
        )
        return self.tree.resolve(f"{PARAMETER_ROOT}.{name}", on, lineage).value

    def working_days(self, name: str, start: dt.date) -> dt.date:
        return add_working_days(start, int(self._value(name, start)))

    def natural_days(self, name: str, start: dt.date) -> dt.date:
        return add_natural_days(start, int(self._value(name, start)))

    def months(self, name: str, start: dt.date) -> dt.date:
        return add_months(start, int(self._value(name, start)))

    def ratio(self, name: str, on: dt.date) -> Decimal:
        return Decimal(self._value(name, on))

    def flag(self, name: str, on: dt.date) -> bool:
        return bool(self._value(name, on))

    # The steps.

    def on_acceptance(
        self, procedure: Procedure, accepted_on: dt.date, *, devolved: bool
    ) -> dict[str, dt.date | None]:
        """Due dates that acceptance starts."""
        due: dict[str, dt.date | None] = {}
        if procedure is Procedure.DIBAO:
            due["investigation_start_due"] = self.working_days(
                "dibao.investigation_start", accepted_on
            )
            if devolved:
                due["overall_due"] = self.working_days("dibao.overall_limit_devolved", accepted_on)
                due["overall_extended_due"] = None
            else:
                due["overall_due"] = self.working_days("dibao.overall_limit", accepted_on)
                due["overall_extended_due"] = self.working_days(
                    "dibao.overall_limit_extended", accepted_on
                )
        elif procedure is Procedure.TEKUN:
            due["township_opinion_due"] = self.working_days("tekun.township_opinion", accepted_on)
        elif procedure is Procedure.NO_NOTICE:
            due["township_opinion_due"] = self.working_days(
                "unsupported_child_allowance.township_check", accepted_on
            )
        elif procedure is Procedure.GENERIC:
            due["overall_due"] = self.working_days("default.overall_limit", accepted_on)
        return due

    def cross_check_start_due(self, requested_on: dt.date) -> dt.date:
        return self.working_days("dibao.cross_check_start", requested_on)

    def has_public_notice(self, procedure: Procedure, on: dt.date) -> bool:
        if procedure is Procedure.NO_NOTICE:
            return self.flag("unsupported_child_allowance.has_public_notice", on)
        return procedure in (Procedure.DIBAO, Procedure.TEKUN)

    def notice_ends(
        self, procedure: Procedure, posted_on: dt.date, *, termination: bool
    ) -> dt.date:
        if termination:
            return self.natural_days("tekun.termination_notice", posted_on)
        key = "tekun.public_notice" if procedure is Procedure.TEKUN else "dibao.public_notice"
        return self.natural_days(key, posted_on)

    def renewed_opinion_due(self, procedure: Procedure, objection_on: dt.date) -> dt.date | None:
        """After an objection the tekun township gives a new opinion within the same limit."""
        if procedure is Procedure.TEKUN:
            return self.working_days("tekun.township_opinion", objection_on)
        return None

    def county_decision_due(self, procedure: Procedure, received_on: dt.date) -> dt.date:
        if procedure is Procedure.TEKUN:
            return self.working_days("tekun.county_confirmation", received_on)
        if procedure is Procedure.NO_NOTICE:
            return self.working_days("unsupported_child_allowance.county_confirmation", received_on)
        return self.working_days("dibao.county_decision", received_on)

    def refusal_notice_due(self, procedure: Procedure, decided_on: dt.date) -> dt.date:
        key = {
            Procedure.DIBAO: "dibao.refusal_notice",
            Procedure.TEKUN: "tekun.refusal_notice",
            Procedure.NO_NOTICE: "unsupported_child_allowance.refusal_notice",
        }.get(procedure, "default.refusal_notice")
        return self.working_days(key, decided_on)

    def paperwork_due(self, advance_paid_on: dt.date) -> dt.date:
        return self.working_days("temporary_assistance.emergency_paperwork", advance_paid_on)

    def spot_check_ratio(self, on: dt.date) -> Decimal:
        return self.ratio("tekun.spot_check_ratio", on)

    def recheck_due(self, frequency: str, start: dt.date) -> dt.date:
        if frequency == "annual":
            return self.months("dibao.recheck_interval_stable", start)
        if frequency == "half_yearly":
            return self.months("dibao.recheck_interval_irregular", start)
        raise ValueError(f"unknown re-check frequency {frequency!r}")

    def death_recheck_due(self, died_on: dt.date) -> dt.date:
        return self.months("dibao.recheck_after_death", died_on)

    def alert_recheck_due(self, opened_on: dt.date) -> dt.date:
        """A re-check opened because of a monitoring alert: working days from the day it is
        opened, counted as the alert's own time limit is (``add_working_days``)."""
        return self.working_days("monitoring.recheck_limit", opened_on)

    def complaint_answer_due(self, lodged_on: dt.date) -> dt.date:
        """A household's complaint: working days from the day it is lodged."""
        return self.working_days("complaint.answer_within", lodged_on)

    def appeal_lodge_due(self, kind: str, known_on: dt.date) -> dt.date:
        if kind == "litigation":
            return self.months("appeal.litigation_lodge", known_on)
        return self.natural_days("appeal.reconsideration_lodge", known_on)

    def appeal_decision_due(self, kind: str, lodged_on: dt.date) -> dt.date | None:
        if kind == "litigation":
            return None  # the court's own time limits; not tracked here
        return self.natural_days("appeal.reconsideration_decision", lodged_on)


def pending_deadlines(track: TrackView) -> list[tuple[str, dt.date]]:
    """The deadlines that still bind the track in its current state (name, due date)."""
    state = State(track.status)
    out: list[tuple[str, dt.date]] = []

    def add(name: str, due: dt.date | None) -> None:
        if due is not None:
            out.append((name, due))

    if state is State.ACCEPTED:
        add("investigation_start", track.investigation_start_due)
    if state in (State.ACCEPTED, State.INVESTIGATING, State.VERIFIED):
        add("township_opinion", track.township_opinion_due)
    if state in DECIDABLE[Procedure(track.procedure)] or state is State.NOTICE_CLOSED:
        add("county_decision", track.county_decision_due)
    if state in OPEN_STATES and state is not State.SUBMITTED:
        add("overall", track.overall_due)
    if state is State.ADVANCE_PAID or (
        track.procedure == Procedure.EMERGENCY and state in (State.INVESTIGATING, State.VERIFIED)
    ):
        add("emergency_paperwork", track.paperwork_due)
    if state is State.REFUSED and track.refusal_notified_on is None:
        add("refusal_notice", track.refusal_notice_due)
    if state in (State.PAYING, State.SUSPENDED):
        add("recheck", track.recheck_due)
    if state is State.GRADUAL_EXIT and track.gradual_exit_until is not None:
        add("gradual_exit_end", month_end(month_of(track.gradual_exit_until)))
    return sorted(out, key=lambda item: item[1])


# The stored column behind each name ``pending_deadlines`` gives (gradual_exit_end is a month's
# end, never counted in working days).
DEADLINE_FIELDS = {
    "investigation_start": "investigation_start_due",
    "township_opinion": "township_opinion_due",
    "county_decision": "county_decision_due",
    "overall": "overall_due",
    "emergency_paperwork": "paperwork_due",
    "refusal_notice": "refusal_notice_due",
    "recheck": "recheck_due",
}


def provisional_deadline(track: Any, name: str) -> bool:
    """Whether the deadline ``name`` of ``track`` (a name from ``pending_deadlines`` or a column)
    was computed across a year with no official calendar yet."""
    marks = getattr(track, "provisional_deadlines", None) or {}
    return DEADLINE_FIELDS.get(name, name) in marks
