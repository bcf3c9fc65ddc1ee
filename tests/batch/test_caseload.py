"""Loading a snapshot's caseload (dibao, tekun, pensions in payment) into the registry: the rules core's amounts, the
snapshot's identifiers, once however often it runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select, text

from safetynet.audit.log import verify
from safetynet.batch import synth
from safetynet.batch.caseload import caseload_coverage, load_caseload
from safetynet.batch.runner import evaluate_county, month_dir, run_month
from safetynet.db.engine import Database
from safetynet.domain.identity import parse_identity_number
from safetynet.errors import InputError
from safetynet.policy.engine import caseload_programs, program
from safetynet.policy.screening import load_parameter_values
from safetynet.registry.county_data import read_county
from safetynet.registry.model import Asset, Enrolment, Household, IncomeItem, Membership, Person
from tests.payments.helpers import planned_rows

ROOT = Path(__file__).resolve().parents[2]
FALLBACKS = load_parameter_values(ROOT / "examples" / "illustrative_locality.yaml")
COUNTY = "310115"
MONTH = "2025-09"
ON = dt.date(2025, 9, 1)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("caseload") / "population"
    synth.generate(out, 6_000, [COUNTY], seed=7, on=ON)
    return out


def expected(snapshot: Path) -> dict[str, dict[int, int]]:
    """Household id -> monthly amount per caseload program (dibao, tekun and the pensions in
    payment), straight from the monthly run's county function."""
    data = read_county(snapshot, COUNTY)
    pop = data.population
    result = evaluate_county(data, ON, fallbacks=FALLBACKS).results.to_pydict()
    paid = {
        p: set(data.household_id[program(p).info.recipient_households(pop)].tolist())
        for p in caseload_programs()
    }
    found: dict[str, dict[int, int]] = {p: {} for p in caseload_programs()}
    for h, p, a in zip(
        result["household_id"], result["program"], result["amount_fen"], strict=True
    ):
        if a > 0 and p in paid and h in paid[p]:
            found[p][h] = a
    return found


def test_recipients_are_enrolled_with_the_rules_amount(database: Database, snapshot: Path) -> None:
    want = expected(snapshot)
    assert want["dibao"]  # the synthetic county has both caseloads
    assert want["tekun"]
    assert want["employee_pension"]  # and pensions in payment
    assert want["resident_pension"]
    report = load_caseload(database, snapshot, MONTH, fallbacks=FALLBACKS)
    for p in caseload_programs():
        assert report.enrolments(p) == len(want[p]), p
    with database.sessions() as session:
        got: dict[str, dict[int, int]] = {p: {} for p in caseload_programs()}
        for e in session.scalars(select(Enrolment)):
            assert (e.status, e.start_date, e.end_date) == ("active", ON, None)
            got[e.program][e.household_id] = e.amount_fen
        assert got == want
        households = set().union(*(set(w) for w in want.values()))
        assert session.scalar(select(func.count()).select_from(Household)) == len(households)
        data = read_county(snapshot, COUNTY)
        assert data.id_number is not None
        rows = np.flatnonzero(
            np.isin(data.household_id[data.population.household_of], list(households))
        )
        assert session.scalar(select(func.count()).select_from(Person)) == len(rows)
        assert report.persons == len(rows)
        person = session.get(Person, int(data.person_id[rows[0]]))
        assert person is not None
        assert person.id_number == data.id_number[rows[0]]
        identity = parse_identity_number(person.id_number, "id_number")
        assert person.birth_date == identity.birth_date
        assert session.scalar(
            select(func.count()).select_from(Membership).where(Membership.end_date.is_(None))
        ) == len(rows)
    with database.sessions() as session:
        assert verify(session) == []


def test_loading_again_adds_nothing(database: Database, snapshot: Path) -> None:
    first = load_caseload(database, snapshot, MONTH, fallbacks=FALLBACKS)
    again = load_caseload(database, snapshot, MONTH, fallbacks=FALLBACKS)
    assert (again.households, again.persons, again.enrolments("dibao")) == (0, 0, 0)
    assert again.counties[0].already_present == first.households + sum(
        first.counties[0].enrolments.values()
    )
    # New rows after an explicit-id load get fresh ids (PostgreSQL's sequences moved on).
    with database.sessions.begin() as session:
        now = dt.datetime.now(dt.UTC)
        added = Household(region_code=COUNTY, household_no="NEW-1", hukou_type="urban",
                           created_at=now, updated_at=now)  # fmt: skip
        session.add(added)
        session.flush()
        assert added.id > max(expected(snapshot)["dibao"])


