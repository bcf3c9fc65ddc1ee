"""A recorded contribution history becomes pension inputs: months, gaps, index, account balance.

Every expected figure is computed by hand in the comments."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from safetynet.db.engine import Database
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.entrypoints.cli.contributions_cli import contributions_app
from safetynet.errors import CoverageError, InputError, UnknownNameError
from safetynet.insurance.contributions import ContributionRecord
from safetynet.insurance.history import (
    BatchSummary,
    MonthlyContribution,
    pension_from_history,
    pension_inputs,
    pensions_from_batch,
    population_from_batch,
    summarize,
    summarize_batch,
    summarize_with_parameters,
)
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import program
from safetynet.registry.model import Person
from tests.registry.helpers import id_number, person, run_import, write_csv

RATES = {2020: Decimal("0.0604"), 2021: Decimal("0.0669")}
FACTOR = Decimal("0.5415")
WAGES = {2020: 800_000, 2021: 900_000}  # fen per month [I]


def months(year: int, first: int, last: int) -> list[str]:
    return [f"{year}-{m:02d}" for m in range(first, last + 1)]


def two_years() -> list[MonthlyContribution]:
    # 2020: base 10,000, account 8 % = 800 a month; 2021 Jan-Jun: base 12,000, account 960
    return [MonthlyContribution(m, 1_000_000, 80_000, "110105") for m in months(2020, 1, 12)] + [
        MonthlyContribution(m, 1_200_000, 96_000, "110105") for m in months(2021, 1, 6)
    ]


def run(records: list[MonthlyContribution], as_of: str):  # type: ignore[no-untyped-def]
    return summarize(
        records,
        as_of=as_of,
        crediting_rate=RATES.__getitem__,
        current_year_factor=lambda _year: FACTOR,
        average_wage=lambda _region, month: WAGES[int(month[:4])],
    )


def test_months_index_and_balance_of_a_history_in_progress() -> None:
    s = run(two_years(), "2021-06")
    assert s.months == 18
    assert s.gaps == ()
    # Ī = (12 × 10,000/8,000 + 6 × 12,000/9,000) / 18 = (15 + 8) / 18 = 23/18 exactly
    assert s.average_index == Fraction(23, 18)
    assert s.average_index_rounded(4) == Decimal("1.2778")
    # 2020: credits 9,600.00; interest = 9,600 × 6.04 % × 0.5415 = 313.98336 → 313.98
    y2020, y2021 = s.years
    assert (y2020.credits_fen, y2020.interest_fen, y2020.closing_fen) == (960_000, 31_398, 991_398)
    # 2021 has not ended by June: credits 6 × 960 = 5,760.00, no interest yet
    assert (y2021.credits_fen, y2021.rate, y2021.interest_fen) == (576_000, None, 0)
    assert s.account_balance_fen == 991_398 + 576_000  # 15,673.98


def test_a_year_that_has_ended_earns_interest_on_the_opening_balance_and_its_credits() -> None:
    s = run(two_years(), "2021-12")
    # 9,913.98 × 6.69 % = 663.245262 → 663.25; 5,760 × 6.69 % × 0.5415 = 208.663776 → 208.66
    assert s.years[1].interest_fen == 66_325 + 20_866
    assert s.account_balance_fen == 991_398 + 576_000 + 66_325 + 20_866  # 16,545.89


def test_simple_year_end_interest_when_the_factor_is_zero() -> None:
    s = summarize(
        two_years(),
        as_of="2021-12",
        crediting_rate=RATES.__getitem__,
        current_year_factor=lambda _year: Decimal(0),
    )
    # 2020: no interest on its own credits; 2021: 9,600 × 6.69 % = 642.24
    assert [y.interest_fen for y in s.years] == [0, 64_224]
    assert s.average_index is None


def test_gaps_are_listed_never_filled() -> None:
    recorded = ["2020-01", "2020-02", "2020-05", "2020-06", "2020-09"]
    s = run([MonthlyContribution(m, 800_000, 64_000) for m in recorded], "2020-10")
    assert s.months == 5
    assert s.gaps == (("2020-03", "2020-04"), ("2020-07", "2020-08"))
    assert s.gap_months == 4
    assert s.average_index == 1  # every base equals the average wage


def test_a_gap_across_a_year_end() -> None:
    recorded = ["2020-11", "2021-03"]
    s = run([MonthlyContribution(m, 800_000, 0) for m in recorded], "2021-03")
    assert s.gaps == (("2020-12", "2021-02"),)


def test_overlapping_months_are_an_error_naming_both_places() -> None:
    records = [
        MonthlyContribution("2020-03", 800_000, 64_000, "110105"),
        MonthlyContribution("2020-03", 900_000, 72_000, "310115"),
    ]
    with pytest.raises(InputError, match=r"overlap: 2020-03 is recorded twice.*110105.*310115"):
        run(records, "2020-12")


def test_months_after_the_summary_month_and_bad_months_are_errors() -> None:
    with pytest.raises(InputError, match="after 2020-05"):
        run([MonthlyContribution("2020-06", 800_000, 0)], "2020-05")
    with pytest.raises(InputError, match="not a month"):
        run([MonthlyContribution("2020-13", 800_000, 0)], "2020-12")


def test_a_zero_base_has_no_index() -> None:
    with pytest.raises(InputError, match="no contribution index"):
        run([MonthlyContribution("2020-06", 0, 0)], "2020-12")


def test_an_empty_history() -> None:
    s = run([], "2025-01")
    assert (s.months, s.account_balance_fen, s.average_index) == (0, 0, None)


def test_pension_inputs_for_the_employee_pension_program() -> None:
    assert pension_inputs(run(two_years(), "2021-06")) == {
        "employee_pension_contribution_months": 18,
        "employee_pension_account_balance": "15673.98",
        "employee_pension_average_index": 12778,
    }


def test_with_the_parameters_of_the_rules_engine() -> None:
    # national crediting rates 2020 6.04 % [M]; the local average wage is an override [I]
    s = summarize_with_parameters(
        two_years()[:12],
        as_of="2020-12",
        overrides={"insurance.employee_pension.average_wage_monthly": 800_000},
    )
    assert s.average_index == Fraction(5, 4)
    assert s.account_balance_fen == 991_398


def test_without_a_local_average_wage_the_error_names_the_parameter() -> None:
    with pytest.raises(CoverageError, match=r"insurance\.employee_pension\.average_wage_monthly"):
        summarize_with_parameters(two_years()[:1], as_of="2020-12")


def test_before_2016_the_crediting_rate_is_local_and_must_be_given() -> None:
    records = [MonthlyContribution("2015-06", 500_000, 40_000)]
    with pytest.raises(CoverageError, match=r"insurance\.pension_account\.crediting_rate"):
        summarize_with_parameters(records, as_of="2016-01", with_index=False)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(0, 119), min_size=1, max_size=60, unique=True),
    st.integers(1, 10_000_000),
)
def test_one_more_month_of_contributions_never_lowers_the_balance_or_the_months(
    offsets: list[int], credit: int
) -> None:
    def month(k: int) -> str:
        return f"{2016 + k // 12}-{k % 12 + 1:02d}"

    rates = {y: Decimal("0.03") for y in range(2016, 2027)}
    base = [MonthlyContribution(month(k), 800_000, credit) for k in offsets[:-1]]
    more = [*base, MonthlyContribution(month(offsets[-1]), 800_000, credit)]

    def total(records: list[MonthlyContribution]) -> tuple[int, int]:
        s = summarize(
            records,
            as_of="2025-12",
            crediting_rate=rates.__getitem__,
            current_year_factor=lambda _y: FACTOR,
        )
        return s.months, s.account_balance_fen

    assert total(more) >= total(base)
    assert total(more)[0] == total(base)[0] + 1


# -- The pension from a recorded history, end to end (SQLite and PostgreSQL) -------------------

MAN = id_number("19640315", 11)  # a man born 15 March 1964: retires at 60 in March 2024
ON = dt.date(2024, 4, 1)
PENSION_PARAMS: dict[str, Any] = {  # illustrative local values [I], engine form (fen, Decimal)
    "insurance.employee_pension.average_wage_monthly": 800_000,
    "insurance.employee_pension.pension_base_monthly": 800_000,
    "insurance.employee_pension.transitional_coefficient": Decimal("0.012"),
}
RECORDED_AT = dt.datetime(2025, 9, 15, 8, 30, tzinfo=dt.UTC)


def put_records(
    db: Database, who: str, rows: list[tuple[str, int, str]], tmp_path: Path, clock: Any
) -> None:
    """Register ``who`` (a one-person household) and write records (month, base fen, region);
    employer 16 %, individual 8 % = the account credit."""
    run_import(db, write_csv(tmp_path / "h.csv", [person("H1", id_number=who)]), clock)
    with db.sessions() as session:
        found = session.scalars(select(Person).where(Person.id_number == who)).one()
        for month, base, region in rows:
            session.add(
                ContributionRecord(
                    person_id=found.id,
                    scheme="employee_pension",
                    region_code=region,
                    month=month,
                    base_fen=base,
                    employer_fen=base * 16 // 100,
                    individual_fen=base * 8 // 100,
                    account_credit_fen=base * 8 // 100,
                    recorded_at=RECORDED_AT,
                )
            )
        session.commit()


def career() -> list[tuple[str, int, str]]:
    # 2023: Jan-Jun and Oct-Dec at 8,000 (gap Jul-Sep); 2024: Jan-Feb at 12,000; and one
    # record in May 2024, after the date of the calculation
    return (
        [(m, 800_000, "110105") for m in months(2023, 1, 6) + months(2023, 10, 12)]
        + [(m, 1_200_000, "110105") for m in months(2024, 1, 2)]
        + [("2024-05", 1_200_000, "110105")]
    )


def test_the_pension_is_calculated_from_the_recorded_history(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], dt.datetime]
) -> None:
    put_records(database, MAN, career(), tmp_path, fixed_clock)
    with UnitOfWork(database.sessions) as uow:
        result = pension_from_history(
            uow,
            MAN,
            ON,
            inputs={"employee_pension_deemed_months": 240},
            overrides=PENSION_PARAMS,
        )
    s = result.summary
    # N = 9 + 2 = 11 recorded months up to April 2024; May 2024 is after the date, not used
    assert (s.months, result.months_after_date) == (11, 1)
    assert s.gaps == (("2023-07", "2023-09"),)
    # Ī = (9 × 8,000/8,000 + 2 × 12,000/8,000) / 11 = 12/11 = 1.090909… → 1.0909
    assert s.average_index == Fraction(12, 11)
    # 2023: credits 9 × 640 = 5,760; interest 5,760 × 3.97 % × 0.5415 = 123.825888 → 123.83;
    # 2024 (not ended): + 2 × 960 → 5,883.83 + 1,920 = 7,803.83
    assert s.account_balance_fen == 780_383
    answer = result.to_json()
    assert answer["person"]["id_number"] == MAN[:3] + "*" * 11 + MAN[-4:]
    assert MAN not in str(answer)
    assert answer["person"]["employee_pension_contribution_months"] == 11
    assert answer["person"]["employee_pension_average_index"] == 10_909
    assert answer["history"]["gaps"] == [{"from": "2023-07", "to": "2023-09", "months": 3}]
    assert answer["history"]["months_after_date"] == 1
    assert answer["history"]["average_index_exact"] == "12/11"
    steps = {e["step"]: e["value"] for e in answer["explanation"]}
    # basic = 8,000 × (1 + 1.0909)/2 × (11 + 240)/12 × 1 % = 800,000 × 20,909 × 251 / 24,000,000
    #       = 5,248,159 / 30 = 174,938.63 fen → 1,749.39
    assert steps["basic_pension"] == "1749.39"
    # account = 7,803.83 ÷ 139 (age 60) = 56.142 → 56.14
    assert steps["account_pension"] == "56.14"
    # transitional = 8,000 × 1.0 × 20 years × 1.2 % = 1,920.00
    assert steps["transitional_pension"] == "1920.00"
    assert (answer["eligible"], answer["amount"]) == (True, "3725.53")
    assert answer["program"] == "employee_pension"
    cited = {(p["name"], p["in_force_from"]) for p in answer["history"]["parameters"]}
    assert ("insurance.pension_account.crediting_rate", "2023-01-01") in cited
    assert ("insurance.employee_pension.average_wage_monthly", None) in cited  # the override


def test_an_overlap_in_the_registry_is_an_error_not_a_choice(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], dt.datetime]
) -> None:
    rows = [*career()[:3], ("2023-02", 900_000, "310115")]  # February paid in two places
    put_records(database, MAN, rows, tmp_path, fixed_clock)
    with (
        UnitOfWork(database.sessions) as uow,
        pytest.raises(InputError, match=r"overlap: 2023-02 is recorded twice.*110105.*310115"),
    ):
        pension_from_history(uow, MAN, ON, overrides=PENSION_PARAMS)


def test_without_records_or_with_an_index_outside_the_range_the_error_says_why(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], dt.datetime]
) -> None:
    put_records(database, MAN, [("2023-01", 400_000, "110105")], tmp_path, fixed_clock)
    with UnitOfWork(database.sessions) as uow:
        # 4,000 / 8,000 = 0.5 < 0.6: a base below the floor was recorded (a flagged import)
        with pytest.raises(InputError, match=r"Ī = 0\.5000, outside 0\.6–3\.0"):
            pension_from_history(uow, MAN, ON, overrides=PENSION_PARAMS)
        with pytest.raises(InputError, match=r"no employee_pension contribution records.*2022-12"):
            pension_from_history(uow, MAN, dt.date(2022, 12, 31), overrides=PENSION_PARAMS)
        with pytest.raises(InputError, match="comes from the recorded contribution history"):
            pension_from_history(uow, MAN, ON, inputs={"employee_pension_contribution_months": 300})
        with pytest.raises(UnknownNameError, match="not in the registry"):
            pension_from_history(uow, id_number("19700101", 21), ON)


def test_cli_pension_prints_json_with_the_identity_number_masked(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], dt.datetime]
) -> None:
    put_records(database, MAN, career(), tmp_path, fixed_clock)
    app = typer.Typer()
    app.add_typer(contributions_app, name="contributions")
    url = database.engine.url.render_as_string(hide_password=False)
    sets = [
        "insurance.employee_pension.average_wage_monthly=8000",
        "insurance.employee_pension.pension_base_monthly=8000",
        "insurance.employee_pension.transitional_coefficient=0.012",
    ]
    args = ["contributions", "pension", MAN, "--date", "2024-04-01", "--url", url]
    args += ["--deemed-months", "240", "--category", "man"]
    result = CliRunner().invoke(app, [*args, *[x for s in sets for x in ("--set", s)]])
    assert result.exit_code == 0, result.output
    assert MAN not in result.stdout
    answer = json.loads(result.stdout)
    assert answer["amount"] == "3725.53"  # as in the test above
    assert answer["history"]["gap_months"] == 3
    assert answer["person"]["pension_category"] == "man"


# -- Many persons at once: the batch summary equals the per-person one -------------------------


def per_person(
    bases: np.ndarray,
    credits: np.ndarray,
    wages: np.ndarray,
    first: str,
    as_of: str,
    rates: dict[int, Decimal],
) -> list[tuple[int, int, int, int]]:
    start = int(first[:4]) * 12 + int(first[5:]) - 1

    def month(c: int) -> str:
        return f"{(start + c) // 12:04d}-{(start + c) % 12 + 1:02d}"

    def wage(_region: str, m: str) -> int:
        return int(wages[int(m[:4]) * 12 + int(m[5:]) - 1 - start])

    out = []
    for row in range(bases.shape[0]):
        records = [
            MonthlyContribution(month(c), int(bases[row, c]), int(credits[row, c]))
            for c in range(bases.shape[1])
            if bases[row, c] > 0
        ]
        s = summarize(
            records,
            as_of=as_of,
            crediting_rate=rates.__getitem__,
            current_year_factor=lambda _y: FACTOR,
            average_wage=wage,
        )
        index = pension_inputs(s).get("employee_pension_average_index", 0)
        out.append((s.months, s.gap_months, index, s.account_balance_fen))
    return out


def batch_rows(b: BatchSummary) -> list[tuple[int, int, int, int]]:
    return [
        (int(n), int(g), int(i), int(a))
        for n, g, i, a in zip(
            b.months, b.gap_months, b.average_index, b.account_balance_fen, strict=True
        )
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5),
    st.integers(1, 40),
    st.integers(0, 11),
    st.integers(0, 30),
    st.integers(0, 2**32 - 1),
)
def test_the_batch_summary_equals_the_per_person_summary(
    persons: int, n_months: int, first_month: int, extra: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    present = rng.random((persons, n_months)) < rng.uniform(0.2, 1.0)
    bases = np.where(present, rng.integers(1, 6_000_000, (persons, n_months)), 0).astype(np.int64)
    credits = np.where(present, rng.integers(0, 600_000, (persons, n_months)), 0).astype(np.int64)
    wages = rng.integers(1, 2_000_000, n_months).astype(np.int64)
    rates = {y: Decimal(int(rng.integers(0, 1_200))).scaleb(-4) for y in range(2018, 2030)}
    first = f"2018-{first_month + 1:02d}"
    end = 2018 * 12 + first_month + n_months - 1 + extra
    as_of = f"{end // 12:04d}-{end % 12 + 1:02d}"
    b = summarize_batch(
        bases,
        wages,
        first_month=first,
        as_of=as_of,
        crediting_rates=rates,
        current_year_factor=FACTOR,
        credits_fen=credits,
        guard_digits=int(rng.integers(0, 7)),  # few guard digits: the exact fallback runs too
    )
    assert batch_rows(b) == per_person(bases, credits, wages, first, as_of, rates)


def test_an_exact_half_is_settled_by_the_exact_fallback_and_rounds_up() -> None:
    # Σ base/W = 1/3 + 50,003/30,000 = 2.0001 exactly, N = 2 → Ī = 1.00005 → 1.0001 (half up);
    # both terms leave remainders, so the bounds cannot settle it without Fraction
    bases = np.asarray([[1, 50_003]], dtype=np.int64)
    wages = np.asarray([3, 30_000], dtype=np.int64)
    b = summarize_batch(
        bases,
        wages,
        first_month="2020-01",
        crediting_rates=RATES,
        current_year_factor=FACTOR,
        credits_fen=np.zeros((1, 2), dtype=np.int64),
    )
    assert (int(b.average_index[0]), b.exact_fallbacks) == (10_001, 1)
    assert batch_rows(b) == per_person(bases, np.zeros((1, 2)), wages, "2020-01", "2020-02", RATES)


def test_derived_credits_gaps_and_crediting_in_the_batch() -> None:
    # person 0: the two_years() history as bases, credits 8 % derived; person 1: nothing;
    # person 2: Jan 2020 and Jun 2021 only (gap of 16 months)
    bases = np.zeros((3, 18), dtype=np.int64)
    bases[0, :12], bases[0, 12:] = 1_000_000, 1_200_000
    bases[2, 0], bases[2, 17] = 800_000, 900_000
    wages = np.asarray([800_000] * 12 + [900_000] * 6, dtype=np.int64)
    b = summarize_batch(
        bases,
        wages,
        first_month="2020-01",
        crediting_rates=RATES,
        current_year_factor=FACTOR,
        account_share=Decimal("0.08"),
    )
    assert b.as_of == "2021-06"
    assert b.months.tolist() == [18, 0, 2]
    assert b.gap_months.tolist() == [0, 0, 16]
    assert (b.first.tolist(), b.last.tolist()) == ([0, -1, 0], [17, -1, 17])
    # as test_months_index_and_balance_of_a_history_in_progress: Ī 23/18 → 1.2778, 15,673.98;
    # person 2: Ī = (1 + 1) / 2 = 1; 2020: 640 × 6.04 % × 0.5415 = 20.93 → 660.93 + 720
    assert b.average_index.tolist() == [12_778, 0, 10_000]
    assert b.account_balance_fen.tolist() == [991_398 + 576_000, 0, 66_093 + 72_000]


def test_batch_errors_name_what_is_wrong() -> None:
    bases = np.asarray([[800_000, 800_000]], dtype=np.int64)
    wages = np.asarray([800_000, 800_000], dtype=np.int64)
    common: dict[str, Any] = {"crediting_rates": RATES, "current_year_factor": FACTOR}
    with pytest.raises(InputError, match="after 2020-01"):
        summarize_batch(
            bases, wages, first_month="2020-01", as_of="2020-01", account_share=Decimal(0), **common
        )
    with pytest.raises(InputError, match="no crediting rate for 2019"):
        summarize_batch(
            bases, wages, first_month="2019-11", as_of="2019-12", account_share=Decimal(1), **common
        )
    with pytest.raises(InputError, match="a month without a base"):
        summarize_batch(
            np.asarray([[0, 1]], dtype=np.int64),
            wages,
            first_month="2020-01",
            credits_fen=np.asarray([[5, 0]], dtype=np.int64),
            **common,
        )
    with pytest.raises(InputError, match="credits_fen or an account_share"):
        summarize_batch(bases, wages, first_month="2020-01", **common)


def test_batch_pensions_equal_the_single_household_calculation() -> None:
    # three retired men (60 in March 2024), careers of different shapes; the batch program result
    # must equal calculate() on each person's per-person summary, to the fen
    rng = np.random.default_rng(7)
    n_months = 24  # 2022-03 .. 2024-02
    bases = rng.integers(5_000, 24_000, (3, n_months)).astype(np.int64) * 100  # whole yuan
    bases[1, 5:9] = 0
    wages = np.full(n_months, 800_000, dtype=np.int64)
    rates = {2022: Decimal("0.0612"), 2023: Decimal("0.0397")}
    b = summarize_batch(
        bases,
        wages,
        first_month="2022-03",
        as_of="2024-04",
        crediting_rates=rates,
        current_year_factor=FACTOR,
        account_share=Decimal("0.08"),
    )
    deemed = np.asarray([200, 180, 300], dtype=np.int64)
    pop = population_from_batch(
        b,
        np.full(3, 19640315, dtype=np.int32),
        np.zeros(3, dtype=np.int8),
        deemed_months=deemed,
    )
    got = pensions_from_batch(pop, ON, "000000", overrides=PENSION_PARAMS)
    credits = np.asarray([[int(x) * 8 // 100 for x in row] for row in bases])  # 8 % exact here
    assert (credits * 100 == bases * 8).all()
    for row, (n, _gaps, index, balance) in enumerate(
        per_person(bases, credits, wages, "2022-03", "2024-04", rates)
    ):
        member = {
            "birth_date": "1964-03-15",
            "sex": "male",
            "employee_pension_insured": True,
            "employee_pension_contribution_months": n,
            "employee_pension_average_index": index,
            "employee_pension_account_balance": f"{balance / 100:.2f}",
            "employee_pension_deemed_months": int(deemed[row]),
        }
        ev, _ = calculate(
            program("employee_pension"),
            {"region": "000000", "members": [member]},
            ON,
            overrides=PENSION_PARAMS,
            explain=False,
        )
        assert int(got.amount[row]) == int(ev.result.amount[0]) > 0


def test_the_guard_digits_shrink_for_huge_bases_instead_of_overflowing() -> None:
    # 12 months of 5e9 fen: S × Σ base would overflow int64 with 10^6 guard digits; the guard
    # shrinks and the result is still exact (Ī = 5e9 / 7e8 = 7.142857… → 71,429)
    bases = np.full((1, 12), 5_000_000_000, dtype=np.int64)
    wages = np.full(12, 700_000_000, dtype=np.int64)
    b = summarize_batch(
        bases,
        wages,
        first_month="2020-01",
        crediting_rates=RATES,
        current_year_factor=FACTOR,
        credits_fen=np.zeros((1, 12), dtype=np.int64),
    )
    assert int(b.average_index[0]) == 71_429
