"""Handlers of the case workflow: each command in one transaction with one audit entry.

A handler loads what it needs through the unit of work, asks ``workflow`` whether the step is
allowed and which deadlines it starts, writes, appends the audit entry and commits once; or it
raises and leaves nothing behind. A decision that starts or changes an enrolment hands the same
unit of work to the registry's enrolment handlers, which append their own entry and commit the
whole step together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm.exc import StaleDataError

from safetynet.audit.log import Actor, append
from safetynet.cases import commands as c
from safetynet.cases import events as e
from safetynet.cases.model import (
    Appeal,
    Application,
    Complaint,
    Death,
    JobAcceptance,
    JobRefusal,
    Objection,
    Recheck,
    StaffMember,
    StaffRelative,
    Track,
)
from safetynet.cases.numbering import next_number
from safetynet.cases.offices import office
from safetynet.cases.repository import CaseRepository
from safetynet.cases.workflow import (
    DECIDABLE,
    DEPARTMENTS,
    OPEN_STATES,
    PAYABLE_STATES,
    RECHECKABLE,
    ConcurrentUpdateError,
    DeadlineRules,
    Procedure,
    State,
    WorkflowError,
    add_months,
    first_day_of_next_month,
    month_end,
    month_of,
    procedure_for,
    require_state,
    took_part,
)
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.identity import mask_identity_number, parse_identity_number
from safetynet.domain.money import format_yuan
from safetynet.domain.regions import default_registry, validate_region_code
from safetynet.errors import InputError, UnknownNameError
from safetynet.policy.calculate import calculate, result_json
from safetynet.policy.engine import programs
from safetynet.policy.parameters import ParameterTree
from safetynet.policy.screening import screen
from safetynet.registry.handlers import (
    ChangeEnrolment,
    EnrolHousehold,
    change_enrolment,
    enrol_household,
)
from safetynet.registry.model import Enrolment, Household
from safetynet.registry.repository import RegistryRepository

__all__ = ["HANDLERS", "Clock", "ResolvedAlert", "handle", "open_recheck_of_alert"]

Clock = Callable[[], dt.datetime]
E = TypeVar("E", bound=e.Event)

# Kept out of the audit diff: large, and reproducible from the stored input and parameters.
_NOT_AUDITED = frozenset({"explanation", "verification_report", "version"})


# -- helpers ---------------------------------------------------------------------------------


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _snapshot(row: object) -> dict[str, Any]:
    return {
        attr.key: _json(getattr(row, attr.key))
        for attr in inspect(row).mapper.column_attrs
        if attr.key not in _NOT_AUDITED
    }


def _diff(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    changed = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def _facts(household: Mapping[str, Any], cmd: c.Command | None = None) -> dict[str, Any]:
    """The facts an amount was set on, for the audit entry (identity numbers masked there)."""
    facts: dict[str, Any] = {"household_facts": dict(household)}
    overrides = getattr(cmd, "overrides", None)
    if overrides:
        facts["parameter_overrides"] = dict(overrides)
    return facts


def _rules(app: Application, uow: UnitOfWork) -> DeadlineRules:
    return DeadlineRules(uow.parameters, app.region_code)


def _record(
    uow: UnitOfWork,
    cmd: c.Command,
    event: E,
    now: dt.datetime,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> E:
    append(
        uow.session,
        actor=cmd.actor,
        command=type(cmd).__name__,
        event=event.name,
        entity=event.entity,
        entity_id=event.entity_id,
        before=before,
        after=after,
        occurred_at=now,
    )
    return event


def _load(uow: UnitOfWork, cmd: c.TrackCommand, action: str) -> tuple[Track, Application]:
    track = uow.repo(CaseRepository).track(cmd.track_id)
    if track is None:
        raise UnknownNameError("track", str(cmd.track_id))
    if cmd.expected_version is not None and cmd.expected_version != track.version:
        raise ConcurrentUpdateError.changed_since_read(
            action,
            f"track {track.id}",
            track.status,
            cmd.expected_version,
            track.version,
            track.program,
        )
    app = uow.repo(CaseRepository).application(track.application_id)
    assert app is not None  # a foreign key guarantees it
    return track, app


@contextmanager
def _optimistic(track: Track, action: str) -> Iterator[None]:
    """Map a lost optimistic-locking race (``StaleDataError`` at flush) to a clear error."""
    subject, program, state = f"track {track.id}", track.program, track.status
    try:
        yield
    except StaleDataError:
        raise ConcurrentUpdateError(
            action,
            subject,
            state,
            "someone else changed it at the same time and their step was recorded first; "
            "reload it and try again",
            program,
        ) from None


def _not_before(track: Track, action: str, on: dt.date, earlier: dt.date | None, what: str) -> None:
    if earlier is not None and on < earlier:
        raise WorkflowError.for_track(track, action, f"{on} is before {what} ({earlier})")


def _commit_track_change(
    uow: UnitOfWork,
    cmd: c.TrackCommand,
    track: Track,
    before: Mapping[str, Any],
    event: E,
    now: dt.datetime,
    extra: Mapping[str, Any] | None = None,
    *,
    commit: bool = True,
) -> E:
    old_version = track.version
    uow.session.flush()  # the version check happens here
    b, a = _diff(before, _snapshot(track))
    b["version"], a["version"] = old_version, track.version
    _record(uow, cmd, event, now, b, a | dict(extra or {}))
    if commit:
        uow.commit()
    return event


def _household_id_numbers(uow: UnitOfWork, app: Application) -> set[str]:
    """Identity numbers of the household: its open members in the registry and the facts given."""
    numbers = {
        person.id_number
        for _, person in uow.repo(RegistryRepository)
        .open_members_of_households([app.household_id])
        .get(app.household_id, [])
    }
    for member in app.household_json.get("members", []):
        if isinstance(member, Mapping) and member.get("id_number"):
            numbers.add(str(member["id_number"]).upper())
    return numbers


def _relative_matches(uow: UnitOfWork, numbers: set[str]) -> list[dict[str, Any]]:
    return [
        {
            "staff_id": staff.id,
            "staff": staff.name,
            "staff_role": staff.role,
            "staff_region": staff.region_code,
            "relation": relative.relation,
            "id_number": mask_identity_number(relative.id_number),
        }
        for relative, staff in uow.repo(CaseRepository).relatives_matching(numbers)
    ]


def _household(uow: UnitOfWork, app: Application) -> Household:
    household = uow.session.get(Household, app.household_id)
    assert household is not None  # a foreign key guarantees it
    return household


def _month_end(day: dt.date) -> dt.date:
    return month_end(day)


# -- intake ----------------------------------------------------------------------------------


def submit_application(
    cmd: c.SubmitApplication, uow: UnitOfWork, clock: Clock
) -> e.ApplicationSubmitted:
    """Lodge the application, screen it against every program and open one track per program."""

    region = validate_region_code(cmd.region)
    default_registry().get(region)
    household = uow.repo(RegistryRepository).household(cmd.household_region, cmd.household_no)
    if household is None:
        raise UnknownNameError("household", f"{cmd.household_region}/{cmd.household_no}")
    outside = region != household.region_code
    if outside and not cmd.emergency and not cmd.outside_hukou_basis.strip():
        raise InputError(
            "outside_hukou_basis",
            f"the application is lodged in {region} but the household's hukou is in "
            f"{household.region_code}: say which rule allows it (e.g. dibao measures art. 5)",
        )
    lines = screen(cmd.household, cmd.on, region)
    screening = [
        {
            "program": line.program,
            "eligible": line.eligible,
            "amount_fen": line.amount_fen,
            **({"problem": line.problem} if line.problem else {}),
        }
        for line in lines
    ]
    wanted = _wanted_programs(cmd, [line.program for line in lines if line.eligible])
    now = clock()
    app = Application(
        household_id=household.id,
        region_code=region,
        hukou_region_code=household.region_code,
        lodged_outside_hukou=outside,
        outside_hukou_basis=cmd.outside_hukou_basis.strip()
        or ("emergency: assisted where it occurred" if outside else ""),
        emergency=cmd.emergency,
        lodged_on=cmd.on,
        submitted_by=cmd.actor.name,
        household_json=dict(cmd.household),
        screening=screening,
        relative_flag=False,
        relative_matches=[],
        created_at=now,
    )
    uow.repo(CaseRepository).add(app)
    uow.repo(CaseRepository).flush()
    matches = _relative_matches(uow, _household_id_numbers(uow, app))
    app.relative_flag = bool(matches)
    app.relative_matches = matches
    tracks = _open_tracks(uow, app, cmd, wanted)
    event = e.ApplicationSubmitted(app.id, tuple(t.id for t in tracks))
    after = {
        "household_id": household.id,
        "region_code": region,
        "lodged_on": cmd.on.isoformat(),
        "lodged_outside_hukou": outside,
        "outside_hukou_basis": app.outside_hukou_basis,
        "emergency": cmd.emergency,
        "relative_flag": app.relative_flag,
        "relative_matches": matches,
        "eligible_in_screening": [s["program"] for s in screening if s["eligible"]],
        "tracks": [
            {"id": t.id, "program": t.program, "department": t.department, "procedure": t.procedure}
            for t in tracks
        ],
    }
    _record(uow, cmd, event, now, None, after)
    uow.emit(event)  # outreach closes the household's open leads with this application
    uow.commit()
    return event


def _wanted_programs(cmd: c.SubmitApplication, eligible: list[str]) -> list[str]:
    """The programs applied for: those named (each known and applied for through the one door),
    else those the screening finds eligible; temporary assistance too in an emergency."""

    if cmd.programs is not None:
        known = programs()
        wanted = list(dict.fromkeys(cmd.programs))
        for program in wanted:
            if program not in known:
                raise UnknownNameError("program", program, f"known: {', '.join(sorted(known))}")
            if program not in DEPARTMENTS:
                raise InputError("programs", f"{program} is not applied for through the one door")
    else:
        wanted = [program for program in eligible if program in DEPARTMENTS]
    if cmd.emergency and "temporary_assistance" not in wanted:
        wanted.append("temporary_assistance")
    if not wanted:
        raise InputError(
            "programs", "the screening finds no program for this household: name the programs"
        )
    return wanted


def _open_tracks(
    uow: UnitOfWork, app: Application, cmd: c.SubmitApplication, wanted: list[str]
) -> list[Track]:
    """One submitted track per program of ``wanted`` (flushed: they have their ids)."""
    tracks = []
    for program in wanted:
        procedure = procedure_for(program, emergency=cmd.emergency)
        track = Track(
            application_id=app.id,
            program=program,
            procedure=procedure.value,
            department=DEPARTMENTS[program].value,
            status=State.SUBMITTED.value,
            devolved=cmd.devolved and procedure is Procedure.DIBAO,
            investigators=[],
            spot_check_selected=False,
        )
        uow.repo(CaseRepository).add(track)
        tracks.append(track)
    uow.repo(CaseRepository).flush()
    return tracks


def accept_application(
    cmd: c.AcceptApplication, uow: UnitOfWork, clock: Clock
) -> e.ApplicationAccepted:
    """Accept the application: every track's statutory clock starts."""
    app = uow.repo(CaseRepository).application(cmd.application_id)
    if app is None:
        raise UnknownNameError("application", str(cmd.application_id))
    if app.accepted_on is not None:
        raise WorkflowError(
            "accept", f"application {app.id}", "accepted", f"it was accepted on {app.accepted_on}"
        )
    if cmd.on < app.lodged_on:
        raise InputError("on", f"{cmd.on} is before the application was lodged ({app.lodged_on})")
    rules = _rules(app, uow)
    now = clock()
    app.accepted_on = cmd.on
    app.accepted_by = cmd.actor.name
    dues: dict[str, dict[str, Any]] = {}
    for track in uow.repo(CaseRepository).tracks_of(app.id):
        track.status = State.ACCEPTED.value
        track.accepted_by = cmd.actor.name
        due = rules.on_acceptance(Procedure(track.procedure), cmd.on, devolved=track.devolved)
        for name, value in due.items():
            setattr(track, name, value)
        dues[str(track.id)] = {"program": track.program} | {k: _json(v) for k, v in due.items()}
    uow.session.flush()
    event = e.ApplicationAccepted(app.id)
    _record(
        uow,
        cmd,
        event,
        now,
        {"accepted_on": None},
        {"accepted_on": cmd.on.isoformat(), "tracks": dues},
    )
    uow.commit()
    return event


