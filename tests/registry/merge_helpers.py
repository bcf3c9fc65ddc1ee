"""A registry with one person recorded twice (a mistyped identity number), each record with rows
in every area — a household and its enrolment, a payee account, contributions, alerts with a
payment hold, a register entry of a staff relative — and the queued pair of the two."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from safetynet.cases.model import StaffMember, StaffRelative
from safetynet.db.engine import Database
from safetynet.domain.identity import check_character
from safetynet.insurance.contributions import ContributionRecord
from safetynet.monitoring.alerts_model import Alert
from safetynet.payments.holds import PlaceHold, place_hold_in
from safetynet.payments.model import PayeeAccount
from safetynet.registry.duplicates_model import DuplicateModel, DuplicatePair
from safetynet.registry.model import Enrolment, Household, Membership, Person
from tests.registry.helpers import ACTOR

NOW = dt.datetime(2025, 10, 6, 9, 0, tzinfo=dt.UTC)
REGION = "310115"


def number(serial: str) -> str:
    first17 = f"{REGION}19700501{serial}"
    return first17 + check_character(first17)


KEPT_NUMBER, MERGED_NUMBER = number("123"), number("128")  # one digit mistyped


@dataclass(frozen=True)
class Twins:
    kept: int
    merged: int
    kept_household: int
    merged_household: int
    pair: int
    enrolment: int
    account: int
    duplicate_alert: int
    other_alert: int
    hold: int
    relative: int


def _person(id_number: str) -> Person:
    return Person(id_number=id_number, name="王秀英", sex="female",
                  birth_date=dt.date(1970, 5, 1), hukou_region_code=REGION, hukou_type="urban",
                  created_at=NOW, updated_at=NOW)  # fmt: skip


def _household(household_no: str) -> Household:
    return Household(region_code=REGION, household_no=household_no, hukou_type="urban",
                     created_at=NOW, updated_at=NOW)  # fmt: skip


def _alert(household: int, person: int, rule: str) -> Alert:
    return Alert(rule=rule, severity="high", county=REGION, office="township", action="recheck_household",
                 household_id=household, person_id=person, subject=f"person:{person}",
                 month="2025-09", raised_on=dt.date(2025, 9, 30), due_on=dt.date(2025, 10, 20),
                 evidence={}, status="open", created_at=NOW, version=1)  # fmt: skip


def twins(db: Database) -> Twins:
    """The two records of one person, each in its own household (the merged one enrolled in
    dibao), with rows in every area; and their queued pair."""
    with db.sessions.begin() as session:
        kept, merged = _person(KEPT_NUMBER), _person(MERGED_NUMBER)
        a, b = _household("A1"), _household("B1")
        session.add_all([kept, merged, a, b])
        session.flush()
        for person, household in ((kept, a), (merged, b)):
            session.add(Membership(person_id=person.id, household_id=household.id,
                                   relation="head", start_date=dt.date(2020, 1, 1)))  # fmt: skip
        enrolment = Enrolment(household_id=b.id, program="dibao", start_date=dt.date(2025, 1, 1),
                              amount_fen=98_050, status="active", version=1)  # fmt: skip
        account = PayeeAccount(household_id=b.id, holder_person_id=merged.id, bank_code="102",
                               account_number="6212260200012345678",
                               valid_from=dt.date(2025, 1, 1), created_at=NOW, source="test")  # fmt: skip
        session.add_all([enrolment, account])
        for person, month in ((kept, "2024-01"), (merged, "2024-01"), (merged, "2024-02")):
            session.add(ContributionRecord(person_id=person.id, scheme="employee_pension",
                                           region_code=REGION, month=month, base_fen=500_000,
                                           employer_fen=80_000, individual_fen=40_000,
                                           account_credit_fen=40_000, recorded_at=NOW))  # fmt: skip
        kept_alert = _alert(a.id, kept.id, "death")
        duplicate, other = _alert(b.id, merged.id, "death"), _alert(b.id, merged.id, "new_vehicle")
        session.add_all([kept_alert, duplicate, other])
        staff = StaffMember(name="张科长", role="county_approver", region_code=REGION)
        session.add(staff)
        session.flush()
        relative = StaffRelative(staff_id=staff.id, id_number=MERGED_NUMBER, relation="sister")
        model = DuplicateModel(trained_at=NOW, scope="test", persons=2, settings={})
        session.add_all([relative, model])
        session.flush()
        pair = DuplicatePair(person_id=kept.id, other_person_id=merged.id, match_probability=0.97,
                             match_weight=5.0, model_id=model.id, status="open", found_at=NOW,
                             reason="")  # fmt: skip
        session.add(pair)
        session.flush()
        hold, _ = place_hold_in(
            session,
            PlaceHold(household_id=b.id, from_month="2025-10", reason="alert: death",
                      actor=ACTOR, source="monitoring", alert_id=duplicate.id),
            NOW,
        )  # fmt: skip
        return Twins(kept.id, merged.id, a.id, b.id, pair.id, enrolment.id, account.id,
                     duplicate.id, other.id, hold, relative.id)  # fmt: skip
