"""Queries of the case tables; no commits here (the unit of work commits)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import case, func, select

from safetynet.cases.model import (
    Appeal,
    Application,
    Death,
    JobAcceptance,
    JobRefusal,
    Recheck,
    StaffMember,
    StaffRelative,
    Track,
)
from safetynet.monitoring.alerts_model import Alert
from safetynet.registry.repository import SessionRepository

__all__ = ["RECHECK_TRACK_STATES", "CaseRepository"]

RECHECK_TRACK_STATES = ("paying", "suspended", "gradual_exit")


class CaseRepository(SessionRepository):
    def application(self, application_id: int) -> Application | None:
        return self.session.get(Application, application_id)

    def track(self, track_id: int) -> Track | None:
        return self.session.get(Track, track_id)

    def tracks_of(self, application_id: int) -> list[Track]:
        return list(
            self.session.scalars(
                select(Track).where(Track.application_id == application_id).order_by(Track.id)
            )
        )

    def appeal(self, appeal_id: int) -> Appeal | None:
        return self.session.get(Appeal, appeal_id)

    def appeals_of(self, track_id: int) -> list[Appeal]:
        return list(
            self.session.scalars(
                select(Appeal).where(Appeal.track_id == track_id).order_by(Appeal.id)
            )
        )

    def death(self, track_id: int, id_number: str) -> Death | None:
        return self.session.scalar(
            select(Death).where(Death.track_id == track_id, Death.id_number == id_number)
        )

    def job_refusals_of(self, track_id: int) -> list[JobRefusal]:
        return list(
            self.session.scalars(
                select(JobRefusal).where(JobRefusal.track_id == track_id).order_by(JobRefusal.id)
            )
        )

    def job_acceptances_of(self, track_id: int) -> list[JobAcceptance]:
        return list(
            self.session.scalars(
                select(JobAcceptance)
                .where(JobAcceptance.track_id == track_id)
                .order_by(JobAcceptance.id)
            )
        )

    def last_job_acceptance(self, track_id: int, id_number: str) -> JobAcceptance | None:
        return self.session.scalars(
            select(JobAcceptance)
            .where(JobAcceptance.track_id == track_id, JobAcceptance.id_number == id_number)
            .order_by(JobAcceptance.id.desc())
            .limit(1)
        ).first()

    def last_job_refusal(self, track_id: int, id_number: str) -> JobRefusal | None:
        return self.session.scalars(
            select(JobRefusal)
            .where(JobRefusal.track_id == track_id, JobRefusal.id_number == id_number)
            .order_by(JobRefusal.id.desc())
            .limit(1)
        ).first()

    def job_refusal_count(self, track_id: int, id_number: str) -> int:
        """The member's refusals in a row: those recorded since the last accepted offer."""
        accepted = self.last_job_acceptance(track_id, id_number)
        since = accepted.after_refusal_id if accepted is not None else 0
        return int(
            self.session.scalar(
                select(func.count(JobRefusal.id)).where(
                    JobRefusal.track_id == track_id,
                    JobRefusal.id_number == id_number,
                    JobRefusal.id > since,
                )
            )
            or 0
        )

    def alert(self, alert_id: int) -> Alert | None:
        return self.session.get(Alert, alert_id)

    def recheck_for_alert(self, alert_id: int) -> Recheck | None:
        return self.session.scalars(select(Recheck).where(Recheck.alert_id == alert_id)).first()

    def recheckable_track_of(self, household_id: int) -> int | None:
        """The household's track a re-check belongs to (paying, suspended or in gradual exit)."""
        return self.session.scalar(
            select(Track.id)
            .join(Application, Application.id == Track.application_id)
            .where(
                Application.household_id == household_id,
                Track.status.in_(RECHECK_TRACK_STATES),
            )
            .order_by(Track.id)
            .limit(1)
        )

    def rechecks_of(self, track_id: int) -> list[Recheck]:
        return list(
            self.session.scalars(
                select(Recheck).where(Recheck.track_id == track_id).order_by(Recheck.id)
            )
        )

    def staff_member(self, name: str, region: str) -> StaffMember | None:
        return self.session.scalars(
            select(StaffMember).where(StaffMember.name == name, StaffMember.region_code == region)
        ).one_or_none()

    def relatives_matching(
        self, id_numbers: Collection[str]
    ) -> list[tuple[StaffRelative, StaffMember]]:
        if not id_numbers:
            return []
        rows = self.session.execute(
            select(StaffRelative, StaffMember)
            .join(StaffMember, StaffMember.id == StaffRelative.staff_id)
            .where(StaffRelative.id_number.in_(list(id_numbers)))
            .order_by(StaffRelative.id)
        )
        return [(relative, staff) for relative, staff in rows]

    def spot_check_counts(self, region: str, program: str) -> tuple[int, int]:
        """Files of ``program`` the county of ``region`` has received, and how many it selected
        for a spot check."""
        received, selected = self.session.execute(
            select(
                func.count(Track.id),
                func.coalesce(func.sum(case((Track.spot_check_selected, 1), else_=0)), 0),
            )
            .join(Application, Application.id == Track.application_id)
            .where(
                Application.region_code == region,
                Track.program == program,
                Track.county_received_on.is_not(None),
            )
        ).one()
        return int(received), int(selected)