# -- investigation and review ----------------------------------------------------------------


def start_investigation(
    cmd: c.StartInvestigation, uow: UnitOfWork, clock: Clock
) -> e.InvestigationStarted:
    action = "start the investigation of"
    track, app = _load(uow, cmd, action)
    with _optimistic(track, action):
        allowed = {State.ACCEPTED}
        if track.procedure == Procedure.EMERGENCY:
            allowed.add(State.ADVANCE_PAID)
        require_state(track, action, allowed)
        _not_before(track, action, cmd.on, app.accepted_on, "the acceptance")
        team = [name.strip() for name in dict.fromkeys(cmd.investigators) if name.strip()]
        if len(team) < 2:
            raise WorkflowError.for_track(
                track, action, "an investigation team has at least 2 people"
            )
        before = _snapshot(track)
        track.status = State.INVESTIGATING.value
        track.investigation_started_on = cmd.on
        track.investigators = sorted(set(track.investigators) | set(team))
        late = track.investigation_start_due is not None and cmd.on > track.investigation_start_due
        return _commit_track_change(
            uow, cmd, track, before, e.InvestigationStarted(track.id), clock(), {"late": late}
        )


def record_home_visit(cmd: c.RecordHomeVisit, uow: UnitOfWork, clock: Clock) -> e.HomeVisitRecorded:
    action = f"record a {cmd.level} home visit for"
    track, _ = _load(uow, cmd, action)
    with _optimistic(track, action):
        if cmd.level == "township":
            require_state(track, action, {State.INVESTIGATING})
        else:
            require_state(
                track,
                action,
                {
                    State.INVESTIGATING,
                    State.VERIFIED,
                    State.TOWNSHIP_OPINION,
                    State.NOTICE_POSTED,
                    State.NOTICE_CLOSED,
                },
            )
        if not [v for v in cmd.visitors if v.strip()]:
            raise InputError("visitors", "name who visited")
        _not_before(
            track, action, cmd.on, track.investigation_started_on, "the investigation start"
        )
        before = _snapshot(track)
        if cmd.level == "township":
            track.home_visit_on = cmd.on
            # Township visitors investigated the case: maker-checker keeps them from deciding it.
            track.investigators = sorted(set(track.investigators) | set(cmd.visitors))
        else:
            track.county_home_visit_on = cmd.on
        extra = {"visitors": list(cmd.visitors), "notes": cmd.notes}
        return _commit_track_change(
            uow, cmd, track, before, e.HomeVisitRecorded(track.id), clock(), extra
        )


def attach_verification_report(
    cmd: c.AttachVerificationReport, uow: UnitOfWork, clock: Clock
) -> e.VerificationReportAttached:
    action = "attach the verification report to"
    track, app = _load(uow, cmd, action)
    with _optimistic(track, action):
        require_state(track, action, {State.INVESTIGATING})
        if track.home_visit_on is None:
            raise WorkflowError.for_track(track, action, "the home visit must be recorded first")
        _not_before(
            track,
            action,
            cmd.cross_check_requested_on,
            track.investigation_started_on,
            "the investigation start",
        )
        started = cmd.cross_check_started_on or cmd.cross_check_requested_on
        if started < cmd.cross_check_requested_on:
            raise InputError("cross_check_started_on", "is before the request")
        before = _snapshot(track)
        track.status = State.VERIFIED.value
        track.verification_report = dict(cmd.report)
        track.cross_check_requested_on = cmd.cross_check_requested_on
        track.cross_check_start_due = _rules(app, uow).cross_check_start_due(
            cmd.cross_check_requested_on
        )
        track.cross_check_started_on = started
        return _commit_track_change(
            uow, cmd, track, before, e.VerificationReportAttached(track.id), clock()
        )


def give_township_opinion(
    cmd: c.GiveTownshipOpinion, uow: UnitOfWork, clock: Clock
) -> e.TownshipOpinionGiven:
    action = "give the township opinion on"
    track, app = _load(uow, cmd, action)
    with _optimistic(track, action):
        procedure = Procedure(track.procedure)
        if procedure is Procedure.EMERGENCY:
            raise WorkflowError.for_track(
                track, action, "emergency assistance is confirmed on the verification report"
            )
        require_state(track, action, {State.VERIFIED})
        reasons = [r.strip() for r in cmd.reasons if r.strip()]
        if not reasons:
            raise InputError("reasons", "an opinion gives its reasons")
        before = _snapshot(track)
        track.status = State.TOWNSHIP_OPINION.value
        track.township_opinion_on = cmd.on
        track.proposal = cmd.proposal
        track.opinion_reasons = reasons
        if procedure is Procedure.NO_NOTICE:
            # No public notice: the file goes to the county with the opinion.
            track.county_received_on = cmd.on
            track.county_decision_due = _rules(app, uow).county_decision_due(procedure, cmd.on)
        late = track.township_opinion_due is not None and cmd.on > track.township_opinion_due
        return _commit_track_change(
            uow, cmd, track, before, e.TownshipOpinionGiven(track.id), clock(), {"late": late}
        )


# -- public notice ---------------------------------------------------------------------------


