"""The API's service layer: reads shaped for responses and commands handed to the workflow.

Routes never touch the database; they call this. Every read takes the region subtree to look in,
so a row outside it is simply not found.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from safetynet.audit.log import Actor, mask, verify
from safetynet.audit.model import AuditEvent
from safetynet.bootstrap import bootstrap
from safetynet.cases import commands as c
from safetynet.cases.model import Appeal, Application, Track
from safetynet.cases.repository import CaseRepository
from safetynet.cases.views import (
    overdue_and_due_soon,
    region_subtree,
    relatives_report,
    staff_register,
)
from safetynet.cases.workflow import (
    RECHECKABLE,
    ConcurrentUpdateError,
    pending_deadlines,
    provisional_deadline,
)
from safetynet.db.engine import Database
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.regions import NATION_CODE
from safetynet.entrypoints.api.bounds import maximum_amount_fen
from safetynet.entrypoints.api.policy import in_region
from safetynet.entrypoints.api.schemas import (
    AppealPublic,
    ApplicationPublic,
    AuditProblemPublic,
    AuditReportPublic,
    DeadlinePublic,
    JobAcceptancePublic,
    JobRefusalPublic,
    PendingDeadline,
    RecheckPublic,
    RelativeCasePublic,
    StaffRelativePublic,
    TrackPublic,
)
from safetynet.policy.parameters import ParameterTree
from safetynet.registry.disclosure import person_in_region, read_full_id_number
from safetynet.registry.model import Household

__all__ = ["CaseService", "Clock"]

Clock = Callable[[], dt.datetime]
# Business dates are those of the offices, in China's time zone.
_LOCAL = ZoneInfo("Asia/Shanghai")


def _appeal_public(appeal: Appeal | None) -> AppealPublic:
    public = AppealPublic.model_validate(appeal)
    public.provisional_dates = sorted(appeal.provisional_deadlines or {}) if appeal else []
    return public


def _track_public(uow: UnitOfWork, track: Track) -> TrackPublic:
    public = TrackPublic.model_validate(track)
    public.explanation = mask(track.explanation) if track.explanation is not None else None
    deadlines = pending_deadlines(track)
    rechecks = uow.repo(CaseRepository).rechecks_of(track.id)
    public.rechecks = [
        RecheckPublic.model_validate(r).model_copy(
            update={"due_provisional": provisional_deadline(r, "due")}
        )
        for r in rechecks
    ]
    provisional = {name for name, _ in deadlines if provisional_deadline(track, name)}
    if track.status in RECHECKABLE:
        for r in rechecks:
            if r.status == "open":
                deadlines.append(("alert_recheck", r.due))
                if provisional_deadline(r, "due"):
                    provisional.add("alert_recheck")
    public.pending_deadlines = [
        PendingDeadline(deadline=name, due=due, provisional=name in provisional)
        for name, due in sorted(deadlines, key=lambda item: item[1])
    ]
    public.provisional_dates = sorted(track.provisional_deadlines or {})
    # Refusals in a row: an accepted offer starts a member's count again (it records the last
    # refusal before it).
    since: dict[str, list[int]] = {}
    acceptances = []
    for acceptance in uow.repo(CaseRepository).job_acceptances_of(track.id):
        since.setdefault(acceptance.id_number, []).append(acceptance.after_refusal_id)
        acceptances.append(
            JobAcceptancePublic(
                id_number=acceptance.masked_id_number,
                accepted_on=acceptance.accepted_on,
                offer=acceptance.offer,
            )
        )
    counts: dict[str, int] = {}
    last_reset: dict[str, int] = {}
    refusals = []
    for refusal in uow.repo(CaseRepository).job_refusals_of(track.id):
        number = refusal.id_number
        reset = max((b for b in since.get(number, []) if b < refusal.id), default=0)
        if reset != last_reset.get(number, 0):
            counts[number], last_reset[number] = 0, reset
        counts[number] = counts.get(number, 0) + 1
        refusals.append(
            JobRefusalPublic(
                id_number=refusal.masked_id_number,
                refused_on=refusal.refused_on,
                offer=refusal.offer,
                count=counts[number],
            )
        )
    public.job_refusals = refusals
    public.job_acceptances = acceptances
    return public


def _relatives_within(matches: list[dict[str, Any]], within: str) -> list[dict[str, Any]]:
    """The register matches of staff working in ``within`` or below it: the register of another
    county is not read from here (the application's ``relative_flag`` still says it is flagged)."""
    return [
        m for m in matches if m.get("staff_region") and in_region(within, str(m["staff_region"]))
    ]


class CaseService:
    def __init__(self, db: Database, clock: Clock, parameters: ParameterTree | None = None) -> None:
        self.db = db
        self.clock = clock
        self.parameters = parameters
        self.bus = bootstrap(db, clock=clock, parameters=parameters)

    def today(self) -> dt.date:
        return self.clock().astimezone(_LOCAL).date()

    def person_in_region(self, person_id: int, region: str) -> bool:
        return person_in_region(self.db, person_id, region)

    def read_full_id_number(self, actor: Actor, person_id: int, reason: str) -> str:
        """The person's full identity number, its reading (who, when, why) committed to the audit
        log first; ``UnknownNameError`` for a person unknown or outside the actor's region."""
        return read_full_id_number(
            self.db, actor=actor, person_id=person_id, reason=reason, clock=self.clock
        )

    def maximum_amount_fen(self, on: dt.date, region: str) -> int:
        """The largest amount accepted on ``on`` in ``region`` (common.intake.maximum_amount)."""
        return maximum_amount_fen(on, region, self.parameters)

    def _uow(self) -> UnitOfWork:
        return self.bus.unit_of_work()

    # -- scoping ----------------------------------------------------------------------------

    def application_region(self, application_id: int) -> str | None:
        with self.db.sessions() as session:
            return session.scalar(
                select(Application.region_code).where(Application.id == application_id)
            )

    def track_region(self, track_id: int) -> str | None:
        with self.db.sessions() as session:
            return session.scalar(
                select(Application.region_code)
                .join(Track, Track.application_id == Application.id)
                .where(Track.id == track_id)
            )

    def appeal_region(self, appeal_id: int) -> str | None:
        with self.db.sessions() as session:
            return session.scalar(
                select(Application.region_code)
                .join(Track, Track.application_id == Application.id)
                .join(Appeal, Appeal.track_id == Track.id)
                .where(Appeal.id == appeal_id)
            )

    # -- reads ------------------------------------------------------------------------------

    def _application_public(
        self,
        uow: UnitOfWork,
        app: Application,
        *,
        full_identity: bool,
        within: str,
        relatives: bool,
    ) -> ApplicationPublic:
        household = uow.session.get(Household, app.household_id)
        assert household is not None  # a foreign key guarantees it
        facts = app.household_json if full_identity else mask(app.household_json)
        return ApplicationPublic(
            id=app.id,
            version=app.version,
            household_region=household.region_code,
            household_no=household.household_no,
            region=app.region_code,
            hukou_region=app.hukou_region_code,
            lodged_outside_hukou=app.lodged_outside_hukou,
            outside_hukou_basis=app.outside_hukou_basis,
            emergency=app.emergency,
            lodged_on=app.lodged_on,
            accepted_on=app.accepted_on,
            submitted_by=app.submitted_by,
            accepted_by=app.accepted_by,
            household=facts,
            screening=app.screening,
            relative_flag=app.relative_flag,
            relative_matches=mask(_relatives_within(app.relative_matches, within))
            if relatives
            else [],
            identity_numbers_masked=not full_identity,
            tracks=[_track_public(uow, t) for t in uow.repo(CaseRepository).tracks_of(app.id)],
        )

    def application(
        self, application_id: int, within: str, *, full_identity: bool, relatives: bool
    ) -> ApplicationPublic | None:
        """The application if it was lodged in ``within`` or below it. ``relatives``: whether the
        reader may read the register of staff relatives (else the matches are left out)."""
        with self._uow() as uow:
            app = uow.repo(CaseRepository).application(application_id)
            if app is None or not in_region(within, app.region_code):
                return None
            return self._application_public(
                uow, app, full_identity=full_identity, within=within, relatives=relatives
            )

    def applications(
        self, within: str, *, offset: int, limit: int, relatives: bool
    ) -> list[ApplicationPublic]:
        """Applications lodged in ``within`` or below it, oldest first, identity numbers masked."""
        query = select(Application).order_by(Application.id).offset(offset).limit(limit)
        if within != NATION_CODE:
            query = query.where(Application.region_code.in_(region_subtree(within)))
        with self._uow() as uow:
            return [
                self._application_public(
                    uow, app, full_identity=False, within=within, relatives=relatives
                )
                for app in uow.session.scalars(query)
            ]

    def track(self, track_id: int, within: str) -> TrackPublic | None:
        with self._uow() as uow:
            track = uow.repo(CaseRepository).track(track_id)
            if track is None:
                return None
            app = uow.repo(CaseRepository).application(track.application_id)
            if app is None or not in_region(within, app.region_code):
                return None
            return _track_public(uow, track)

    def appeal(self, appeal_id: int, within: str) -> AppealPublic | None:
        region = self.appeal_region(appeal_id)
        if region is None or not in_region(within, region):
            return None
        with self._uow() as uow:
            return _appeal_public(uow.repo(CaseRepository).appeal(appeal_id))

    def appeals_of(self, track_id: int) -> list[AppealPublic]:
        """The appeals against a track (the caller has scoped the track)."""
        with self._uow() as uow:
            return [_appeal_public(a) for a in uow.repo(CaseRepository).appeals_of(track_id)]

    def staff_register(self, region: str) -> list[StaffRelativePublic]:
        with self.db.sessions() as session:
            return [StaffRelativePublic.model_validate(r) for r in staff_register(session, region)]

    def relatives_report(self, region: str) -> list[RelativeCasePublic]:
        with self.db.sessions() as session:
            rows = relatives_report(session, region)
        report = [RelativeCasePublic.model_validate(r) for r in rows]
        for case in report:
            case.matches = mask(_relatives_within(case.matches, region))
        return report

    def notice_pdf(self, track_id: int, copy: Literal["citizen", "file"] = "citizen") -> bytes:
        """The written notice of the track's decision: the citizen's copy, or the office's file
        copy with parameter ids and provenance flags (a track without a decision is refused)."""
        from safetynet.cases.notices import notice_data, render_notice

        with self.db.sessions() as session:
            data = notice_data(session, track_id, self.parameters)
        return render_notice(data, copy=copy)

    def deadlines(self, region: str, today: dt.date, within_days: int) -> list[DeadlinePublic]:
        with self.db.sessions() as session:
            rows = overdue_and_due_soon(session, region, today, within_days)
        return [DeadlinePublic.model_validate(row) for row in rows]

    def verify_audit(self) -> AuditReportPublic:
        with self.db.sessions() as session:
            problems = verify(session)
            count = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        return AuditReportPublic(
            entries=count,
            intact=not problems,
            problems=[AuditProblemPublic.model_validate(p) for p in problems],
        )

    # -- commands ---------------------------------------------------------------------------

    def submit(self, cmd: c.SubmitApplication) -> int:
        with self._uow() as uow:
            return int(self.bus.handle(cmd, uow).entity_id)

    def run(self, cmd: c.Command) -> int:
        """Hand ``cmd`` to its handler; returns the id of the row its event is about."""
        with self._uow() as uow:
            return int(self.bus.handle(cmd, uow).entity_id)

    def decide_appeal(self, cmd: c.DecideAppeal, expected_version: int) -> None:
        """Decide the appeal, if it is still the version the user saw."""
        with self._uow() as uow:
            appeal = uow.repo(CaseRepository).appeal(cmd.appeal_id)
            assert appeal is not None  # scoped by the caller
            if appeal.version != expected_version:
                raise ConcurrentUpdateError.changed_since_read(
                    "decide", f"appeal {appeal.id}", appeal.status, expected_version, appeal.version
                )
            self.bus.handle(cmd, uow)

    def accept(self, actor: Actor, on: dt.date, track_id: int, expected_version: int) -> None:
        """Accept the application of a track, if the track is still the version the user saw."""
        with self._uow() as uow:
            track = uow.repo(CaseRepository).track(track_id)
            assert track is not None  # scoped by the caller
            if track.version != expected_version:
                raise ConcurrentUpdateError.changed_since_read(
                    "accept",
                    f"track {track.id}",
                    track.status,
                    expected_version,
                    track.version,
                    track.program,
                )
            cmd = c.AcceptApplication(actor=actor, on=on, application_id=track.application_id)
            self.bus.handle(cmd, uow)