def test_unknown_county_is_refused(database: Database, snapshot: Path) -> None:
    with pytest.raises(InputError, match="110105 is not in the snapshot"):
        load_caseload(database, snapshot, MONTH, only=["110105"])


def test_everyone_loads_every_household_but_enrols_only_the_caseload(
    database: Database, snapshot: Path
) -> None:
    want = expected(snapshot)
    report = load_caseload(database, snapshot, MONTH, fallbacks=FALLBACKS, everyone=True)
    data = read_county(snapshot, COUNTY)
    assert report.households == data.population.n_households
    assert report.persons == data.population.n_persons
    assert report.enrolments("dibao") == len(want["dibao"])
    assert report.enrolments("tekun") == len(want["tekun"])


def test_declared_income_and_assets_go_to_the_registry_once(
    database: Database, snapshot: Path
) -> None:
    data = read_county(snapshot, COUNTY)
    pop = data.population
    load_caseload(database, snapshot, MONTH, fallbacks=FALLBACKS, everyone=True)
    load_caseload(database, snapshot, MONTH, fallbacks=FALLBACKS, everyone=True)
    with database.sessions() as session:
        wages = dict(
            session.execute(
                select(IncomeItem.person_id, IncomeItem.amount_fen).where(
                    IncomeItem.kind == "wage", IncomeItem.month == MONTH
                )
            ).all()
        )
        deposits = dict(
            session.execute(
                select(Asset.household_id, func.sum(Asset.value_fen))
                .where(Asset.kind == "deposits")
                .group_by(Asset.household_id)
            ).all()
        )
        vehicles = session.scalar(select(func.sum(Asset.count)).where(Asset.kind == "vehicle"))
    declared = pop.p("wage_income")
    assert wages == {int(data.person_id[i]): int(declared[i]) for i in np.flatnonzero(declared > 0)}
    financial = pop.h("financial_assets")
    assert deposits == {
        int(data.household_id[i]): int(financial[i]) for i in np.flatnonzero(financial > 0)
    }
    assert vehicles == int(pop.h("vehicles").sum())


def test_coverage_sets_the_months_eligible_against_the_enrolled(
    database: Database, snapshot: Path, tmp_path: Path
) -> None:
    want = expected(snapshot)
    load_caseload(database, snapshot, MONTH, fallbacks=FALLBACKS)
    run_month(snapshot, MONTH, tmp_path, fallbacks=FALLBACKS)
    rows = {r.program: r for r in caseload_coverage(database, month_dir(tmp_path, MONTH))}
    assert set(rows) == set(caseload_programs())
    data = read_county(snapshot, COUNTY)
    result = evaluate_county(data, ON, fallbacks=FALLBACKS).results.to_pydict()
    paid: dict[str, set[int]] = {p: set() for p in caseload_programs()}
    for h, p, ok, a in zip(
        result["household_id"], result["program"], result["eligible"], result["amount_fen"],
        strict=True,
    ):  # fmt: skip
        if p in paid and ok and a > 0:
            paid[p].add(h)
    for program_id, row in rows.items():
        assert row.enrolled == len(want[program_id]), program_id
        # A household supported as tekun is not counted as dibao-eligible.
        extra = paid["tekun"] if program_id == "dibao" else set()
        assert row.eligible == len(paid[program_id] - extra), program_id
        assert row.ratio == (row.enrolled / row.eligible if row.eligible else 0.0)


def test_the_planner_knows_the_loaded_caseload(database: Database, snapshot: Path) -> None:
    """A caseload is loaded in bulk, then rolled and paid straight away: the tables it filled are
    planned as filled, not as the empty tables they were (ADR 0035)."""
    load_caseload(database, snapshot, MONTH, fallbacks=FALLBACKS)
    if database.dialect != "postgresql":
        return
    with database.sessions() as session:
        counted = {
            table: session.scalar(select(func.count()).select_from(text(table)))
            for table in ("households", "enrolments")
        }
    assert {table: planned_rows(database, table) for table in counted} == counted
