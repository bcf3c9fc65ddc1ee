"""Every program is found in each tree under its tier: its parameter group, its case files and its
page; and its metadata agrees with the rest of the system."""

from __future__ import annotations

from pathlib import Path

import pytest

from safetynet.policy.engine import Program, programs
from safetynet.policy.parameters import default_tree
from safetynet.policy.population import FIELDS, declare_all_fields

ROOT = Path(__file__).resolve().parents[2]
PARAMETERS = ROOT / "src" / "safetynet" / "policy" / "parameters"


@pytest.mark.parametrize("prog", list(programs().values()), ids=lambda p: p.id)
def test_each_program_has_its_parameters_cases_and_page_under_its_tier(prog: Program) -> None:
    tier, *group = prog.info.parameters.split(".")
    assert tier == prog.info.tier.value
    assert PARAMETERS.joinpath(tier, *group[:-1], group[-1] + ".yaml").is_file()
    assert any(n.startswith(prog.info.parameters + ".") for n in default_tree().names())
    cases = ROOT / "cases" / tier / prog.id
    assert cases.is_dir()
    assert list(cases.glob("*.yaml"))
    assert (ROOT / "docs" / "programs" / f"{prog.id}.md").is_file()


@pytest.mark.parametrize("prog", list(programs().values()), ids=lambda p: p.id)
def test_the_parameters_the_metadata_names_exist(prog: Program) -> None:
    tree = default_tree()
    for name in (prog.info.in_force, *prog.info.local_parameters):
        if name:
            tree.spec(name)
    if prog.info.in_force:
        assert tree.spec(prog.info.in_force).unit == "bool"


def test_the_caseload_and_the_monitored_programs_have_recipient_columns() -> None:
    declare_all_fields()
    for prog in programs().values():
        if prog.info.caseload or prog.info.monitored:
            assert prog.info.recipients in FIELDS
