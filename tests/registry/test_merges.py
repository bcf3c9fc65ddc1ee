"""A merge is followed by every area (``PersonsMerged`` wired in bootstrap): the merged person's
rows move to the person kept, the household left without members keeps no active enrolment, and
an alert the kept person already has is dismissed with its payment hold released."""

from __future__ import annotations

from sqlalchemy import select

from safetynet.audit.model import AuditEvent
from safetynet.bootstrap import bootstrap
from safetynet.cases.model import StaffRelative
from safetynet.db.engine import Database
from safetynet.insurance.contributions import ContributionRecord
from safetynet.monitoring.alerts_model import Alert
from safetynet.payments.model import PayeeAccount, PaymentHold
from safetynet.registry.duplicates import MergePersons
from safetynet.registry.model import Enrolment
from tests.registry.helpers import ACTOR
from tests.registry.merge_helpers import KEPT_NUMBER, NOW, twins


def test_a_merge_is_followed_by_every_area(database: Database) -> None:
    t = twins(database)
    bootstrap(database, clock=lambda: NOW).handle(
        MergePersons(t.pair, t.kept, ACTOR, "same person, a digit mistyped")
    )
    with database.sessions() as session:
        enrolment = session.get(Enrolment, t.enrolment)
        assert enrolment is not None
        assert (enrolment.status, enrolment.version) == ("suspended", 2)
        account = session.get(PayeeAccount, t.account)
        assert account is not None
        assert account.holder_person_id == t.kept
        contributions = sorted(
            (c.person_id, c.month) for c in session.scalars(select(ContributionRecord))
        )
        # the kept person's January stays theirs; the merged February moves, January stays
        assert contributions == sorted(
            [(t.kept, "2024-01"), (t.merged, "2024-01"), (t.kept, "2024-02")]
        )
        duplicate = session.get(Alert, t.duplicate_alert)
        other = session.get(Alert, t.other_alert)
        assert duplicate is not None
        assert other is not None
        assert (duplicate.person_id, duplicate.status, duplicate.outcome) == (
            t.kept,
            "resolved",
            "dismissed",
        )
        assert (other.person_id, other.subject, other.status) == (
            t.kept,
            f"person:{t.kept}",
            "open",
        )
        hold = session.get(PaymentHold, t.hold)
        assert hold is not None
        assert hold.released_at is not None  # its alert was dismissed as a duplicate
        relative = session.get(StaffRelative, t.relative)
        assert relative is not None
        assert relative.id_number == KEPT_NUMBER
        events = set(session.scalars(select(AuditEvent.event).where(AuditEvent.occurred_at == NOW)))
    assert {"PersonsMerged", "PayeeAccountsMoved", "ContributionRecordsMoved",
            "MonitoringRecordsMoved", "CaseRecordsRenamed", "AlertResolved"} <= events  # fmt: skip
