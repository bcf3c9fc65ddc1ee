"""Shared inputs of the medical tests: the illustrative [I] parameters of worked example E4.1
(triple protection, 国办发〔2021〕42号 [M]; cases/assistance/medical_settlement/e4_worked_examples.yaml)
and a patient."""

from __future__ import annotations

import datetime as dt
from typing import Any

from safetynet.policy.parameters import coerce_value, default_tree

ON = dt.date(2025, 6, 1)
E41: dict[str, Any] = {
    "insurance.resident_medical.inpatient.deductible": {"3": 1000},
    "insurance.resident_medical.inpatient.ratio": {"3": 0.6},
    "insurance.resident_medical.inpatient.annual_cap": 500000,
    "insurance.critical_illness.deductible": 15000,
    "insurance.critical_illness.ratio_scale": [{"from": 0, "value": 0.6}],
    "insurance.critical_illness.annual_cap": 400000,
    "common.economy.per_capita_disposable_income_prev_year_urban": 30000,
    "assistance.medical_assistance.annual_cap": 100000,
    "assistance.medical_assistance.ratio": {
        "tekun": 0.9,
        "dibao": 0.7,
        "monitored": 0.65,
        "marginal": 0.65,
        "illness_impoverished": 0.65,
    },
}


def overrides(**extra: Any) -> dict[str, Any]:
    """E4.1's parameters, with ``extra`` added (``a__b`` for ``a.b``), as engine overrides."""
    tree = default_tree()
    raw = {**E41, **{k.replace("__", "."): v for k, v in extra.items()}}
    return {name: coerce_value(tree.spec(name), value, name) for name, value in raw.items()}


def patient(cost: str = "50000", **kw: Any) -> dict[str, Any]:
    return {
        "relation": "head",
        "birth_date": "1968-04-01",
        "sex": "male",
        "medical_in_policy_cost": cost,
        "medical_hospital_level": 3,
        **kw,
    }
