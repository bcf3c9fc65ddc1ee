"""One-stop settlement (三重保障): worked example E4.1 and its variants, caps, annual deductibles,
tiered critical-illness bands, the same arithmetic for one household or many, and input errors.
Figures are illustrative [I] (worked example E4.1, cases/assistance/medical_settlement/) and passed
as overrides."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from safetynet.errors import CoverageError, InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, evaluate, program
from safetynet.policy.population import population_from_households
from tests.policy.programs.medical_e41 import ON, overrides, patient


def household(*members: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"hukou_type": "urban", "members": list(members), **kw}


def run(hh: dict[str, Any], **extra: Any) -> Evaluation:
    ev, _ = calculate(program("medical_settlement"), hh, ON, "000000", overrides(**extra))
    return ev


def out(ev: Evaluation, key: str) -> int:
    return int(ev.result.outputs[key][0])


def test_e4_1_dibao_patient_pays_4675_50() -> None:
    ev = run(household(patient(), is_dibao_recipient=True))
    assert out(ev, "basic_insurance_paid") == 2_940_000
    assert out(ev, "critical_illness_paid") == 851_500
    assert out(ev, "medical_assistance_paid") == 740_950
    assert out(ev, "out_of_pocket") == 467_550
    assert int(ev.result.amount[0]) == 5_000_000 - 467_550


def test_e4_1_ordinary_insured_pays_17240() -> None:
    ev = run(household(patient()))
    assert out(ev, "critical_illness_paid") == 336_000
    assert out(ev, "medical_assistance_paid") == 0
    assert out(ev, "out_of_pocket") == 1_724_000


def test_e4_1_tekun_at_90_percent_without_deductible_pays_1208_50() -> None:
    ev = run(household(patient(is_tekun_recipient=True)))
    assert out(ev, "medical_assistance_paid") == 1_087_650
    assert out(ev, "out_of_pocket") == 120_850


def test_person_amount_is_each_members_out_of_pocket() -> None:
    spouse = {"relation": "spouse", "birth_date": "1970-01-01", "sex": "female"}
    ev = run(household(patient(), spouse, is_dibao_recipient=True))
    assert ev.result.person_amount is not None
    assert ev.result.person_amount.tolist() == [467_550, 0]


def test_nobody_in_hospital_is_not_eligible_and_needs_no_parameters() -> None:
    ev, _ = calculate(program("medical_settlement"), household(patient("0")), ON, "000000")
    assert not ev.result.eligible[0]
    assert int(ev.result.amount[0]) == 0


def test_dibao_critical_illness_is_not_capped_but_ordinary_is() -> None:
    kw = {"insurance__critical_illness__annual_cap": 1000}
    ordinary = run(household(patient()), **kw)
    dibao = run(household(patient(), is_dibao_recipient=True), **kw)
    assert out(ordinary, "critical_illness_paid") == 100_000
    assert out(dibao, "critical_illness_paid") == 851_500


def test_annual_deductibles_are_not_charged_twice_in_one_year() -> None:
    second = patient(
        "10000",
        medical_critical_illness_cost_ytd="20600",
        medical_assistance_cost_ytd="12085",
    )
    ev = run(household(second, is_dibao_recipient=True))
    # basic 5,400; critical illness 4,600 × 65 % = 2,990; assistance 1,610 × 70 % = 1,127
    assert out(ev, "critical_illness_paid") == 299_000
    assert out(ev, "medical_assistance_paid") == 112_700
    assert out(ev, "out_of_pocket") == 48_300


def test_tiered_critical_illness_bands_with_the_dibao_bonus() -> None:
    bands = [
        {"from": 0, "value": 0.6},
        {"from": 30000, "value": 0.7},
        {"from": 100000, "value": 0.8},
    ]
    extra = {
        "insurance__critical_illness__deductible": 10000,
        "insurance__critical_illness__ratio_scale": bands,
        "insurance__resident_medical__inpatient__deductible": {"2": 300},
        "insurance__resident_medical__inpatient__ratio": {"2": 0.75},
        "insurance__resident_medical__inpatient__annual_cap": 130000,
    }
    ordinary = run(household(patient("150000", medical_hospital_level=2)), **extra)
    assert out(ordinary, "critical_illness_paid") == 1_740_750  # 12,000 + 5,407.50
    dibao = run(
        household(patient("150000", medical_hospital_level=2), is_dibao_recipient=True), **extra
    )
    assert out(dibao, "critical_illness_paid") == 2_204_375  # 16,250 + 5,793.75


def test_many_households_give_the_same_answers_as_one_at_a_time() -> None:
    hhs = [
        household(patient(), is_dibao_recipient=True),
        household(patient()),
        household(patient(is_tekun_recipient=True)),
        household(patient("3500"), is_dibao_recipient=True),
    ]
    pop = population_from_households(hhs)
    ev = evaluate(program("medical_settlement"), pop, ON, "000000", overrides=overrides())
    singles = [int(run(hh).result.outputs["out_of_pocket"][0]) for hh in hhs]
    assert ev.result.outputs["out_of_pocket"].tolist() == singles
    assert singles == [467_550, 1_724_000, 120_850, 165_000]
    assert np.all(ev.result.eligible)


def test_hospital_level_outside_1_to_3_is_rejected_naming_the_field() -> None:
    with pytest.raises(InputError, match=r"members\[0\]\.medical_hospital_level"):
        run(household(patient(medical_hospital_level=4)))


def test_negative_cost_is_rejected_naming_the_field() -> None:
    with pytest.raises(InputError, match="medical_in_policy_cost"):
        run(household(patient("-5")))


def test_missing_local_values_name_the_parameter() -> None:
    with pytest.raises(CoverageError, match=r"insurance\.resident_medical\.inpatient\.deductible"):
        calculate(program("medical_settlement"), household(patient()), ON, "000000")


def test_a_level_missing_from_the_local_table_is_reported() -> None:
    with pytest.raises(CoverageError, match="hospital level 1"):
        run(household(patient(medical_hospital_level=1)))