def post_public_notice(
    cmd: c.PostPublicNotice, uow: UnitOfWork, clock: Clock
) -> e.PublicNoticePosted | e.TerminationNoticePosted:
    termination = cmd.purpose == "termination"
    action = "post the termination notice of" if termination else "post the public notice of"
    track, app = _load(uow, cmd, action)
    rules = _rules(app, uow)
    procedure = Procedure(track.procedure)
    with _optimistic(track, action):
        event: e.PublicNoticePosted | e.TerminationNoticePosted
        if termination:
            if procedure is not Procedure.TEKUN:
                raise WorkflowError.for_track(
                    track, action, "only a tekun termination is publicly posted"
                )
            require_state(track, action, {State.PAYING, State.SUSPENDED})
            event = e.TerminationNoticePosted(track.id)
            status = State.TERMINATION_NOTICE
        else:
            if not rules.has_public_notice(procedure, cmd.on):
                raise WorkflowError.for_track(
                    track, action, f"{track.program} has no public notice; the county decides next"
                )
            require_state(track, action, {State.TOWNSHIP_OPINION})
            _not_before(track, action, cmd.on, track.township_opinion_on, "the township opinion")
            event = e.PublicNoticePosted(track.id)
            status = State.NOTICE_POSTED
        before = _snapshot(track)
        track.status = status.value
        track.notice_posted_on = cmd.on
        track.notice_ends_on = rules.notice_ends(procedure, cmd.on, termination=termination)
        return _commit_track_change(uow, cmd, track, before, event, clock())


def record_objection(cmd: c.RecordObjection, uow: UnitOfWork, clock: Clock) -> e.ObjectionRecorded:
    """An objection during the notice sends the track back to investigation (re-investigation or
    democratic appraisal, then a new report, opinion and notice)."""
    action = "record an objection to"
    track, app = _load(uow, cmd, action)
    with _optimistic(track, action):
        require_state(track, action, {State.NOTICE_POSTED})
        _not_before(track, action, cmd.on, track.notice_posted_on, "the notice was posted")
        if track.notice_ends_on is not None and cmd.on > track.notice_ends_on:
            raise WorkflowError.for_track(
                track, action, f"the public notice ended on {track.notice_ends_on}"
            )
        if not cmd.summary.strip():
            raise InputError("summary", "say what the objection is")
        objection = Objection(
            track_id=track.id,
            lodged_on=cmd.on,
            summary=cmd.summary.strip(),
            recorded_by=cmd.actor.name,
        )
        uow.repo(CaseRepository).add(objection)
        uow.repo(CaseRepository).flush()  # the objection's id, before the track changes
        before = _snapshot(track)
        track.status = State.INVESTIGATING.value
        track.notice_posted_on = None
        track.notice_ends_on = None
        track.proposal = None
        renewed = _rules(app, uow).renewed_opinion_due(Procedure(track.procedure), cmd.on)
        if renewed is not None:
            track.township_opinion_due = renewed
        return _commit_track_change(
            uow,
            cmd,
            track,
            before,
            e.ObjectionRecorded(track.id),
            clock(),
            {"objection_id": objection.id, "summary": objection.summary},
        )


def close_public_notice(
    cmd: c.ClosePublicNotice, uow: UnitOfWork, clock: Clock
) -> e.PublicNoticeClosed:
    action = "close the public notice of"
    track, app = _load(uow, cmd, action)
    rules = _rules(app, uow)
    with _optimistic(track, action):
        require_state(track, action, {State.NOTICE_POSTED})
        if track.notice_ends_on is not None and cmd.on < track.notice_ends_on:
            raise WorkflowError.for_track(
                track, action, f"the public notice ends on {track.notice_ends_on}"
            )
        received = cmd.county_received_on or cmd.on
        if received < cmd.on:
            raise InputError("county_received_on", "is before the notice was closed")
        procedure = Procedure(track.procedure)
        selected = False
        if procedure is Procedure.TEKUN:
            # Select so that the county's share of visited files never drops below the ratio.
            files, visited = uow.repo(CaseRepository).spot_check_counts(
                app.region_code, track.program
            )
            selected = visited < rules.spot_check_ratio(received) * (files + 1)
        before = _snapshot(track)
        track.status = State.NOTICE_CLOSED.value
        if not track.devolved:
            track.county_received_on = received
            track.county_decision_due = rules.county_decision_due(procedure, received)
        track.spot_check_selected = selected
        return _commit_track_change(
            uow, cmd, track, before, e.PublicNoticeClosed(track.id), clock()
        )


# -- decisions -------------------------------------------------------------------------------


def _check_decider(track: Track, cmd: c.TrackCommand, action: str) -> None:
    allowed = DECIDABLE[Procedure(track.procedure)]
    if track.status not in allowed and track.decision is not None:
        raise WorkflowError.for_track(
            track,
            action,
            f"it was already decided ({track.decision}) on {track.decided_on} by "
            f"{track.decided_by}; a decision is recorded once (an appeal or a re-check changes it)",
        )
    require_state(track, action, allowed)
    name = cmd.actor.name
    if took_part(track.accepted_by, track.investigators, name):
        raise WorkflowError.for_track(
            track,
            action,
            f"{name} accepted or investigated this case; another official must decide it "
            "(maker-checker)",
        )


def _number_notice(uow: UnitOfWork, track: Track, app: Application, on: dt.date) -> None:
    """Give the decision's written notice its document number from the office's sequence of the
    decision's year, in the decision's own transaction (audited with it)."""
    issuer = office(app.region_code, track.department)
    track.notice_no = issuer.document_no(on.year, next_number(uow.session, issuer.key, on.year))


def confirm_track(cmd: c.ConfirmTrack, uow: UnitOfWork, clock: Clock) -> e.TrackConfirmed:
    """Approve: amount and explanation from the rules core; enrolment from the following month."""

    action = "confirm"
    track, app = _load(uow, cmd, action)
    with _optimistic(track, action):
        _check_decider(track, cmd, action)
        _check_county_visit(uow, track, app, action)
        program = programs()[track.program]
        monthly = program.period == "month"
        start = first_day_of_next_month(cmd.on) if monthly else cmd.on
        evaluation, region = calculate(
            program,
            app.household_json,
            start,
            app.region_code,
            cmd.overrides,
            explain=True,
            tree=uow.parameters,
        )
        amount = _eligible_amount(
            evaluation,
            track,
            action,
            f"the rules core finds the household not eligible on {start}: refuse it with "
            "reasons instead",
        )
        before = _snapshot(track)
        track.status = State.APPROVED.value
        track.decision = "approved"
        track.decided_on = cmd.on
        track.decided_by = cmd.actor.name
        track.amount_fen = amount
        track.explanation = result_json(evaluation, start, region, explain=True)
        track.first_payment_month = start.strftime("%Y-%m") if monthly else None
        _number_notice(uow, track, app, cmd.on)
        event = e.TrackConfirmed(track.id)
        extra = {"legal_basis": list(program.legal_basis)} | _facts(app.household_json, cmd)
        _commit_track_change(uow, cmd, track, before, event, clock(), extra, commit=False)
        if monthly:
            _enrol_confirmed(uow, app, track, cmd, start, amount, clock)  # commits the step
        else:
            # one-off or per-event: awarded once, the emergency advance deducted by payments
            sequence = 2 if track.advance_amount_fen else 1
            _award(uow, app, track, cmd, _Award("award", sequence, amount, "approved"), clock)
            uow.commit()
        return event


@dataclass(frozen=True)
class _Award:
    kind: str
    sequence: int
    amount_fen: int
    what: str


def _award(
    uow: UnitOfWork,
    app: Application,
    track: Track,
    cmd: c.ConfirmTrack | c.StartPayment,
    award: _Award,
    clock: Clock,
) -> None:
    """Publish the award of a one-off benefit (``BenefitAwarded``): payments records it and pays
    it once (a township named is the lodging county's)."""
    township = cmd.township.strip() if cmd.township else None
    if cmd.paid_to == "township_reserve" and (township is None or township[:6] != app.region_code):
        raise InputError(
            "township",
            f"a payment from the township reserve names a township of {app.region_code} "
            f"(9 digits, where the application was lodged), not {township!r}",
        )
    provider = cmd.provider if isinstance(cmd, c.ConfirmTrack) else None
    uow.emit(
        e.BenefitAwarded(
            program=track.program,
            case_id=track.id,
            sequence=award.sequence,
            kind=award.kind,
            household_id=app.household_id,
            amount_fen=award.amount_fen,
            payee=cmd.paid_to,
            provider=provider,
            township=township if cmd.paid_to == "township_reserve" else None,
            due_on=cmd.on,
            reason=f"track {track.id} ({track.program}) {award.what} on {cmd.on}",
            actor=cmd.actor,
            occurred_at=clock(),
        )
    )


def _check_county_visit(uow: UnitOfWork, track: Track, app: Application, action: str) -> None:
    """A household with a registered relative of staff (the register may have grown since the
    application was lodged: looked at again), or selected for the spot check, needs the
    county's home visit before a decision."""
    matches = _relative_matches(uow, _household_id_numbers(uow, app))
    if matches and not app.relative_flag:
        app.relative_flag = True
        app.relative_matches = matches
    if app.relative_flag and track.county_home_visit_on is None:
        raise WorkflowError.for_track(
            track,
            action,
            "the household includes a registered relative of staff: the county must visit "
            "the home first (dibao measures art. 11)",
        )
    if track.spot_check_selected and track.county_home_visit_on is None:
        raise WorkflowError.for_track(
            track,
            action,
            "it was selected for the county spot check: record the county home visit first",
        )


