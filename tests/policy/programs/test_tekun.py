"""Tekun (特困人员救助供养): the three criteria, the self-care tiers, the 1.3 × dibao floor and the
errors a user sees. Figures are illustrative [I] and passed as overrides."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetynet.errors import CoverageError, InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, Params, program
from safetynet.policy.parameters import coerce_value, default_tree

ON = dt.date(2025, 9, 1)
CARE = {"fully_lost": 500, "partially_lost": 250, "capable": 60}


def overrides(**extra: Any) -> dict[str, Any]:
    tree = default_tree()
    raw: dict[str, Any] = {
        "assistance.dibao.standard_monthly_urban": 1000,
        "assistance.dibao.standard_monthly_rural": 600,
        "assistance.tekun.care_standard_monthly": CARE,
        **{k.replace("__", "."): v for k, v in extra.items()},
    }
    return {name: coerce_value(tree.spec(name), value, name) for name, value in raw.items()}


def person(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "relation": "head",
        "birth_date": "1953-03-01",
        "sex": "male",
        "tekun_supporter_status": "none",
    }
    return {**base, **kw}


def run(
    members: list[dict[str, Any]], hukou: str = "rural", on: dt.date = ON, **extra: Any
) -> Evaluation:
    household = {"hukou_type": hukou, "members": members}
    ev, _ = calculate(program("tekun"), household, on, "000000", overrides(**extra))
    return ev


def yuan(fen: Any) -> str:
    return as_yuan(int(fen))


def as_yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def test_worked_example_e2_1_pays_780_basic_plus_500_care() -> None:
    ev = run([person(resident_pension_central="143", tekun_selfcare_items_failed=4)])
    assert bool(ev.result.eligible[0])
    assert yuan(ev.result.amount[0]) == "1280.00"
    assert yuan(ev.result.outputs["basic_living"][0]) == "780.00"
    assert yuan(ev.result.outputs["care"][0]) == "500.00"


@pytest.mark.parametrize(
    ("failed", "care"),
    [(0, "60.00"), (1, "250.00"), (3, "250.00"), (4, "500.00"), (6, "500.00")],
)
def test_care_tier_follows_the_number_of_items_not_achieved(failed: int, care: str) -> None:
    ev = run([person(tekun_selfcare_items_failed=failed)])
    assert yuan(ev.result.outputs["care"][0]) == care


def test_each_person_is_decided_alone_and_the_household_gets_the_sum() -> None:
    ev = run(
        [
            person(tekun_selfcare_items_failed=4),
            person(relation="spouse", birth_date="1955-01-01", tekun_supporter_status="tekun"),
            person(relation="child", birth_date="1990-01-01"),  # working age: has labour capacity
        ]
    )
    assert ev.result.person_amount is not None
    assert [yuan(a) for a in ev.result.person_amount] == ["1280.00", "840.00", "0.00"]
    assert yuan(ev.result.amount[0]) == "2120.00"
    assert int(ev.result.outputs["tekun_persons"][0]) == 2


def test_a_supporter_able_to_support_rules_tekun_out() -> None:
    ev = run([person(tekun_supporter_status="able")])
    assert not bool(ev.result.eligible[0])
    assert int(ev.result.amount[0]) == 0


def test_which_supporter_statuses_count_as_unable_is_a_parameter() -> None:
    status = "aged_70_plus_low_income"
    assert bool(run([person(tekun_supporter_status=status)]).result.eligible[0])
    off: dict[str, Any] = {f"assistance__tekun__supporter_unable__{status}": False}
    assert not bool(run([person(tekun_supporter_status=status)], **off).result.eligible[0])


def test_minor_age_limit_moves_from_16_to_18_with_the_2020_opinions() -> None:
    tree = default_tree()
    before = Params(dt.date(2020, 8, 24), "000000", tree)
    after = Params(dt.date(2020, 8, 25), "000000", tree)
    assert before.int("assistance.tekun.minor_age_limit") == 16
    assert after.int("assistance.tekun.minor_age_limit") == 18


def test_a_17_year_old_is_tekun_today_and_an_18_year_old_is_not() -> None:
    assert bool(run([person(birth_date="2008-01-01")]).result.eligible[0])
    assert not bool(run([person(birth_date="2007-08-31")]).result.eligible[0])


def test_the_orphan_allowance_choice_excludes_a_minor() -> None:
    ev = run([person(birth_date="2012-01-01", tekun_chose_child_allowance=True)])
    assert not bool(ev.result.eligible[0])


def test_the_central_resident_pension_is_left_out_even_where_dibao_counts_it() -> None:
    kw: dict[str, Any] = {"assistance__dibao__income_excluded__resident_pension_central": False}
    ev = run([person(resident_pension_central="700")], **kw)
    assert bool(ev.result.eligible[0])


def test_counted_income_at_the_standard_rules_tekun_out() -> None:
    assert not bool(run([person(pension_income="600")]).result.eligible[0])
    assert bool(run([person(pension_income="599.99")]).result.eligible[0])


def test_contracted_land_brings_the_rural_standard_unless_relocated_to_a_town() -> None:
    land = run([person(tekun_has_contracted_land=True)], hukou="urban")
    assert yuan(land.result.outputs["basic_living"][0]) == "780.00"
    moved = run([person(tekun_has_contracted_land=True, tekun_relocated_to_town=True)])
    assert yuan(moved.result.outputs["basic_living"][0]) == "1300.00"


def test_a_local_standard_above_the_floor_is_paid() -> None:
    ev = run([person()], assistance__tekun__basic_living_monthly_rural=850)
    assert yuan(ev.result.outputs["basic_living"][0]) == "850.00"


def test_an_error_names_the_missing_care_table() -> None:
    household = {"hukou_type": "rural", "members": [person()]}
    tree = default_tree()
    only_dibao = {
        "assistance.dibao.standard_monthly_rural": coerce_value(
            tree.spec("assistance.dibao.standard_monthly_rural"), 600, "x"
        )
    }
    with pytest.raises(CoverageError, match=r"assistance\.tekun\.care_standard_monthly"):
        calculate(program("tekun"), household, ON, "000000", only_dibao)


def test_an_incomplete_care_table_is_refused_with_its_name() -> None:
    with pytest.raises(InputError, match="care_standard_monthly"):
        run([person()], assistance__tekun__care_standard_monthly={"fully_lost": 500})


def test_a_bad_self_care_count_names_the_field() -> None:
    with pytest.raises(InputError, match="tekun_selfcare_items_failed"):
        run([person(tekun_selfcare_items_failed=7)])


def test_an_unknown_supporter_status_names_the_field() -> None:
    with pytest.raises(InputError, match="tekun_supporter_status"):
        run([person(tekun_supporter_status="rich_uncle")])


@settings(max_examples=60, deadline=None)
@given(
    dibao=st.integers(1, 500_000),
    local=st.one_of(st.none(), st.integers(0, 600_000)),
    rural=st.booleans(),
    institution=st.booleans(),
)
def test_basic_living_is_never_below_1_3_times_the_dibao_standard(
    dibao: int, local: int | None, rural: bool, institution: bool
) -> None:
    area = "rural" if rural else "urban"
    extra: dict[str, Any] = {f"assistance__dibao__standard_monthly_{area}": as_yuan(dibao)}
    if local is not None:
        extra[f"assistance__tekun__basic_living_monthly_{area}"] = as_yuan(local)
        extra[f"assistance__tekun__basic_living_monthly_concentrated_{area}"] = as_yuan(local // 2)
    ev = run([person(lives_in_institution=institution)], hukou=area, **extra)
    basic = int(ev.result.outputs["basic_living"][0])
    # 1.3 × S ≤ basic, compared exactly in fen: 10 · basic ≥ 13 · S (rounded half up at most ½ fen)
    assert 10 * basic >= 13 * dibao - 5
    assert int(ev.result.amount[0]) >= basic
