"""Change requests of a household's facts: asked by one person, approved by another, audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from safetynet.audit.log import Actor
from safetynet.audit.model import AuditEvent
from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.db.messagebus import MessageBus
from safetynet.errors import InputError
from safetynet.payments.model import PayeeAccount
from safetynet.registry.change_model import ChangeRequest
from safetynet.registry.changes import (
    ApproveChange,
    ChangeDetails,
    ChangeRefusedError,
    RejectChange,
    RequestChange,
)
from safetynet.registry.model import Household, IncomeItem, Membership, Person
from tests.registry.helpers import family, id_number, person, run_import, write_csv

Clock = Callable[[], dt.datetime]
CLERK = Actor("clerk_li", "intake_clerk", "110105")
APPROVER = Actor("approver_wang", "county_approver", "110105")
HEAD = id_number("19800101", 11)
SPOUSE = id_number("19820202", 12)
OTHER_HEAD = id_number("19800101", 21)
NEWCOMER = id_number("20050505", 31)
COLUMNS = ["household_no", "name", "id_number", "relation", "region", "hukou_type"]
COLUMNS += ["wage_income", "income_month", "address"]


@pytest.fixture
def registry(database: Database, tmp_path: Path, fixed_clock: Clock) -> MessageBus:
    """Households H1 (head and spouse, a wage in 2025-08) and H2 (a head), and the bus."""
    second = person("H2", "head", name="李四", id_number=OTHER_HEAD, address="朝阳区幸福路8号")
    rows = [*family("H1", 11), second]
    rows[0] |= {"wage_income": "1500", "income_month": "2025-08", "address": "朝阳区和平街1号"}
    run_import(database, write_csv(tmp_path / "h.csv", rows, COLUMNS), fixed_clock)
    return bootstrap(database, clock=fixed_clock)


def _request(bus: MessageBus, kind: str, actor: Actor = CLERK, **details: Any) -> int:
    cmd = RequestChange(
        "110105", "H1", kind, ChangeDetails(**details), "据户主申报 declared", actor
    )
    return int(bus.handle(cmd))


def _entries(db: Database, event: str) -> list[AuditEvent]:
    with db.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.event == event)))


def _open_household(db: Database, number: str) -> str | None:
    with db.sessions() as session:
        return session.scalar(
            select(Household.household_no)
            .join(Membership, Membership.household_id == Household.id)
            .join(Person, Person.id == Membership.person_id)
            .where(Person.id_number == number, Membership.end_date.is_(None))
        )


def test_the_requester_may_not_approve_their_own_request(
    registry: MessageBus, database: Database
) -> None:
    request = _request(registry, "member_moves_out", id_number=SPOUSE, on=dt.date(2025, 9, 1))
    same_person = Actor(CLERK.name, "county_approver", "110105")  # another role, same person
    with pytest.raises(ChangeRefusedError, match="maker-checker"):
        registry.handle(ApproveChange(request, same_person))
    with pytest.raises(ChangeRefusedError, match="does not decide"):
        registry.handle(ApproveChange(request, Actor("clerk_zhou", "intake_clerk", "110105")))
    assert _open_household(database, SPOUSE) == "H1"
    with database.sessions() as session:
        assert session.get(ChangeRequest, request).status == "pending"  # type: ignore[union-attr]


def test_approving_a_move_out_ends_the_membership_with_audit_entries(
    registry: MessageBus, database: Database
) -> None:
    request = _request(registry, "member_moves_out", id_number=SPOUSE, on=dt.date(2025, 9, 1))
    assert _open_household(database, SPOUSE) == "H1"  # a request changes nothing yet
    registry.handle(ApproveChange(request, APPROVER, note="核实无误"))
    assert _open_household(database, SPOUSE) is None
    with database.sessions() as session:
        ended = session.scalars(select(Membership).where(Membership.end_date.is_not(None))).one()
        assert ended.end_date == dt.date(2025, 9, 1)
        decided = session.get(ChangeRequest, request)
        assert decided is not None
        assert (decided.status, decided.decided_by) == ("approved", APPROVER.name)
    [requested] = _entries(database, "ChangeRequested")
    assert requested.actor == CLERK.name
    assert SPOUSE not in str(requested.after)  # masked in the log
    [approved] = _entries(database, "ChangeApproved")
    [left] = _entries(database, "MemberLeft")
    assert approved.actor == left.actor == APPROVER.name
    with pytest.raises(ChangeRefusedError, match="decided once"):
        registry.handle(ApproveChange(request, Actor("approver_sun", "county_approver")))


def test_a_move_into_another_household_goes_through_move_person(
    registry: MessageBus, database: Database
) -> None:
    cmd = RequestChange(
        "110105",
        "H2",
        "member_moves_in",
        ChangeDetails(id_number=SPOUSE, relation="spouse", on=dt.date(2025, 9, 1)),
        "结婚迁入 moves in",
        CLERK,
    )
    request = int(registry.handle(cmd))
    registry.handle(ApproveChange(request, APPROVER))
    assert _open_household(database, SPOUSE) == "H2"
    assert [e.command for e in _entries(database, "MemberJoined")][-1] == "MovePerson"


def test_a_newcomer_is_registered_with_the_household_hukou(
    registry: MessageBus, database: Database
) -> None:
    with pytest.raises(InputError, match="name"):
        _request(
            registry,
            "member_moves_in",
            id_number=NEWCOMER,
            relation="child",
            on=dt.date(2025, 9, 1),
        )
    request = _request(
        registry,
        "member_moves_in",
        id_number=NEWCOMER,
        relation="child",
        on=dt.date(2025, 9, 1),
        name="张小明",
    )
    registry.handle(ApproveChange(request, APPROVER))
    assert _open_household(database, NEWCOMER) == "H1"
    with database.sessions() as session:
        newcomer = session.scalars(select(Person).where(Person.id_number == NEWCOMER)).one()
        assert (newcomer.name, newcomer.sex, newcomer.birth_date) == (
            "张小明",
            "male",
            dt.date(2005, 5, 5),
        )
        assert newcomer.hukou_region_code == "110105"


def test_a_request_that_conflicts_at_approval_is_refused_with_the_reason(
    registry: MessageBus, database: Database
) -> None:
    request = _request(registry, "member_moves_out", id_number=SPOUSE, on=dt.date(2025, 9, 1))
    # Meanwhile another request moved the spouse to H2 and was approved.
    other = RequestChange(
        "110105",
        "H2",
        "member_moves_in",
        ChangeDetails(id_number=SPOUSE, relation="spouse", on=dt.date(2025, 9, 2)),
        "另一申请 another request",
        CLERK,
    )
    registry.handle(ApproveChange(int(registry.handle(other)), APPROVER))
    with pytest.raises(ChangeRefusedError, match="not a member of household 110105/H1"):
        registry.handle(ApproveChange(request, APPROVER))
    assert _open_household(database, SPOUSE) == "H2"


def test_approving_an_income_change_corrects_it_and_payments_follow(
    registry: MessageBus, database: Database
) -> None:
    request = _request(
        registry,
        "income_change",
        id_number=HEAD,
        income_kind="wage",
        month="2025-08",
        amount_fen=220_000,
    )
    registry.handle(ApproveChange(request, APPROVER))
    with database.sessions() as session:
        amounts = session.scalars(select(IncomeItem.amount_fen)).all()
    assert amounts == [220_000]
    [corrected] = _entries(database, "IncomeCorrected")
    assert corrected.before == {"amount_fen": 150_000}
    assert corrected.after == {"amount_fen": 220_000, "change_request": request}


def test_an_income_changed_since_the_request_refuses_the_approval(registry: MessageBus) -> None:
    first = _request(
        registry, "income_change", id_number=HEAD, income_kind="wage", month="2025-08", amount_fen=1
    )
    second = _request(
        registry, "income_change", id_number=HEAD, income_kind="wage", month="2025-08", amount_fen=2
    )
    registry.handle(ApproveChange(first, APPROVER))
    with pytest.raises(ChangeRefusedError, match="was 150000 fen when requested and is 1 fen"):
        registry.handle(ApproveChange(second, APPROVER))


def test_approving_a_bank_account_change_records_it_in_payments(
    registry: MessageBus, database: Database
) -> None:
    with pytest.raises(InputError, match="bank category"):
        _request(
            registry,
            "bank_account_change",
            id_number=HEAD,
            bank_code="999",
            account_number="6222020000001234567",
            on=dt.date(2025, 10, 1),
        )
    request = _request(
        registry,
        "bank_account_change",
        id_number=HEAD,
        bank_code="102",
        account_number="6222 0200 0000 1234 567",
        on=dt.date(2025, 10, 1),
    )
    registry.handle(ApproveChange(request, APPROVER))
    with database.sessions() as session:
        account = session.scalars(select(PayeeAccount)).one()
    assert (account.account_number, account.valid_from) == (
        "6222020000001234567",
        dt.date(2025, 10, 1),
    )
    [changed] = _entries(database, "PayeeAccountChanged")
    assert "6222020000001234567" not in str(changed.after)
    assert (changed.after or {}).get("account") == "6222***********4567"
    # An account from the same day again: payments refuses the approval, nothing is written.
    again = _request(
        registry,
        "bank_account_change",
        id_number=SPOUSE,
        bank_code="103",
        account_number="6228480000007654321",
        on=dt.date(2025, 10, 1),
    )
    with pytest.raises(ChangeRefusedError, match="already has account"):
        registry.handle(ApproveChange(again, APPROVER))
    with database.sessions() as session:
        assert session.get(ChangeRequest, again).status == "pending"  # type: ignore[union-attr]
        assert len(session.scalars(select(PayeeAccount)).all()) == 1


def test_rejection_leaves_the_household_unchanged(registry: MessageBus, database: Database) -> None:
    request = _request(registry, "fact_change", field="address", value="朝阳区新街2号")
    with pytest.raises(InputError, match="reason"):
        registry.handle(RejectChange(request, "", APPROVER))
    with pytest.raises(ChangeRefusedError, match="maker-checker"):
        registry.handle(RejectChange(request, "不符合 wrong", Actor(CLERK.name, "county_approver")))
    registry.handle(RejectChange(request, "地址无法核实 cannot verify", APPROVER))
    with database.sessions() as session:
        household = session.scalars(select(Household).where(Household.household_no == "H1")).one()
        assert household.address == "朝阳区和平街1号"
        assert session.get(ChangeRequest, request).status == "rejected"  # type: ignore[union-attr]
    [rejected] = _entries(database, "ChangeRejected")
    assert rejected.actor == APPROVER.name
    with pytest.raises(ChangeRefusedError, match="decided once"):
        registry.handle(ApproveChange(request, APPROVER))


def test_a_fact_change_sets_a_member_fact(registry: MessageBus, database: Database) -> None:
    with pytest.raises(InputError, match="not a labour_capacity"):
        _request(registry, "fact_change", id_number=SPOUSE, field="labour_capacity", value="x")
    request = _request(
        registry, "fact_change", id_number=SPOUSE, field="labour_capacity", value="无"
    )
    registry.handle(ApproveChange(request, APPROVER))
    with database.sessions() as session:
        spouse = session.scalars(select(Person).where(Person.id_number == SPOUSE)).one()
    assert spouse.labour_capacity == "none"
    [updated] = _entries(database, "PersonUpdated")
    assert updated.after == {"labour_capacity": "none", "change_request": request}


@pytest.mark.parametrize(
    ("kind", "details", "field"),
    [
        ("member_moves_out", {"id_number": OTHER_HEAD, "on": dt.date(2025, 9, 1)}, "id_number"),
        ("member_moves_out", {"id_number": HEAD, "on": dt.date(2025, 9, 1)}, "id_number"),
        ("member_moves_in", {"id_number": SPOUSE, "relation": "child", "on": dt.date(2025, 9, 1)}, "id_number"),
        ("member_moves_in", {"id_number": NEWCOMER, "relation": "head", "on": dt.date(2025, 9, 1), "name": "甲"}, "relation"),
        ("income_change", {"id_number": HEAD, "income_kind": "bonus", "month": "2025-08", "amount_fen": 1}, "income_kind"),
        ("income_change", {"id_number": HEAD, "income_kind": "wage", "month": "2025-08", "amount_fen": 150_000}, "amount_fen"),
        ("income_change", {"id_number": HEAD, "income_kind": "wage", "month": "2025-08", "amount_fen": -1}, "amount_fen"),
        ("fact_change", {"field": "salary", "value": "1"}, "field"),
        ("fact_change", {"field": "address", "value": "朝阳区和平街1号"}, "value"),
        ("sideways", {}, "kind"),
    ],
)  # fmt: skip
def test_requests_that_cannot_be_made_name_the_field(
    registry: MessageBus, database: Database, kind: str, details: dict[str, Any], field: str
) -> None:
    with pytest.raises(InputError) as refused:
        _request(registry, kind, **details)
    assert refused.value.field == field
    with database.sessions() as session:
        assert session.scalars(select(ChangeRequest)).all() == []


def test_the_head_changes_in_two_approved_requests(
    registry: MessageBus, database: Database
) -> None:
    with pytest.raises(InputError, match="change the head's relation first"):
        _request(registry, "fact_change", id_number=SPOUSE, field="relation", value="户主")
    first = _request(registry, "fact_change", id_number=HEAD, field="relation", value="其他")
    registry.handle(ApproveChange(first, APPROVER))
    second = _request(registry, "fact_change", id_number=SPOUSE, field="relation", value="户主")
    registry.handle(ApproveChange(second, APPROVER))
    with database.sessions() as session:
        relations = dict(
            session.execute(
                select(Person.id_number, Membership.relation).join(
                    Membership, Membership.person_id == Person.id
                )
            ).all()
        )
    assert (relations[HEAD], relations[SPOUSE]) == ("other", "head")
    assert [e.actor for e in _entries(database, "MemberRelationChanged")] == [APPROVER.name] * 2