def _enrol_confirmed(
    uow: UnitOfWork,
    app: Application,
    track: Track,
    cmd: c.ConfirmTrack,
    start: dt.date,
    amount: int,
    clock: Clock,
) -> None:
    """Enrol the household from ``start`` (or make its current enrolment active at ``amount``);
    the registry's handler commits the whole step."""
    household = _household(uow, app)
    current = uow.repo(RegistryRepository).current_enrolment(household.id, track.program)
    if current is None:
        enrol_household(
            EnrolHousehold(
                region=household.region_code,
                household_no=household.household_no,
                program=track.program,
                start=start,
                amount_fen=amount,
                actor=cmd.actor,
            ),
            uow,
            clock,
        )
    else:
        change_enrolment(
            ChangeEnrolment(
                enrolment_id=current.id,
                reason=f"confirmed on track {track.id}",
                actor=cmd.actor,
                status="active",
                amount_fen=amount,
            ),
            uow,
            clock,
        )


def refuse_track(cmd: c.RefuseTrack, uow: UnitOfWork, clock: Clock) -> e.TrackRefused:
    """Refuse with reasons; the written notice is due within the refusal-notice limit."""
    action = "refuse"
    track, app = _load(uow, cmd, action)
    with _optimistic(track, action):
        _check_decider(track, cmd, action)
        reasons = [r.strip() for r in cmd.reasons if r.strip()]
        if not reasons:
            raise InputError("reasons", "a refusal gives its reasons")
        before = _snapshot(track)
        track.status = State.REFUSED.value
        track.decision = "refused"
        track.decided_on = cmd.on
        track.decided_by = cmd.actor.name
        track.refusal_reasons = reasons
        track.refusal_notice_due = _rules(app, uow).refusal_notice_due(
            Procedure(track.procedure), cmd.on
        )
        _number_notice(uow, track, app, cmd.on)
        if programs()[track.program].period != "month":
            # a one-off benefit refused (again, after an appeal): payments withdraws its award
            uow.emit(
                e.BenefitWithdrawn(
                    program=track.program,
                    case_id=track.id,
                    household_id=app.household_id,
                    due_on=cmd.on,
                    reason=f"track {track.id} ({track.program}) refused on {cmd.on}",
                    actor=cmd.actor,
                    occurred_at=clock(),
                )
            )
        return _commit_track_change(
            uow, cmd, track, before, e.TrackRefused(track.id), clock(), _facts(app.household_json)
        )


def notify_refusal(cmd: c.NotifyRefusal, uow: UnitOfWork, clock: Clock) -> e.RefusalNotified:
    action = "record the refusal notice of"
    track, _ = _load(uow, cmd, action)
    with _optimistic(track, action):
        require_state(track, action, {State.REFUSED})
        if track.refusal_notified_on is not None:
            raise WorkflowError.for_track(
                track, action, f"the notice was served on {track.refusal_notified_on}"
            )
        _not_before(track, action, cmd.on, track.decided_on, "the decision")
        before = _snapshot(track)
        track.refusal_notified_on = cmd.on
        late = track.refusal_notice_due is not None and cmd.on > track.refusal_notice_due
        return _commit_track_change(
            uow, cmd, track, before, e.RefusalNotified(track.id), clock(), {"late": late}
        )


# -- payment and after -----------------------------------------------------------------------


def start_payment(
    cmd: c.StartPayment, uow: UnitOfWork, clock: Clock
) -> e.PaymentStarted | e.AdvancePaid:
    action = "start payment of"
    track, app = _load(uow, cmd, action)
    with _optimistic(track, action):
        before = _snapshot(track)
        if track.procedure == Procedure.EMERGENCY and track.status == State.ACCEPTED:
            # 先行救助: pay first, complete the check and the paperwork afterwards.
            if cmd.advance_amount_fen is None or cmd.advance_amount_fen <= 0:
                raise InputError("advance_amount_fen", "give the amount paid in advance")
            track.status = State.ADVANCE_PAID.value
            track.advance_paid_on = cmd.on
            track.advance_amount_fen = cmd.advance_amount_fen
            track.paperwork_due = _rules(app, uow).paperwork_due(cmd.on)
            advance = _Award("advance", 1, cmd.advance_amount_fen, "emergency advance (先行救助)")
            _award(uow, app, track, cmd, advance, clock)
            return _commit_track_change(uow, cmd, track, before, e.AdvancePaid(track.id), clock())
        require_state(track, action, {State.APPROVED})
        month = cmd.on.strftime("%Y-%m")
        if track.first_payment_month is not None and month < track.first_payment_month:
            raise WorkflowError.for_track(
                track,
                action,
                f"payment starts in {track.first_payment_month}, the month after approval",
            )
        track.status = State.PAYING.value
        track.payment_started_on = cmd.on
        return _commit_track_change(uow, cmd, track, before, e.PaymentStarted(track.id), clock())


def schedule_recheck(cmd: c.ScheduleRecheck, uow: UnitOfWork, clock: Clock) -> e.RecheckScheduled:
    """Annual re-check for stable finances, half-yearly for irregular income with members able to
    work; an earlier re-check after a death is kept."""
    action = "schedule a re-check of"
    track, app = _load(uow, cmd, action)
    with _optimistic(track, action):
        require_state(track, action, {State.PAYING, State.SUSPENDED})
        due = _rules(app, uow).recheck_due(cmd.frequency, cmd.on)
        before = _snapshot(track)
        if not (
            track.recheck_reason == "death"
            and track.recheck_due is not None
            and track.recheck_due <= due
        ):
            track.recheck_due = due
            track.recheck_reason = cmd.frequency
        return _commit_track_change(uow, cmd, track, before, e.RecheckScheduled(track.id), clock())


def record_death(cmd: c.RecordDeath, uow: UnitOfWork, clock: Clock) -> e.DeathRecorded:
    action = "record a death in"
    track, app = _load(uow, cmd, action)
    with _optimistic(track, action):
        require_state(track, action, PAYABLE_STATES | {State.APPROVED})
        number = parse_identity_number(cmd.id_number).value
        if number not in _household_id_numbers(uow, app):
            raise InputError(
                "id_number", f"{mask_identity_number(number)} is not a member of the household"
            )
        recorded = uow.repo(CaseRepository).death(track.id, number)
        if recorded is not None:
            raise WorkflowError.for_track(
                track,
                action,
                f"the death of {mask_identity_number(number)} was already recorded (died on "
                f"{recorded.died_on}, by {recorded.recorded_by}); it is recorded once",
            )
        uow.repo(CaseRepository).add(
            Death(
                track_id=track.id,
                id_number=number,
                died_on=cmd.on,
                recorded_by=cmd.actor.name,
                recorded_at=clock(),
            )
        )
        due = _rules(app, uow).death_recheck_due(cmd.on)
        before = _snapshot(track)
        if track.recheck_due is None or due < track.recheck_due or track.recheck_reason != "death":
            track.recheck_due = min(due, track.recheck_due) if track.recheck_due else due
            track.recheck_reason = "death"
        extra = {"id_number": number, "died_on": cmd.on.isoformat()}
        return _commit_track_change(
            uow, cmd, track, before, e.DeathRecorded(track.id), clock(), extra
        )


def _open_recheck(
    uow: UnitOfWork,
    cases: CaseRepository,
    parameters: ParameterTree,
    cmd: c.OpenRecheck,
    now: dt.datetime,
) -> e.RecheckOpened:
    """Check and write the re-check with its audit entry, and emit ``RecheckOpened`` (monitoring
    resolves the alert, or links it to the track); the caller commits."""
    action = "open a re-check of"
    track = cases.track(cmd.track_id)
    if track is None:
        raise UnknownNameError("track", str(cmd.track_id))
    app = cases.application(track.application_id)
    assert app is not None  # a foreign key guarantees it
    require_state(track, action, RECHECKABLE)
    alert = cases.alert(cmd.alert_id)
    if alert is None or alert.household_id != app.household_id:
        # The same answer for an unknown alert and another household's: nothing leaks.
        raise InputError("alert_id", f"{cmd.alert_id} is not an alert about this household")
    if alert.status == "resolved" and alert.outcome != "recheck_started":
        raise WorkflowError.for_track(
            track, action, f"alert {alert.id} was resolved as {alert.outcome}"
        )
    if alert.track_id is not None and alert.track_id != track.id:
        raise WorkflowError.for_track(
            track, action, f"alert {alert.id} belongs to track {alert.track_id}"
        )
    existing = cases.recheck_for_alert(alert.id)
    if existing is not None:
        raise WorkflowError.for_track(
            track,
            action,
            f"alert {alert.id} already opened re-check {existing.id} (track {existing.track_id})",
        )
    if cmd.on < alert.raised_on:
        raise InputError("on", f"{cmd.on} is before the alert was raised ({alert.raised_on})")
    reason = cmd.reason.strip()
    if not reason:
        raise InputError("reason", "say what the re-check is to establish")
    limit = DeadlineRules(parameters, app.region_code).alert_recheck_due(cmd.on)
    if cmd.due is not None and not cmd.on <= cmd.due <= limit:
        raise InputError(
            "due",
            f"{cmd.due} is not between {cmd.on} and the time limit {limit} "
            "(common.procedure.monitoring.recheck_limit)",
        )
    recheck = Recheck(
        track_id=track.id,
        alert_id=alert.id,
        reason=reason,
        opened_on=cmd.on,
        opened_by=cmd.actor.name,
        due=cmd.due or limit,
        status="open",
    )
    cases.add(recheck)
    cases.flush()
    event = e.RecheckOpened(recheck.id, alert.id, track.id, cmd.actor, cmd.on, reason, now)
    after = _snapshot(recheck) | {"alert_rule": alert.rule, "time_limit": limit.isoformat()}
    _record(uow, cmd, event, now, None, after)
    uow.emit(event)
    return event


