"""The township reserve (临时救助备用金): small emergency payments paid at once from its balance,
refused with the reason above the advance limit or the balance; the county tops it up."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from safetynet.audit.model import AuditEvent
from safetynet.cases.events import BenefitAwarded
from safetynet.db.engine import Database
from safetynet.errors import InputError
from safetynet.payments.awards import list_awards
from safetynet.payments.model import OneOffAward, ReserveEntry
from safetynet.payments.reserve import (
    ReserveRefusedError,
    TopUpReserve,
    reserve_balances,
    top_up_reserve,
)
from safetynet.payments.roll import roll_month
from safetynet.policy.parameters import ParameterTree, shipped_tree_with
from tests.payments.awards_helpers import AT, OFFICER, award, household, publish

TOWNSHIP = "110105001"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> ParameterTree:
    """The shipped parameters with an illustrative township advance limit of 3,000 yuan for
    110105 from 2025-01-01 (the national value is left to the locality)."""
    root: Path = tmp_path_factory.mktemp("locality")
    (root / "regions").mkdir()
    (root / "regions" / "110105.yaml").write_text(
        "region: '110105'\nparameters:\n"
        "  assistance.temporary_assistance.township_advance_limit:\n"
        "    provenance: I\n    values:\n      2025-01-01:\n        value: 3000\n"
        "        provenance: I\n        reference:\n          - title: illustrative, for tests\n",
        encoding="utf-8",
    )
    return shipped_tree_with(root)


def _top_up(db: Database, yuan: int) -> int:
    cmd = TopUpReserve(township=TOWNSHIP, amount_fen=yuan * 100, reason="quarterly allocation",
                       actor=OFFICER)  # fmt: skip
    return top_up_reserve(db, cmd, lambda: AT)


def _from_reserve(h: int, fen: int, case: int) -> BenefitAwarded:
    return award(h, fen, kind="advance", case_id=case, payee="township_reserve",
                 township=TOWNSHIP)  # fmt: skip


def _count(db: Database, model: type[OneOffAward] | type[ReserveEntry]) -> int:
    with db.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_reserve_pays_at_once_and_refuses_beyond_its_balance_or_the_limit(
    database: Database, tree: ParameterTree
) -> None:
    h = household(database)
    with pytest.raises(ReserveRefusedError, match="has no reserve"):
        publish(database, _from_reserve(h, 100_000, 1), tree=tree)
    assert _top_up(database, 5_000) == 500_000
    publish(database, _from_reserve(h, 300_000, 1), tree=tree)
    (row,) = reserve_balances(database)
    assert (row.balance_fen, row.topped_up_fen, row.paid_fen, row.payments) == (
        200_000,
        500_000,
        300_000,
        1,
    )
    with pytest.raises(ReserveRefusedError, match=r"holds 2000\.00 yuan, less than the 2500\.00"):
        publish(database, _from_reserve(h, 250_000, 2), tree=tree)
    with pytest.raises(ReserveRefusedError, match=r"above the township advance limit of 3000\.00"):
        publish(database, _from_reserve(h, 300_001, 3), tree=tree)
    assert (_count(database, OneOffAward), _count(database, ReserveEntry)) == (1, 2)
    assert _top_up(database, 1_000) == 300_000
    publish(database, _from_reserve(h, 250_000, 2), tree=tree)
    assert reserve_balances(database)[0].balance_fen == 50_000
    # paid from the reserve, never through the bank
    assert roll_month(database, "2025-09").awards_created == 0
    assert [r.state for r in list_awards(database)] == ["paid from the township reserve"] * 2
    with database.sessions() as session:
        events = session.scalars(
            select(AuditEvent.event).where(AuditEvent.entity.in_(("township_reserve",
                                                                  "one_off_award")))
        ).all()  # fmt: skip
    assert sorted(events) == ["OneOffAwardRecorded"] * 2 + ["ReserveToppedUp"] * 2


def test_without_a_local_limit_the_reserve_pays_nothing(database: Database) -> None:
    h = household(database)
    _top_up(database, 5_000)
    with pytest.raises(ReserveRefusedError, match="no township advance limit is set for 110105"):
        publish(database, _from_reserve(h, 10_000, 1))


def test_a_decision_after_a_reserve_advance_pays_the_remainder_through_the_bank(
    database: Database, tree: ParameterTree
) -> None:
    h = household(database)
    _top_up(database, 5_000)
    publish(database, _from_reserve(h, 300_000, 1), tree=tree)
    publish(database, award(h, 600_000, case_id=1, sequence=2), tree=tree)
    report = roll_month(database, "2025-09")
    assert (report.awards_created, report.awards_fen) == (1, 300_000)


def test_a_top_up_names_a_township_and_a_positive_amount(database: Database) -> None:
    with pytest.raises(InputError, match="9-digit township code"):
        top_up_reserve(database, TopUpReserve(township="110105", amount_fen=1, reason="r",
                                              actor=OFFICER), lambda: AT)  # fmt: skip
    with pytest.raises(InputError, match="positive"):
        top_up_reserve(database, TopUpReserve(township=TOWNSHIP, amount_fen=0, reason="r",
                                              actor=OFFICER), lambda: AT)  # fmt: skip
    assert reserve_balances(database) == []
