"""Medical assistance (医疗救助): the assistance layer by group, its cap, and the premium subsidy.
Figures are illustrative [I] (worked example E4.1, cases/assistance/medical_settlement/) and passed
as overrides."""

from __future__ import annotations

from typing import Any

import pytest

from safetynet.errors import CoverageError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from tests.policy.programs.medical_e41 import ON, overrides, patient


def run(members: list[dict[str, Any]], **hh: Any) -> Evaluation:
    ov = overrides(
        assistance__medical_assistance__premium_subsidy__fixed_amount={
            "dibao": 200,
            "monitored": 100,
            "marginal": 100,
        }
    )
    household = {"hukou_type": "urban", "members": members, **hh}
    ev, _ = calculate(program("medical_assistance"), household, ON, "000000", ov)
    return ev


def test_e4_1_dibao_assistance_is_7409_50() -> None:
    ev = run([patient()], is_dibao_recipient=True)
    assert ev.result.eligible[0]
    assert int(ev.result.amount[0]) == 740_950
    assert int(ev.result.outputs["assistance_deductible"][0]) == 150_000


@pytest.mark.parametrize(
    ("hh", "person", "deductible", "paid"),
    [
        ({"is_dibao_marginal_registered": True}, {}, 300_000, 925_600),
        ({"is_low_income_monitored": True}, {}, 150_000, 688_025),
        ({}, {"medical_illness_impoverished": True}, 750_000, 633_100),
        ({}, {"is_tekun_recipient": True}, 0, 1_087_650),
    ],
)
def test_deductible_and_payment_by_group(
    hh: dict[str, Any], person: dict[str, Any], deductible: int, paid: int
) -> None:
    ev = run([patient(**person)], **hh)
    assert int(ev.result.outputs["assistance_deductible"][0]) == deductible
    assert int(ev.result.amount[0]) == paid


def test_ordinary_insured_person_is_not_eligible() -> None:
    ev = run([patient()])
    assert not ev.result.eligible[0]
    assert int(ev.result.amount[0]) == 0


def test_what_is_left_of_the_annual_cap_limits_the_payment() -> None:
    ev = run([patient(medical_assistance_paid_ytd="99000")], is_dibao_recipient=True)
    assert int(ev.result.amount[0]) == 100_000


def test_premium_subsidy_tekun_in_full_dibao_fixed_amount() -> None:
    tekun = run([patient(is_tekun_recipient=True, medical_in_policy_cost="0")])
    assert int(tekun.result.outputs["premium_subsidy"][0]) == 40_000  # 400 [M] in full
    dibao = run(
        [
            patient(medical_in_policy_cost="0"),
            {"relation": "spouse", "birth_date": "1970-01-01", "sex": "female"},
        ],
        is_dibao_recipient=True,
    )
    assert int(dibao.result.outputs["premium_subsidy"][0]) == 40_000  # 2 × 200 [I]
    assert dibao.result.eligible[0]


def test_employee_scheme_members_get_no_premium_subsidy() -> None:
    ev = run(
        [patient(medical_scheme="employee", medical_in_policy_cost="0")], is_dibao_recipient=True
    )
    assert int(ev.result.outputs["premium_subsidy"][0]) == 0


def test_dibao_premium_subsidy_without_a_local_amount_names_the_parameter() -> None:
    household = {
        "hukou_type": "urban",
        "is_dibao_recipient": True,
        "members": [patient(medical_in_policy_cost="0")],
    }
    with pytest.raises(CoverageError, match=r"premium_subsidy\.fixed_amount"):
        calculate(program("medical_assistance"), household, ON, "000000")