def open_recheck(cmd: c.OpenRecheck, uow: UnitOfWork, clock: Clock) -> e.RecheckOpened:
    """Open a re-check because of a monitoring alert; monitoring follows ``RecheckOpened`` and
    resolves an alert still open or assigned ``recheck_started`` in the same transaction (its
    own audit entry)."""
    _load(uow, cmd, "open a re-check of")  # unknown track, stale expected_version
    event = _open_recheck(uow, uow.repo(CaseRepository), uow.parameters, cmd, clock())
    uow.commit()
    return event


class ResolvedAlert(Protocol):
    """What ``open_recheck_of_alert`` reads of monitoring's ``AlertResolved``."""

    @property
    def alert_id(self) -> int: ...
    @property
    def household_id(self) -> int: ...
    @property
    def actor(self) -> Actor: ...
    @property
    def on(self) -> dt.date: ...
    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def opens_recheck(self) -> bool: ...
    @property
    def recheck_reason(self) -> str: ...


def open_recheck_of_alert(event: ResolvedAlert, uow: UnitOfWork) -> None:
    """Follows monitoring's ``AlertResolved``: an alert resolved ``recheck_started`` that asks
    for a re-check opens one on the household's paying track as ``OpenRecheck`` opens it (due
    date, audit entry), unless the alert already has one or the household no such track. Its
    ``RecheckOpened`` links the alert to the track."""
    if not event.opens_recheck:
        return
    cases = uow.repo(CaseRepository)
    if cases.recheck_for_alert(event.alert_id) is not None:
        return
    track_id = cases.recheckable_track_of(event.household_id)
    if track_id is None:
        return
    cmd = c.OpenRecheck(
        actor=event.actor,
        on=event.on,
        track_id=track_id,
        alert_id=event.alert_id,
        reason=event.recheck_reason,
    )
    _open_recheck(uow, cases, uow.parameters, cmd, event.occurred_at)


def _change_current_enrolment(
    uow: UnitOfWork,
    app: Application,
    track: Track,
    cmd: c.TrackCommand,
    clock: Clock,
    *,
    status: str,
    end: dt.date | None,
    reason: str,
) -> None:
    current = uow.repo(RegistryRepository).current_enrolment(app.household_id, track.program)
    if current is None:
        uow.commit()
        return
    if end is not None and end < current.start_date:
        end = current.start_date
    if end is not None and current.end_date is not None and end > current.end_date:
        end = current.end_date  # e.g. the end of a gradual-exit period: never pay longer
    change_enrolment(
        ChangeEnrolment(
            enrolment_id=current.id, reason=reason, actor=cmd.actor, status=status, end=end
        ),
        uow,
        clock,
    )  # commits the whole step


def suspend_track(cmd: c.SuspendTrack, uow: UnitOfWork, clock: Clock) -> e.TrackSuspended:
    action = "suspend"
    track, app = _load(uow, cmd, action)
    with _optimistic(track, action):
        if track.status == State.SUSPENDED:
            raise WorkflowError.for_track(
                track,
                action,
                f"payment was already suspended on {track.suspended_on}; a suspension is "
                "recorded once",
            )
        require_state(track, action, {State.PAYING})
        if not cmd.reason.strip():
            raise InputError("reason", "say why payment is suspended")
        before = _snapshot(track)
        track.status = State.SUSPENDED.value
        track.suspended_on = cmd.on
        track.end_reason = cmd.reason.strip()
        event = e.TrackSuspended(track.id)
        _commit_track_change(uow, cmd, track, before, event, clock(), commit=False)
        _change_current_enrolment(
            uow, app, track, cmd, clock, status="suspended", end=None, reason=cmd.reason.strip()
        )
        return event


def terminate_track(cmd: c.TerminateTrack, uow: UnitOfWork, clock: Clock) -> e.TrackTerminated:
    """End support; payment stops from the following month. Tekun needs its notice first."""
    action = "terminate"
    track, app = _load(uow, cmd, action)
    with _optimistic(track, action):
        if track.status == State.TERMINATED:
            raise WorkflowError.for_track(
                track,
                action,
                f"support was already ended on {track.terminated_on}; a termination is "
                "recorded once",
            )
        if track.procedure == Procedure.TEKUN:
            if track.status in (State.PAYING, State.SUSPENDED):
                raise WorkflowError.for_track(
                    track,
                    action,
                    "tekun support ends only after a public notice of the termination: post it "
                    "first (tekun measures arts 24-26)",
                )
            require_state(track, action, {State.TERMINATION_NOTICE})
            if track.notice_ends_on is not None and cmd.on < track.notice_ends_on:
                raise WorkflowError.for_track(
                    track, action, f"the termination notice ends on {track.notice_ends_on}"
                )
        else:
            require_state(track, action, {State.PAYING, State.SUSPENDED, State.GRADUAL_EXIT})
        if not cmd.reason.strip():
            raise InputError("reason", "say why support ends")
        before = _snapshot(track)
        track.status = State.TERMINATED.value
        track.terminated_on = cmd.on
        track.end_reason = cmd.reason.strip()
        event = e.TrackTerminated(track.id)
        _commit_track_change(uow, cmd, track, before, event, clock(), commit=False)
        _change_current_enrolment(
            uow, app, track, cmd, clock, status="ended", end=_month_end(cmd.on), reason=cmd.reason
        )
        return event


# -- re-checks, extension, gradual exit, job refusals ----------------------------------------


def _yuan(fen: int) -> str:
    return format_yuan(fen)


def _evaluate(
    uow: UnitOfWork, app: Application, track: Track, household: Mapping[str, Any], on: dt.date
) -> Any:
    """The rules core's evaluation of ``track``'s program for ``household`` on ``on``."""

    evaluation, _ = calculate(
        programs()[track.program], household, on, app.region_code, explain=True, tree=uow.parameters
    )
    return evaluation


def _eligible_amount(evaluation: Any, track: Track, action: str, refusal: str) -> int:
    """The amount the rules core gives the household; a household it finds not eligible
    is refused (409) with ``refusal``."""
    if not bool(evaluation.result.eligible[0]):
        raise WorkflowError.for_track(track, action, refusal)
    return int(evaluation.result.amount[0])


def _explained(app: Application, evaluation: Any, on: dt.date) -> Any:

    return result_json(evaluation, on, app.region_code, explain=True)


def _change_amount_from(
    uow: UnitOfWork,
    app: Application,
    track: Track,
    cmd: c.Command,
    clock: Clock,
    start: dt.date,
    amount: int,
    reason: str,
) -> None:
    """Pay ``amount`` from ``start`` (a first of month): an enrolment that has not started yet
    changes in place; a running one ends the day before and a new one starts on ``start``, so the
    months already paid keep their amount. Inside ``held_commits``: the caller commits."""
    current = uow.repo(RegistryRepository).current_enrolment(app.household_id, track.program)
    if current is None or current.amount_fen == amount:
        return
    if current.start_date >= start:
        change_enrolment(
            ChangeEnrolment(
                enrolment_id=current.id, reason=reason, actor=cmd.actor, amount_fen=amount
            ),
            uow,
            clock,
        )
        return
    status, end = current.status, current.end_date
    change_enrolment(
        ChangeEnrolment(
            enrolment_id=current.id,
            reason=reason,
            actor=cmd.actor,
            status="ended",
            end=start - dt.timedelta(days=1),
        ),
        uow,
        clock,
    )
    household = _household(uow, app)
    new_id = enrol_household(
        EnrolHousehold(
            region=household.region_code,
            household_no=household.household_no,
            program=track.program,
            start=start,
            amount_fen=amount,
            actor=cmd.actor,
            end=end,
        ),
        uow,
        clock,
    )
    if status != "active":
        change_enrolment(
            ChangeEnrolment(enrolment_id=new_id, reason=reason, actor=cmd.actor, status=status),
            uow,
            clock,
        )


