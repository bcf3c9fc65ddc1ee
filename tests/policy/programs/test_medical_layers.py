"""The medical layers' settlement, made once per population and parameter view for the two
programs that read it (medical assistance and the one-stop settlement), never when explained."""

from __future__ import annotations

from typing import Any

import pytest

from safetynet.policy.engine import Params, Trace, compute, evaluate, program
from safetynet.policy.population import population_from_households
from safetynet.policy.programs import medical_layers
from tests.policy.programs.medical_e41 import ON, overrides, patient

PROGRAMS = ("medical_assistance", "medical_settlement")
FIXED = {"dibao": 200, "monitored": 100, "marginal": 100}


def _overrides() -> dict[str, Any]:
    return overrides(assistance__medical_assistance__premium_subsidy__fixed_amount=FIXED)


def _households() -> list[dict[str, Any]]:
    return [
        {"hukou_type": "urban", "is_dibao_recipient": True, "members": [patient()]},
        {"hukou_type": "urban", "members": [patient("8000"), patient("0", relation="spouse")]},
        {"hukou_type": "rural", "members": [patient("120000", is_tekun_recipient=True)]},
        {"hukou_type": "urban", "members": [patient("0")]},
    ]


def test_both_programs_read_one_settlement_and_answer_as_each_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[int] = []
    real = medical_layers._settle

    def counted(pop: Any, p: Params, t: Trace) -> medical_layers.Settlement:
        made.append(pop.n_persons)
        return real(pop, p, t)

    monkeypatch.setattr(medical_layers, "_settle", counted)
    pop = population_from_households(_households())
    view = Params(ON, "000000", None, _overrides())
    together = {pid: compute(program(pid), pop, view, Trace()) for pid in PROGRAMS}
    assert made == [5]  # one settlement for both
    for pid in PROGRAMS:
        alone = evaluate(program(pid), population_from_households(_households()), ON, "000000",
                         overrides=_overrides())  # fmt: skip
        assert together[pid].amount.tolist() == alone.result.amount.tolist(), pid
        assert together[pid].eligible.tolist() == alone.result.eligible.tolist(), pid
        for name, values in alone.result.outputs.items():
            assert together[pid].outputs[name].tolist() == values.tolist(), (pid, name)
    assert together["medical_settlement"].amount.tolist()[0] == 5_000_000 - 467_550  # E4.1


def test_an_explained_evaluation_makes_its_own_settlement_with_its_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[int] = []
    real = medical_layers._settle

    def counted(pop: Any, p: Params, t: Trace) -> medical_layers.Settlement:
        made.append(1)
        return real(pop, p, t)

    monkeypatch.setattr(medical_layers, "_settle", counted)
    household = _households()[0]
    for pid in PROGRAMS:
        ev = evaluate(program(pid), population_from_households([household]), ON, "000000",
                      overrides=_overrides(), explain=True)  # fmt: skip
        assert "out_of_pocket" in {step.key for step in ev.trace.steps}
    assert made == [1, 1]
