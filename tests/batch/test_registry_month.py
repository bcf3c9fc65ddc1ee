"""The registry is the monthly cycle's input (issue 12): a county's household list is imported on a
fresh database, the month runs with no snapshot (the registry's own, taken first) and every
program's result for a sample of households equals ``safetynet calc`` on that household's facts,
built here from the file's rows alone, to the fen."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from safetynet.audit.log import Actor
from safetynet.batch.county_file import CountyFile, write_county_file
from safetynet.batch.synth import generate_county
from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.entrypoints.cli.main import app as cli
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import programs
from safetynet.policy.population import FIELDS
from safetynet.registry.county_data import read_county, read_manifest
from safetynet.registry.handlers import (
    EnrolHousehold,
    ImportHouseholds,
    enrol_household,
    import_households,
)
from safetynet.registry.imports import read_table, validate
from safetynet.registry.model import Household

COUNTY, MONTH, ON = "310115", "2025-09", dt.date(2025, 9, 1)
PERSONS, BAD = 500, 3
ACTOR = Actor("tester", "registry_clerk", COUNTY)
NOW = dt.datetime(2025, 9, 20, 9, 0, tzinfo=dt.UTC)
DIBAO_FEN, TEKUN_FEN = 98_050, 150_000  # what the county decided for the enrolled households


def clock() -> dt.datetime:
    return NOW


# -- the file, read as a caseworker would read it (no registry or snapshot code) -------------

RELATIONS = {"户主": "head", "配偶": "spouse", "子女": "child", "父母": "parent",
             "孙子女": "grandchild", "祖父母": "grandparent", "兄弟姐妹": "sibling", "其他": "other"}  # fmt: skip
DISABILITY = {"无": "none", "视力": "visual", "听力": "hearing", "言语": "speech",
              "肢体": "physical", "智力": "intellectual", "精神": "mental", "多重": "multiple"}  # fmt: skip
STAGES = {"无": "none", "学前": "preschool", "小学": "primary", "初中": "junior_secondary",
          "高中": "senior_high", "中职": "secondary_vocational", "高等教育": "higher_education"}  # fmt: skip
WORDS = {"医保类型": {"职工医保": "employee", "居民医保": "resident"},
         "住房性质": {"自有": "owns", "租赁": "rents", "公租房": "public_rental", "其他": "other"}}  # fmt: skip


def _yes(text: str) -> bool:
    return text == "是"


# header -> (entity, field, converter); money stays the yuan text the office typed.
PERSON_COLUMNS: dict[str, tuple[str, Any]] = {
    "身份证号": ("id_number", str),
    "与户主关系": ("relation", RELATIONS.__getitem__),
    "残疾类别": ("disability_category", DISABILITY.__getitem__),
    "残疾等级": ("disability_grade", int),
    "重病": ("has_serious_illness", _yes),
    "生活自理": ("tekun_selfcare_items_failed", int),
    "在学": ("education_stage", STAGES.__getitem__),
    "就业": ("is_employed", lambda t: t in ("就业", "灵活就业")),
    "月工资": ("wage_income", str),
    "经营净收入": ("business_income", str),
    "财产净收入": ("property_income", str),
    "转移净收入": ("transfer_income", str),
    "养老金": ("pension_income", str),
    "城乡居民基础养老金": ("resident_pension_central", str),
    "个人缴纳社保费": ("social_insurance_paid", str),
    "寄宿": ("education_is_boarding", _yes),
    "住院政策范围内费用": ("medical_in_policy_cost", str),
    "医院等级": ("medical_hospital_level", int),
    "医保类型": ("medical_scheme", WORDS["医保类型"].__getitem__),
    "父亲状况": ("child_father_status", str),
    "母亲状况": ("child_mother_status", str),
    "父亲状况月数": ("child_father_status_months", int),
    "母亲状况月数": ("child_mother_status_months", int),
    "赡养抚养扶养人情况": ("tekun_supporter_status", str),
    "失业保险缴费年限": ("unemployment_contribution_years", int),
    "非自愿失业": ("unemployment_involuntary", _yes),
    "失业登记": ("unemployment_registered", _yes),
    "已领失业金月数": ("unemployment_months_drawn", int),
}
HOUSEHOLD_COLUMNS: dict[str, tuple[str, Any]] = {
    "户籍性质": ("hukou_type", {"城镇": "urban", "农村": "rural"}.__getitem__),
    "低保边缘家庭": ("is_dibao_marginal_registered", _yes),
    "低收入监测对象": ("is_low_income_monitored", _yes),
    "人均住房面积": ("housing_floor_area_per_person", int),
    "住房性质": ("housing_tenure", WORDS["住房性质"].__getitem__),
    "危房": ("housing_is_dilapidated", _yes),
    "近12个月自付医疗费用": ("rigid_medical_oop_12m", str),
    "临时救助类型": ("temporary_assistance_type", str),
    "临时救助需求": ("temporary_assistance_need", str),
}
SUMMED = {"存款": "financial_assets", "车辆": "vehicles", "房产": "homes"}  # on the head's row
IGNORED = {"户编号", "姓名", "户籍地", "收入月份"}


def file_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _by_field_name(headers: set[str]) -> None:
    """Columns headed by a declared field's own name (no Chinese label): the value as typed,
    yes/no as 是/否."""
    for header in headers:
        if header not in FIELDS:
            continue
        f = FIELDS.get(header)
        convert: Any = {"bool": _yes, "int": int}.get(f.kind.name.lower(), str)
        target = PERSON_COLUMNS if f.entity.name == "PERSON" else HOUSEHOLD_COLUMNS
        target.setdefault(header, (header, convert))


def households_from_file(path: Path, only: set[str]) -> dict[str, dict[str, Any]]:
    """The ``safetynet calc`` input of the households ``only`` of the file, from its rows."""
    rows = [r for r in file_rows(path) if r["户编号"] in only]
    _by_field_name(set(rows[0]))
    unknown = set(rows[0]) - set(PERSON_COLUMNS) - set(HOUSEHOLD_COLUMNS) - set(SUMMED) - IGNORED
    assert not unknown, f"columns this test does not read yet: {unknown}"
    households: dict[str, dict[str, Any]] = {}
    for row in rows:
        hh = households.setdefault(row["户编号"], {"region": row["户籍地"], "members": []})
        member = {f: convert(row[h]) for h, (f, convert) in PERSON_COLUMNS.items() if row.get(h)}
        hh["members"].append(member)
        for header, (name, convert) in HOUSEHOLD_COLUMNS.items():
            if row.get(header):
                hh[name] = convert(row[header])
        for header, name in SUMMED.items():
            if row.get(header):
                hh[name] = row[header] if name == "financial_assets" else int(row[header])
    return households


# -- the run ------------------------------------------------------------------------------


@pytest.fixture
def county_file(tmp_path: Path) -> CountyFile:
    return write_county_file(
        tmp_path / "county.csv", COUNTY, PERSONS, seed=3, month=MONTH, bad_rows=BAD
    )


def _import(db: Database, written: CountyFile) -> Any:
    batch = validate(read_table(written.path), as_of=ON)
    command = ImportHouseholds(batch, ACTOR, ON, written.path.name)
    with bootstrap(db, clock=clock).unit_of_work() as uow:
        import_households(command, uow, clock)
    return batch


def _enrol(db: Database, household_nos: list[str], program: str, amount_fen: int) -> None:
    for no in household_nos:
        command = EnrolHousehold(COUNTY, no, program, ON, amount_fen, ACTOR)
        with bootstrap(db, clock=clock).unit_of_work() as uow:
            enrol_household(command, uow, clock)


@pytest.fixture
def ran(database: Database, county_file: CountyFile, tmp_path: Path) -> dict[str, Any]:
    """Import, enrol a few households, and run the month through the command line."""
    batch = _import(database, county_file)
    imported = sorted(h.household_no for h in batch.households)
    dibao, tekun = imported[:4], imported[4:6]
    _enrol(database, dibao, "dibao", DIBAO_FEN)
    _enrol(database, tekun, "tekun", TEKUN_FEN)
    out = tmp_path / "results"
    result = CliRunner().invoke(
        cli,
        ["run-month", "--month", MONTH, "--url", database.url, "--out", str(out),
         "--workers", "1", "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return {"out": out, "batch": batch, "dibao": dibao, "tekun": tekun, "output": result.output}


def _run_results(db: Database, out: Path) -> dict[tuple[str, str], tuple[bool, int]]:
    with db.sessions() as session:
        number = dict(session.execute(select(Household.id, Household.household_no)).all())
    table = pq.read_table(out / f"month={MONTH}" / f"county={COUNTY}" / "results.parquet")
    rows = table.to_pydict()
    return {
        (number[h], p): (bool(e), int(a))
        for h, p, e, a in zip(rows["household_id"], rows["program"], rows["eligible"],
                              rows["amount_fen"], strict=True)
    }  # fmt: skip


def test_run_month_on_the_registry_equals_calc_for_every_program(
    database: Database, county_file: CountyFile, ran: dict[str, Any]
) -> None:
    batch = ran["batch"]
    imported = {r.household_no for r in batch.households}
    in_file = {r["户编号"] for r in file_rows(county_file.path)}
    assert set(county_file.bad_households) == in_file - imported  # quarantined whole
    assert len(county_file.bad_households) == BAD
    snapshot = ran["out"] / f"month={MONTH}" / "snapshot"
    assert read_manifest(snapshot)["source"] == "registry"
    assert f"Snapshot of the registry as of {MONTH}" in ran["output"]
    got = _run_results(database, ran["out"])
    households = households_from_file(county_file.path, imported)
    rng = np.random.default_rng(7)
    others = [h.household_no for h in batch.households
              if h.household_no not in ran["dibao"] + ran["tekun"]]  # fmt: skip
    sample = ran["dibao"] + ran["tekun"] + sorted(rng.choice(others, 24, replace=False).tolist())
    compared = 0
    for no in sample:
        household = households[no]
        if no in ran["dibao"]:
            household |= {"is_dibao_recipient": True, "dibao_current_amount": "980.50"}
        if no in ran["tekun"]:
            for member in household["members"]:
                member["is_tekun_recipient"] = True
        for pid, prog in programs().items():
            ev, _ = calculate(prog, household, ON, COUNTY, explain=False)
            expected = (bool(ev.result.eligible[0]), int(ev.result.amount[0]))
            assert got.get((no, pid), (False, 0)) == expected, (no, pid)
            compared += 1
    assert compared == 30 * len(programs())
    paid = {no for (no, pid), (eligible, _) in got.items() if pid == "dibao" and eligible}
    assert paid, "some households are dibao-eligible in the sample county"


def test_snapshot_reads_back_the_facts_of_the_file(
    database: Database, county_file: CountyFile, tmp_path: Path
) -> None:
    from safetynet.registry.snapshot import export_snapshot

    batch = _import(database, county_file)
    manifest = export_snapshot(database, MONTH, tmp_path / "snap")
    assert manifest["counts"] == [
        {"county": COUNTY, "households": len(batch.households),
         "persons": sum(len(h.members) for h in batch.households)}
    ]  # fmt: skip
    assert manifest["audit_head"]["sequence"] > 0
    back = read_county(tmp_path / "snap", COUNTY)
    made = generate_county(COUNTY, PERSONS, seed=3, on=ON)
    assert back.id_number is not None
    assert made.id_number is not None
    row_of = {str(n): i for i, n in enumerate(made.id_number)}
    rows = np.array([row_of[str(n)] for n in back.id_number])
    household_rows = made.population.household_of[rows]
    first = back.population.starts
    carried = [f for _, (f, _) in PERSON_COLUMNS.items() if f != "id_number"]
    carried += ["birth_date", "sex"]
    for name in carried:
        assert np.array_equal(back.population.p(name), made.population.p(name)[rows]), name
    for name in [f for _, (f, _) in HOUSEHOLD_COLUMNS.items()] + list(SUMMED.values()):
        want = made.population.h(name)[household_rows[first]]
        assert np.array_equal(back.population.h(name), want), name
    assert FIELDS.get("tekun_supporter_status")  # a fact column read back through person_facts