def record_recheck(cmd: c.RecordRecheck, uow: UnitOfWork, clock: Clock) -> e.RecheckRecorded:
    """A periodic re-check: with new facts the amount is recalculated from the following month;
    the next re-check is scheduled (it also answers a re-check due after a death)."""
    action = "record a re-check of"
    track, app = _load(uow, cmd, action)
    with _optimistic(track, action):
        require_state(track, action, RECHECKABLE)
        _not_before(track, action, cmd.on, track.payment_started_on, "payment started")
        if not cmd.findings.strip():
            raise InputError("findings", "say what the re-check found")
        if track.status == State.GRADUAL_EXIT and cmd.household is not None:
            raise WorkflowError.for_track(
                track,
                action,
                "the household is in its gradual-exit period, which pays the amounts set when it "
                "started: record the findings only, or terminate it",
            )
        rules = _rules(app, uow)
        due = rules.recheck_due(cmd.frequency, cmd.on)
        before = _snapshot(track)
        extra: dict[str, Any] = {"findings": cmd.findings.strip()}
        closed = [
            r
            for r in uow.repo(CaseRepository).rechecks_of(track.id)
            if r.status == "open" and r.opened_on <= cmd.on
        ]
        for recheck in closed:
            recheck.status = "done"
            recheck.closed_on = cmd.on
            recheck.closed_by = cmd.actor.name
        if closed:
            extra["rechecks_closed"] = [r.id for r in closed]
        start = first_day_of_next_month(cmd.on)
        amount = track.amount_fen
        if cmd.household is not None:
            evaluation = _evaluate(uow, app, track, cmd.household, start)
            amount = _eligible_amount(
                evaluation,
                track,
                action,
                f"the rules core finds the household no longer eligible on {start}: start "
                "the gradual exit or terminate it",
            )
            extra |= {"amount_from": start.isoformat(), "old_amount_fen": track.amount_fen}
            track.amount_fen = amount
            track.explanation = _explained(app, evaluation, start)
            app.household_json = dict(cmd.household)
        track.last_recheck_on = cmd.on
        track.recheck_due = due
        track.recheck_reason = cmd.frequency
        extra |= _facts(app.household_json)
        event = e.RecheckRecorded(track.id)
        with uow.held_commits():
            _commit_track_change(uow, cmd, track, before, event, clock(), extra)
            if amount is not None and cmd.household is not None:
                _change_amount_from(
                    uow, app, track, cmd, clock, start, amount, f"re-check on track {track.id}"
                )
        uow.commit()
        return event


def extend_time_limit(cmd: c.ExtendTimeLimit, uow: UnitOfWork, clock: Clock) -> e.TimeLimitExtended:
    """Extend the overall limit to its extended length (dibao: 45 working days from acceptance),
    once, before it expires, with the reason recorded."""
    action = "extend the time limit of"
    track, _ = _load(uow, cmd, action)
    with _optimistic(track, action):
        require_state(track, action, OPEN_STATES - {State.SUBMITTED})
        if track.limit_extended_on is not None:
            raise WorkflowError.for_track(
                track, action, f"it was already extended on {track.limit_extended_on} (only once)"
            )
        if track.overall_extended_due is None or track.overall_due is None:
            what = (
                "the limit where confirmation is devolved to the township"
                if track.devolved
                else f"the {track.procedure} procedure's limit"
            )
            raise WorkflowError.for_track(track, action, f"{what} cannot be extended")
        if cmd.on > track.overall_due:
            raise WorkflowError.for_track(
                track, action, f"the time limit expired on {track.overall_due}"
            )
        reason = cmd.reason.strip()
        if not reason:
            raise InputError("reason", "say which special circumstance needs more time")
        before = _snapshot(track)
        # The extended limit keeps its provisional mark (the listener sees a plain date here).
        marks = dict(track.provisional_deadlines or {})
        track.overall_due = track.overall_extended_due
        if "overall_extended_due" in marks:
            marks["overall_due"] = marks["overall_extended_due"]
            track.provisional_deadlines = marks
        track.limit_extended_on = cmd.on
        track.limit_extension_reason = reason
        return _commit_track_change(uow, cmd, track, before, e.TimeLimitExtended(track.id), clock())


def _month_label(text: str, field: str) -> dt.date:
    try:
        first = month_of(text)
    except ValueError:
        raise InputError(field, f"{text!r} is not a month (YYYY-MM)") from None
    if first.strftime("%Y-%m") != text:
        raise InputError(field, f"{text!r} is not a month (YYYY-MM)")
    return first


def start_gradual_exit(
    cmd: c.StartGradualExit, uow: UnitOfWork, clock: Clock
) -> e.GradualExitStarted:
    """Income rose above the standard through work: the rules core (dibao's gradual-exit rule and
    its parameters) gives the months the household keeps dibao and the amount of each; payment
    ends after the last of them."""
    action = "start the gradual exit of"
    track, app = _load(uow, cmd, action)
    with _optimistic(track, action):
        if track.procedure != Procedure.DIBAO:
            raise WorkflowError.for_track(track, action, "only dibao has a gradual-exit period")
        require_state(track, action, {State.PAYING})
        risen = _month_label(cmd.income_rose_in, "income_rose_in")
        if risen > cmd.on:
            raise InputError("income_rose_in", f"is after the day of the step ({cmd.on})")
        if track.payment_started_on is not None and month_end(risen) < track.payment_started_on:
            raise InputError("income_rose_in", "is before payment started")
        current = track.amount_fen or 0
        facts = dict(cmd.household) | {
            "is_dibao_recipient": True,
            "income_rose_from_employment": True,
            "dibao_current_amount": _yuan(current),
        }
        schedule = _exit_schedule(uow, app, track, facts, risen, action)
        last = month_of(schedule[-1]["month"])
        before = _snapshot(track)
        track.status = State.GRADUAL_EXIT.value
        track.gradual_exit_from = cmd.income_rose_in
        track.gradual_exit_until = schedule[-1]["month"]
        track.gradual_exit_schedule = schedule
        track.end_reason = "gradual exit: income rose above the standard through work"
        app.household_json = dict(cmd.household)
        event = e.GradualExitStarted(track.id)
        with uow.held_commits():
            _commit_track_change(uow, cmd, track, before, event, clock(), _facts(facts))
            enrolment = uow.repo(RegistryRepository).current_enrolment(
                app.household_id, track.program
            )
            if enrolment is not None:
                reason = f"gradual exit on track {track.id} until {track.gradual_exit_until}"
                change_enrolment(
                    ChangeEnrolment(
                        enrolment_id=enrolment.id,
                        reason=reason,
                        actor=cmd.actor,
                        end=max(month_end(last), enrolment.start_date),
                    ),
                    uow,
                    clock,
                )
                _schedule_amounts(uow, enrolment, schedule, cmd.actor, clock(), reason)
        uow.commit()
        return event


def _exit_schedule(
    uow: UnitOfWork,
    app: Application,
    track: Track,
    facts: dict[str, Any],
    risen: dt.date,
    action: str,
) -> list[dict[str, Any]]:
    """Each month of the gradual exit from the month of the rise on, with the rules core's
    amount for it (up to ``assistance.dibao.gradual_exit_months`` after the first)."""
    schedule: list[dict[str, Any]] = []
    k = 0
    limit: int | None = None
    while limit is None or k <= limit:
        month = add_months(risen, k)
        evaluation = _evaluate(uow, app, track, facts | {"months_since_income_rose": k}, month)
        if limit is None:
            limit = evaluation.params.int("assistance.dibao.gradual_exit_months")
        in_exit = bool(evaluation.result.outputs["in_gradual_exit"][0])
        if not in_exit:
            if k == 0 and bool(evaluation.result.eligible[0]):
                raise WorkflowError.for_track(
                    track,
                    action,
                    "the rules core finds the household still eligible with these facts: "
                    "record a re-check instead",
                )
            if k == 0:
                raise WorkflowError.for_track(
                    track,
                    action,
                    "the rules core gives no gradual-exit period for these facts (income "
                    "must have risen through work): terminate it instead",
                )
            break
        schedule.append(
            {"month": month.strftime("%Y-%m"), "amount_fen": int(evaluation.result.amount[0])}
        )
        k += 1
    return schedule


def _schedule_amounts(
    uow: UnitOfWork,
    enrolment: Enrolment,
    schedule: list[dict[str, Any]],
    actor: Actor,
    now: dt.datetime,
    reason: str,
) -> None:
    """Say each month's amount of ``schedule``: payments follows ``AmountsScheduled`` and makes
    the enrolment's entitlement schedule say them (the roll pays exactly these amounts, and the
    difference for months already paid)."""
    months = tuple((str(item["month"]), int(item["amount_fen"])) for item in schedule)
    uow.emit(e.AmountsScheduled(enrolment.id, months, reason, actor, now))


def _job_offer_member(
    track: Track,
    app: Application,
    cmd: c.RecordJobRefusal | c.RecordJobAcceptance,
    action: str,
    verb: str,
) -> tuple[str, str, list[dict[str, Any]], int]:
    """Check a job offer recorded for a member of a paying or suspended dibao track: the
    member's identity number, masked, the members of the stored household facts (copies, to
    change) and that member's index among them. The job is ``verb`` ("offered", "accepted")."""
    if track.procedure != Procedure.DIBAO:
        raise WorkflowError.for_track(
            track, action, "the job-refusal rule is dibao's (2021 measures art. 34)"
        )
    require_state(track, action, {State.PAYING, State.SUSPENDED})
    number = parse_identity_number(cmd.id_number).value
    masked = mask_identity_number(number)
    members = [dict(m) for m in app.household_json.get("members", []) if isinstance(m, Mapping)]
    index = next(
        (i for i, m in enumerate(members) if str(m.get("id_number", "")).upper() == number),
        None,
    )
    if index is None:
        raise InputError(
            "id_number", f"{masked} is not a member in the household facts of the case"
        )
    if not cmd.offer.strip():
        raise InputError("offer", f"say which job was {verb}")
    return number, masked, members, index


