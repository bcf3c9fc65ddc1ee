"""Employee medical insurance: contributions on a clamped base, account credits, inpatient benefit
(the shared basic-insurance layer, with the retirees' supplement), outpatient pooling."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.errors import CoverageError, InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree

LOCAL: dict[str, Any] = {  # Heze inpatient figures [M]; the rest illustrative [I]
    "insurance.employee_medical.inpatient.deductible": {"1": 200, "2": 450, "3": 750},
    "insurance.employee_medical.inpatient.ratio": {"1": 0.92, "2": 0.88, "3": 0.85},
    "insurance.employee_medical.inpatient.retiree_ratio_bonus": 0.03,
    "insurance.employee_medical.inpatient.annual_cap": 400000,
    "insurance.employee_pension.average_wage_monthly": 8000,
    "insurance.employee_medical.contribution_employer_rate": 0.08,
    "insurance.employee_medical.personal_account.average_basic_pension_monthly": 3000,
    "insurance.employee_medical.outpatient.deductible": 200,
    "insurance.employee_medical.outpatient.retiree_ratio_bonus": 0.1,
    "insurance.employee_medical.outpatient.annual_cap": 3000,
}


def run(
    members: list[dict[str, Any]],
    overrides: dict[str, Any] | None = None,
    on: dt.date = dt.date(2025, 9, 1),
    name: str = "employee_medical",
) -> Evaluation:
    tree = default_tree()
    values = LOCAL if overrides is None else overrides
    coerced = {k: coerce_value(tree.spec(k), v, k) for k, v in values.items()}
    full = [
        {"relation": "head" if i == 0 else "spouse", "birth_date": "1980-01-01", "sex": "male", **m}
        for i, m in enumerate(members)
    ]
    ev, _ = calculate(program(name), {"members": full}, on, "000000", coerced)
    return ev


def out(ev: Evaluation, key: str) -> int:
    return int(ev.result.outputs[key][0])


@pytest.mark.parametrize(
    ("wage", "base", "individual"),
    [
        ("3000", 480000, 9600),
        ("4800", 480000, 9600),
        ("10000", 1000000, 20000),
        ("30000", 2400000, 48000),
    ],
)
def test_the_base_is_clamped_to_60_to_300_percent(wage: str, base: int, individual: int) -> None:
    ev = run([{"medical_scheme": "employee", "wage_income": wage}])
    assert out(ev, "contribution_base") == base
    assert out(ev, "individual_contribution") == individual
    assert out(ev, "employer_contribution") == base * 8 // 100
    assert out(ev, "account_credit") == individual  # 2021 reform: employer's part all pooled


def test_before_the_reform_part_of_the_employer_contribution_went_to_the_account() -> None:
    ev = run([{"medical_scheme": "employee", "wage_income": "10000"}], on=dt.date(2020, 6, 1))
    assert out(ev, "account_credit") == 20000 + 24000  # 200 + 30 % × 800


def test_retirees_pay_nothing_and_get_a_fixed_credit() -> None:
    ev = run([{"medical_scheme": "employee", "employee_medical_retired": True}])
    assert out(ev, "individual_contribution") == 0
    assert out(ev, "account_credit") == 6000  # 2 % × 3,000


def test_retiree_supplement_on_inpatient_ratios() -> None:
    stay = {
        "medical_scheme": "employee",
        "medical_in_policy_cost": "50000",
        "medical_hospital_level": 3,
    }
    ev = run([{**stay, "wage_income": "8000"}, {**stay, "employee_medical_retired": True}])
    assert ev.result.person_amount is not None
    assert [int(x) for x in ev.result.person_amount] == [4186250, 4334000]
    assert int(ev.result.amount[0]) == 4186250 + 4334000


def test_working_members_get_what_the_one_stop_settlement_pays() -> None:
    member = {
        "medical_scheme": "employee",
        "wage_income": "8000",
        "medical_in_policy_cost": "20000",
        "medical_hospital_level": 2,
    }
    overrides = {
        **LOCAL,
        "insurance.critical_illness.covers_employee_scheme": False,
    }
    mine = run([member], overrides)
    settled = run([member], overrides, name="medical_settlement")
    assert int(mine.result.amount[0]) == int(settled.result.outputs["basic_insurance_paid"][0])


def test_outpatient_pooling() -> None:
    ev = run(
        [{"medical_scheme": "employee", "wage_income": "8000", "medical_outpatient_cost": "1000"}]
    )
    assert out(ev, "outpatient_paid") == 40000  # (1,000 − 200) × 50 %


def test_nobody_in_the_scheme_needs_no_local_figures() -> None:
    ev = run([{"medical_scheme": "resident", "wage_income": "8000"}], overrides={})
    assert not ev.result.eligible[0]
    assert int(ev.result.amount[0]) == 0


def test_a_retiree_alone_needs_no_wage_figures() -> None:
    only = {"insurance.employee_medical.personal_account.average_basic_pension_monthly": 3000}
    ev = run([{"medical_scheme": "employee", "employee_medical_retired": True}], overrides=only)
    assert out(ev, "account_credit") == 6000


def test_missing_local_figures_name_the_parameter() -> None:
    with pytest.raises(CoverageError, match="contribution_employer_rate"):
        run(
            [{"medical_scheme": "employee", "wage_income": "8000"}],
            overrides={"insurance.employee_pension.average_wage_monthly": 8000},
        )


def test_bad_input_names_the_field() -> None:
    with pytest.raises(InputError, match="medical_scheme"):
        run([{"medical_scheme": "private"}])
    with pytest.raises(InputError, match="employee_medical_wage"):
        run([{"medical_scheme": "employee", "employee_medical_wage": "-1"}])
    with pytest.raises(InputError, match="medical_hospital_level"):
        run([{"medical_scheme": "employee", "medical_hospital_level": 4}])