def record_job_refusal(
    cmd: c.RecordJobRefusal, uow: UnitOfWork, clock: Clock
) -> e.JobRefusalRecorded:
    """Count a member's refused job offer; the rules core recalculates the amount with the count
    (at the refusal limit that member's share stops) and the new amount applies from the
    following month."""
    action = "record a refused job offer in"
    track, app = _load(uow, cmd, action)
    with _optimistic(track, action):
        number, masked, members, index = _job_offer_member(track, app, cmd, action, "offered")
        accepted = uow.repo(CaseRepository).last_job_acceptance(track.id, number)
        if accepted is not None and cmd.on < accepted.accepted_on:
            raise InputError(
                "on", f"{cmd.on} is before {masked} accepted a job offer ({accepted.accepted_on})"
            )
        count = uow.repo(CaseRepository).job_refusal_count(track.id, number) + 1
        uow.repo(CaseRepository).add(
            JobRefusal(
                track_id=track.id,
                id_number=number,
                refused_on=cmd.on,
                offer=cmd.offer.strip(),
                recorded_by=cmd.actor.name,
            )
        )
        members[index]["refused_job_offers"] = count
        facts = dict(app.household_json) | {"members": members}
        start = first_day_of_next_month(cmd.on)
        evaluation = _evaluate(uow, app, track, facts, start)
        limit = evaluation.params.int("assistance.dibao.job_refusal_limit")
        amount = int(evaluation.result.amount[0]) if bool(evaluation.result.eligible[0]) else 0
        before = _snapshot(track)
        extra: dict[str, Any] = {
            "id_number": number,  # masked by the audit log
            "offer": cmd.offer.strip(),
            "refusals": count,
            "limit": limit,
        } | _facts(facts)
        app.household_json = facts
        if count >= limit and amount != track.amount_fen:
            extra |= {"share_stopped_from": start.isoformat(), "old_amount_fen": track.amount_fen}
            track.amount_fen = amount
            track.explanation = _explained(app, evaluation, start)
        event = e.JobRefusalRecorded(track.id)
        with uow.held_commits():
            _commit_track_change(uow, cmd, track, before, event, clock(), extra)
            if "share_stopped_from" in extra:
                _change_amount_from(
                    uow,
                    app,
                    track,
                    cmd,
                    clock,
                    start,
                    amount,
                    f"member {masked} refused {count} suitable job offers (track {track.id})",
                )
        uow.commit()
        return event


def record_job_acceptance(
    cmd: c.RecordJobAcceptance, uow: UnitOfWork, clock: Clock
) -> e.JobAcceptanceRecorded:
    """A member accepted a suitable job offer: their refusals in a row count from zero again
    (the stored facts too). The amount does not change here: the new job's income, and a share
    stopped for refusals, are recalculated by the next re-check."""
    action = "record an accepted job offer in"
    track, app = _load(uow, cmd, action)
    with _optimistic(track, action):
        number, masked, members, index = _job_offer_member(track, app, cmd, action, "accepted")
        refused = uow.repo(CaseRepository).last_job_refusal(track.id, number)
        accepted = uow.repo(CaseRepository).last_job_acceptance(track.id, number)
        for earlier, what in (
            (refused.refused_on if refused else None, "refused an offer"),
            (accepted.accepted_on if accepted else None, "accepted an offer"),
        ):
            if earlier is not None and cmd.on < earlier:
                raise InputError("on", f"{cmd.on} is before {masked} {what} ({earlier})")
        in_a_row = uow.repo(CaseRepository).job_refusal_count(track.id, number)
        acceptance = JobAcceptance(
            track_id=track.id,
            id_number=number,
            accepted_on=cmd.on,
            offer=cmd.offer.strip(),
            after_refusal_id=refused.id if refused is not None else 0,
            recorded_by=cmd.actor.name,
        )
        uow.repo(CaseRepository).add(acceptance)
        uow.repo(CaseRepository).flush()
        members[index]["refused_job_offers"] = 0
        app.household_json = dict(app.household_json) | {"members": members}
        before = _snapshot(track)
        extra = {
            "id_number": number,  # masked by the audit log
            "offer": acceptance.offer,
            "acceptance_id": acceptance.id,
            "refusals_in_a_row_before": in_a_row,
            "refusals_in_a_row": 0,
        }
        return _commit_track_change(
            uow, cmd, track, before, e.JobAcceptanceRecorded(track.id), clock(), extra
        )


# -- appeals ---------------------------------------------------------------------------------

_APPEALABLE = frozenset(
    {
        State.APPROVED,
        State.REFUSED,
        State.PAYING,
        State.SUSPENDED,
        State.GRADUAL_EXIT,
        State.TERMINATION_NOTICE,
        State.TERMINATED,
    }
)


def lodge_appeal(cmd: c.LodgeAppeal, uow: UnitOfWork, clock: Clock) -> e.AppealLodged:
    action = f"lodge a {cmd.kind} against"
    track, app = _load(uow, cmd, action)
    require_state(track, action, _APPEALABLE)
    if not cmd.grounds.strip():
        raise InputError("grounds", "say what is appealed and why")
    if track.decided_on is not None and cmd.decision_known_on < track.decided_on:
        raise InputError("decision_known_on", f"is before the decision ({track.decided_on})")
    if cmd.on < cmd.decision_known_on:
        raise InputError("on", "is before the applicant knew of the decision")
    rules = _rules(app, uow)
    lodge_due = rules.appeal_lodge_due(cmd.kind, cmd.decision_known_on)
    if cmd.on > lodge_due:
        raise WorkflowError.for_track(
            track, action, f"the time limit for a {cmd.kind} ended on {lodge_due}"
        )
    appeal = Appeal(
        track_id=track.id,
        kind=cmd.kind,
        decision_known_on=cmd.decision_known_on,
        lodged_on=cmd.on,
        lodge_due=lodge_due,
        decision_due=rules.appeal_decision_due(cmd.kind, cmd.on),
        grounds=cmd.grounds.strip(),
        status="lodged",
    )
    uow.repo(CaseRepository).add(appeal)
    uow.repo(CaseRepository).flush()
    event = e.AppealLodged(appeal.id)
    _record(uow, cmd, event, clock(), None, _snapshot(appeal))
    uow.commit()
    return event


_FAVOURABLE = frozenset({"revoked", "varied"})


def _reopen(
    cmd: c.DecideAppeal, uow: UnitOfWork, clock: Clock, track: Track, app: Application
) -> dict[str, Any]:
    """Send the track back to the step the appeal decision names; returns the audit extra."""
    action = f"reopen at {cmd.reopen_at}"
    step = cmd.reopen_at
    procedure = Procedure(track.procedure)
    if step == "payment":
        require_state(track, action, {State.SUSPENDED, State.TERMINATED})
        if track.payment_started_on is None:
            raise WorkflowError.for_track(track, action, "payment never started")
        stopped = track.terminated_on
        track.status = State.PAYING.value
        track.suspended_on = None
        track.terminated_on = None
        track.end_reason = None
        current = uow.repo(RegistryRepository).current_enrolment(app.household_id, track.program)
        if current is not None:
            change_enrolment(
                ChangeEnrolment(
                    enrolment_id=current.id,
                    reason=f"appeal {cmd.appeal_id} decided: payment resumes",
                    actor=cmd.actor,
                    status="active",
                ),
                uow,
                clock,
            )
        elif stopped is not None and track.amount_fen is not None:
            household = _household(uow, app)
            enrol_household(
                EnrolHousehold(
                    region=household.region_code,
                    household_no=household.household_no,
                    program=track.program,
                    start=first_day_of_next_month(stopped),
                    amount_fen=track.amount_fen,
                    actor=cmd.actor,
                ),
                uow,
                clock,
            )
        return {"resumed_from": first_day_of_next_month(stopped).isoformat() if stopped else None}
    require_state(track, action, {State.REFUSED, State.APPROVED, State.PAYING})
    if step == "township_opinion" and procedure is Procedure.EMERGENCY:
        raise WorkflowError.for_track(
            track, action, "emergency assistance has no township opinion: reopen at decision"
        )
    track.decision = None
    track.decided_on = None
    track.decided_by = None
    track.notice_no = None
    track.refusal_reasons = None
    track.refusal_notice_due = None
    track.refusal_notified_on = None
    track.notice_posted_on = None
    track.notice_ends_on = None
    if step == "investigation":
        track.status = State.INVESTIGATING.value
        track.proposal = None
    elif step == "township_opinion":
        track.status = State.VERIFIED.value
        track.proposal = None
    else:
        (state,) = DECIDABLE[procedure]
        track.status = state.value
        if not track.devolved:
            track.county_received_on = cmd.on
            track.county_decision_due = _rules(app, uow).county_decision_due(procedure, cmd.on)
    return {"reopened_at": step}


def decide_appeal(cmd: c.DecideAppeal, uow: UnitOfWork, clock: Clock) -> e.AppealDecided:
    """Record the outcome; a decision in the applicant's favour (revoked, varied) sends the track
    back to the step it names, in the same transaction."""
    appeal = uow.repo(CaseRepository).appeal(cmd.appeal_id)
    if appeal is None:
        raise UnknownNameError("appeal", str(cmd.appeal_id))
    if appeal.status != "lodged":
        raise WorkflowError(
            "decide",
            f"appeal {appeal.id}",
            appeal.status,
            f"it was already decided ({appeal.outcome}) on {appeal.decided_on}; an appeal "
            "decision is recorded once",
        )
    if cmd.on < appeal.lodged_on:
        raise InputError("on", f"is before the appeal was lodged ({appeal.lodged_on})")
    reasons = [r.strip() for r in cmd.reasons if r.strip()]
    if not reasons:
        raise InputError("reasons", "a decision gives its reasons")
    favourable = cmd.outcome in _FAVOURABLE
    if favourable and cmd.reopen_at is None:
        raise InputError(
            "reopen_at",
            f"a {cmd.outcome} decision names the step the case goes back to (investigation, "
            "township_opinion, decision or payment)",
        )
    if not favourable and cmd.reopen_at is not None:
        raise InputError("reopen_at", f"an appeal {cmd.outcome} reopens nothing")
    now = clock()
    before = _snapshot(appeal)
    appeal.status = "decided"
    appeal.outcome = cmd.outcome
    appeal.decided_on = cmd.on
    appeal.reasons = reasons
    appeal.reopened_at = cmd.reopen_at
    uow.session.flush()
    event = e.AppealDecided(appeal.id)
    b, a = _diff(before, _snapshot(appeal))
    _record(uow, cmd, event, now, b, a | {"track_id": appeal.track_id})
    if cmd.reopen_at is not None:
        track = uow.repo(CaseRepository).track(appeal.track_id)
        assert track is not None  # a foreign key guarantees it
        app = uow.repo(CaseRepository).application(track.application_id)
        assert app is not None
        action = f"reopen at {cmd.reopen_at}"
        with _optimistic(track, action), uow.held_commits():
            track_before = _snapshot(track)
            old_version = track.version
            extra = _reopen(cmd, uow, clock, track, app)
            uow.session.flush()
            tb, ta = _diff(track_before, _snapshot(track))
            tb["version"], ta["version"] = old_version, track.version
            _record(
                uow,
                cmd,
                e.TrackReopened(track.id),
                now,
                tb,
                ta | extra | {"appeal_id": appeal.id},
            )
    uow.commit()
    return event


# -- register of staff relatives -------------------------------------------------------------


def register_staff_relative(
    cmd: c.RegisterStaffRelative, uow: UnitOfWork, clock: Clock
) -> e.StaffRelativeRegistered:
    number = parse_identity_number(cmd.id_number).value
    region = validate_region_code(cmd.staff_region, "staff_region")
    if not cmd.staff_name.strip():
        raise InputError("staff_name", "is required")
    if not cmd.relation.strip():
        raise InputError("relation", "is required")
    staff = uow.repo(CaseRepository).staff_member(cmd.staff_name.strip(), region)
    if staff is None:
        staff = StaffMember(name=cmd.staff_name.strip(), role=cmd.staff_role, region_code=region)
        uow.repo(CaseRepository).add(staff)
        uow.repo(CaseRepository).flush()
    if any(
        r.staff_id == staff.id for r, _ in uow.repo(CaseRepository).relatives_matching({number})
    ):
        raise InputError(
            "id_number", f"{mask_identity_number(number)} is already registered for {staff.name}"
        )
    relative = StaffRelative(staff_id=staff.id, id_number=number, relation=cmd.relation.strip())
    uow.repo(CaseRepository).add(relative)
    uow.repo(CaseRepository).flush()
    event = e.StaffRelativeRegistered(relative.id)
    after = {
        "staff_id": staff.id,
        "staff": staff.name,
        "staff_role": staff.role,
        "staff_region": region,
        "relation": relative.relation,
        "id_number": number,  # masked by the audit log
    }
    _record(uow, cmd, event, clock(), None, after)
    uow.commit()
    return event


MAX_COMPLAINT_LENGTH = 2000


def lodge_complaint(cmd: c.LodgeComplaint, uow: UnitOfWork, clock: Clock) -> e.ComplaintLodged:
    """Record a household's complaint; one about a track names a track of that household."""
    text = cmd.text.strip()
    if not text:
        raise InputError("text", "请写明投诉的内容 / say what the complaint is about")
    if len(text) > MAX_COMPLAINT_LENGTH:
        raise InputError(
            "text", f"至多{MAX_COMPLAINT_LENGTH}字 / at most {MAX_COMPLAINT_LENGTH} characters"
        )
    if cmd.track_id is not None:
        track = uow.session.get(Track, cmd.track_id)
        app = uow.session.get(Application, track.application_id) if track is not None else None
        if app is None or app.household_id != cmd.household_id:
            raise UnknownNameError("track", str(cmd.track_id))
    household = uow.session.get(Household, cmd.household_id)
    if household is None:
        raise UnknownNameError("household", str(cmd.household_id))
    complaint = Complaint(
        household_id=cmd.household_id,
        track_id=cmd.track_id,
        lodged_on=cmd.on,
        lodged_by=cmd.actor.name,
        text=text,
        status="lodged",
        answer_due=DeadlineRules(uow.parameters, household.region_code).complaint_answer_due(
            cmd.on
        ),
    )
    uow.session.add(complaint)
    uow.session.flush()
    event = e.ComplaintLodged(complaint.id)
    _record(uow, cmd, event, clock(), None, _snapshot(complaint))
    uow.commit()
    return event


def answer_complaint(cmd: c.AnswerComplaint, uow: UnitOfWork, clock: Clock) -> e.ComplaintAnswered:
    """Record the office's answer to a complaint; a complaint is answered once."""
    complaint = uow.session.get(Complaint, cmd.complaint_id)
    if complaint is None:
        raise UnknownNameError("complaint", str(cmd.complaint_id))
    if complaint.status == "answered":
        on = complaint.answered_on
        raise InputError(
            "complaint_id",
            f"已于{on}答复，不再重复答复 / complaint {complaint.id} was answered on {on}",
        )
    answer = cmd.answer.strip()
    if not answer:
        raise InputError("answer", "请写明答复的内容 / say what the answer is")
    if len(answer) > MAX_COMPLAINT_LENGTH:
        raise InputError(
            "answer", f"至多{MAX_COMPLAINT_LENGTH}字 / at most {MAX_COMPLAINT_LENGTH} characters"
        )
    if cmd.on < complaint.lodged_on:
        lodged = complaint.lodged_on
        raise InputError(
            "on", f"早于投诉日期{lodged} / is before the complaint was lodged ({lodged})"
        )
    before = _snapshot(complaint)
    complaint.status, complaint.answer, complaint.answered_on = "answered", answer, cmd.on
    b, a = _diff(before, _snapshot(complaint))
    event = _record(uow, cmd, e.ComplaintAnswered(complaint.id), clock(), b, a)
    uow.commit()
    return event


# -- dispatch --------------------------------------------------------------------------------

HANDLERS: Mapping[type[c.Command], Callable[..., e.Event]] = {
    c.SubmitApplication: submit_application,
    c.AcceptApplication: accept_application,
    c.StartInvestigation: start_investigation,
    c.RecordHomeVisit: record_home_visit,
    c.AttachVerificationReport: attach_verification_report,
    c.GiveTownshipOpinion: give_township_opinion,
    c.PostPublicNotice: post_public_notice,
    c.RecordObjection: record_objection,
    c.ClosePublicNotice: close_public_notice,
    c.ConfirmTrack: confirm_track,
    c.RefuseTrack: refuse_track,
    c.NotifyRefusal: notify_refusal,
    c.StartPayment: start_payment,
    c.ScheduleRecheck: schedule_recheck,
    c.RecordRecheck: record_recheck,
    c.ExtendTimeLimit: extend_time_limit,
    c.StartGradualExit: start_gradual_exit,
    c.RecordJobRefusal: record_job_refusal,
    c.RecordJobAcceptance: record_job_acceptance,
    c.OpenRecheck: open_recheck,
    c.RecordDeath: record_death,
    c.SuspendTrack: suspend_track,
    c.TerminateTrack: terminate_track,
    c.LodgeAppeal: lodge_appeal,
    c.DecideAppeal: decide_appeal,
    c.RegisterStaffRelative: register_staff_relative,
    c.LodgeComplaint: lodge_complaint,
    c.AnswerComplaint: answer_complaint,
}


def handle(cmd: c.Command, uow: UnitOfWork, clock: Clock) -> e.Event:
    """Run the handler of ``cmd`` in one transaction; returns the event it recorded."""
    try:
        handler = HANDLERS[type(cmd)]
    except KeyError:
        raise UnknownNameError("command", type(cmd).__name__) from None
    return handler(cmd, uow, clock)
