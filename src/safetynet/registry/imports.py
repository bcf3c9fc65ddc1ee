"""Read a county office's household list (CSV or XLSX, one row per person) and validate it.

``read_table`` turns a file into rows of text through the intake kit (``safetynet.intake``: UTF-8 or
GB18030/GBK detected, the header found below title rows, Chinese or English headers mapped to the
registry's column names); ``validate`` turns rows into whole households ready to import and
quarantined rows, each with its row number, field and reason. A household with any bad row is
quarantined whole, so no half household is ever imported. File-level problems (corrupt workbook,
unknown column, undecodable text) raise ``InputError``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetynet.domain.identity import Sex, parse_identity_number
from safetynet.domain.regions import parse_statistical_code
from safetynet.errors import InputError
from safetynet.intake import (
    Column,
    IntakeLimits,
    NullProgress,
    ProgressSink,
    QuarantineLine,
    RawRow,
    cell_problems,
    intake_limits,
    parse_area,
    parse_count,
    parse_date_text,
    parse_money,
    parse_month,
    parse_region,
    read_sheet,
)
from safetynet.policy.population import Entity
from safetynet.registry.fact_columns import fact_columns, fact_entity, parse_fact_cell
from safetynet.registry.model import ADDRESS_LENGTH
from safetynet.registry.vocabulary import (
    DISABILITY_CATEGORIES,
    EMPLOYMENT,
    HUKOU_TYPES,
    LABOUR_CAPACITY,
    RELATIONS,
    SCHOOLING,
    SEXES,
    SYNONYMS,
)

__all__ = [
    "COLUMNS",
    "AssetTotal",
    "HouseholdRecord",
    "PersonRecord",
    "RawTable",
    "ValidatedImport",
    "read_table",
    "validate",
]

COLUMNS: tuple[Column, ...] = (
    Column("household_no", ("户编号", "户号"), True, "the county's household number"),
    Column("name", ("姓名",), True, "name"),
    Column("id_number", ("身份证号", "身份证号码", "公民身份号码"), True, "identity number"),
    Column("relation", ("与户主关系",), True, "relation to the head (户主 = head)"),
    Column("region", ("户籍地", "户籍地代码", "行政区划代码"), True, "6-digit hukou region"),
    Column("hukou_type", ("户籍性质", "户口性质"), True, "城镇/农村 (urban/rural)"),
    Column("statistical_code", ("统计区划代码",), False, "12-digit statistical code"),
    Column("address", ("住址", "家庭住址", "地址"), False, "the household's address"),
    Column("sex", ("性别",), False, "男/女; must agree with the identity number"),
    Column("birth_date", ("出生日期",), False, "YYYY-MM-DD; must agree with the identity number"),
    Column("disability_category", ("残疾类别",), False, "无/视力/听力/言语/肢体/智力/精神/多重"),
    Column("disability_grade", ("残疾等级",), False, "0 (none) or 1-4"),
    Column("has_serious_illness", ("重病",), False, "是/否"),
    Column("labour_capacity", ("劳动能力",), False, "有/部分/无 (full/partial/none)"),
    Column("self_care_items_failed", ("生活自理", "生活不能自理项数"), False, "0-6"),
    Column("schooling", ("在学",), False, "无/学前/小学/初中/高中/中职/高等教育"),
    Column("employment", ("就业",), False, "就业/灵活就业/失业/未就业"),
    Column("wage_income", ("月工资",), False, "monthly wage in yuan"),
    Column("business_income", ("经营净收入",), False, "monthly net business income in yuan"),
    Column("property_income", ("财产净收入",), False, "monthly net property income in yuan"),
    Column("transfer_income", ("转移净收入",), False, "monthly net transfer income in yuan"),
    Column("pension_income", ("养老金", "离退休金"), False, "monthly pension received in yuan"),
    Column("income_month", ("收入月份",), False, "YYYY-MM of the incomes (or --month)"),
    Column("deposits", ("存款",), False, "bank deposits in yuan"),
    Column("securities", ("有价证券", "证券"), False, "securities in yuan"),
    Column("vehicles", ("车辆", "车辆数"), False, "number of vehicles"),
    Column("vehicle_value", ("车辆价值",), False, "value of the vehicles in yuan"),
    Column("properties", ("房产", "房产数"), False, "number of properties"),
    Column("property_area", ("房产面积",), False, "floor area of the properties in m²"),
    Column("business_registrations", ("工商登记",), False, "number of business registrations"),
)


_BY_NAME = {c.name: c for c in COLUMNS}

# Income columns → the registry's income kinds (one item per person, kind and month).
_INCOME_COLUMNS = {
    "wage_income": "wage",
    "business_income": "business",
    "property_income": "property",
    "transfer_income": "transfer",
    "pension_income": "pension",
}


_ASSET_PARTS: Mapping[str, tuple[str | None, str | None, str | None]] = {
    "deposits": ("deposits", None, None),
    "securities": ("securities", None, None),
    "vehicle": ("vehicle_value", "vehicles", None),
    "property": (None, "properties", "property_area"),
    "business": (None, "business_registrations", None),
}


_PERSON_COLUMNS = (
    "sex",
    "birth_date",
    "region",
    "hukou_type",
    "disability_category",
    "disability_grade",
    "has_serious_illness",
    "labour_capacity",
    "self_care_items_failed",
    "schooling",
    "employment",
)


@dataclass(frozen=True)
class RawTable:
    path: Path
    headers: tuple[str, ...]  # as written in the file
    columns: tuple[str, ...]  # the registry's names, same order
    rows: list[RawRow]
    encoding: str | None  # None for XLSX
    header_row: int = 1
    ignored: tuple[str, ...] = ()


def read_table(path: Path, encoding: str | None = None, header_row: int | None = None) -> RawTable:
    """Read a CSV or XLSX household list; raise ``InputError`` naming the file if it cannot be."""
    # Program facts (registry.fact_columns) may follow as extra columns.
    sheet = read_sheet(path, encoding, COLUMNS + fact_columns(), header_row)
    return RawTable(
        path,
        sheet.headers,
        sheet.columns,
        sheet.rows,
        sheet.encoding,
        sheet.header_row,
        sheet.ignored,
    )


@dataclass(frozen=True, slots=True)
class AssetTotal:
    """A household's asset of one kind, summed over its rows."""

    value_fen: int = 0
    count: int | None = None
    area_dm2: int | None = None

    def __add__(self, other: AssetTotal) -> AssetTotal:
        def plus(a: int | None, b: int | None) -> int | None:
            return None if a is None and b is None else (a or 0) + (b or 0)

        return AssetTotal(
            self.value_fen + other.value_fen,
            plus(self.count, other.count),
            plus(self.area_dm2, other.area_dm2),
        )


@dataclass(frozen=True)
class PersonRecord:
    """One validated row. ``attributes`` holds only the person facts the file gives;
    ``facts``/``household_facts`` the program facts of its fact columns (canonical text), from
    ``month`` (the row's 收入月份 or ``--month``; None: the import date)."""

    row: int
    id_number: str
    name: str
    relation: str
    attributes: dict[str, Any]
    income: dict[tuple[str, str], int]  # (kind, YYYY-MM) -> fen
    assets: dict[str, AssetTotal]
    facts: dict[str, str] = field(default_factory=dict)
    household_facts: dict[str, str] = field(default_factory=dict)
    month: str | None = None


@dataclass(frozen=True)
class HouseholdRecord:
    household_no: str
    region: str
    hukou_type: str
    statistical_code: str | None
    statistical_code_given: bool
    members: list[PersonRecord]
    assets: dict[str, AssetTotal]  # only the kinds whose columns the file has
    facts: dict[str, str] = field(default_factory=dict)  # household program facts given
    facts_month: str | None = None  # YYYY-MM they hold from (None: the import date)

    @property
    def rows(self) -> list[int]:
        return [m.row for m in self.members]

    @property
    def key(self) -> tuple[str, str]:
        return (self.region, self.household_no)


@dataclass
class ValidatedImport:
    path: Path
    headers: tuple[str, ...]
    read: int
    households: list[HouseholdRecord]
    quarantine: list[QuarantineLine]
    raw: dict[int, tuple[str, ...]] = field(repr=False)

    @property
    def quarantined_rows(self) -> int:
        return len({q.row for q in self.quarantine})

    def quarantine_household(self, household: HouseholdRecord, field: str, reason: str) -> None:
        """Move a whole household to quarantine (used for checks against the database)."""
        self.households.remove(household)
        for row in household.rows:
            self.quarantine.append(QuarantineLine(row, field, reason, self.raw[row]))


_FACT_NAMES = frozenset(c.name for c in fact_columns())
_GRADE_WORDS = {"一级": 1, "二级": 2, "三级": 3, "四级": 4, "无": 0}


def validate(
    table: RawTable,
    *,
    month: str | None = None,
    progress: ProgressSink | None = None,
    as_of: dt.date | None = None,
) -> ValidatedImport:
    """Check every row and every household; return what can be imported and what cannot.

    ``as_of`` is the record's date (the start of the memberships, default today): birth dates
    after it are refused; the plausible window of ``intake_limits`` is that of today, the import
    date (memberships may be back-dated, wages of later months still belong to the file)."""
    sink = progress or NullProgress()
    limits = dataclasses.replace(intake_limits(), as_of=as_of or dt.date.today())
    default_month = parse_month(month, "--month") if month else None
    quarantine: list[QuarantineLine] = []
    raw = {r.number: r.cells for r in table.rows}
    groups: dict[str, list[PersonRecord]] = {}
    bad_rows: dict[str, list[int]] = {}
    sink.start("Validating rows", len(table.rows))
    for raw_row in table.rows:
        cells = raw_row.cells
        values = {c: cells[i] if i < len(cells) else "" for i, c in enumerate(table.columns)}
        household_no = _norm(values.get("household_no", ""))
        problems = cell_problems(raw_row, table.columns)
        record = (
            _parse_row(raw_row, values, default_month, problems, limits) if not problems else None
        )
        if problems or record is None:
            quarantine.extend(
                QuarantineLine(raw_row.number, f, r, raw_row.cells) for f, r in problems
            )
            if household_no:
                bad_rows.setdefault(household_no, []).append(raw_row.number)
        else:
            groups.setdefault(household_no, []).append(record)
        sink.advance()

    households = group_households(groups, bad_rows, table.columns, raw, quarantine)
    quarantine.sort(key=lambda q: q.row)
    return ValidatedImport(table.path, table.headers, len(table.rows), households, quarantine, raw)


def group_households(
    groups: Mapping[str, list[PersonRecord]],
    bad_rows: Mapping[str, list[int]],
    columns: Sequence[str],
    raw: Mapping[int, tuple[str, ...]],
    quarantine: list[QuarantineLine],
) -> list[HouseholdRecord]:
    """Parsed rows grouped by household into whole households; a household with a bad row, a
    missing or second head, or a member listed in another household of the file is quarantined
    whole (every row with its reason, appended to ``quarantine``). Shared by the row validator
    and the column validator (``registry.bulk_households``)."""
    # Identity numbers that occur in more than one household of the file.
    seen: dict[str, list[tuple[str, int]]] = {}
    for household_no, members in groups.items():
        for m in members:
            seen.setdefault(m.id_number, []).append((household_no, m.row))

    # The asset kinds the file has a column of (a household sums its members' totals of each).
    asset_kinds = [
        kind for kind, parts in _ASSET_PARTS.items() if any(c in columns for c in parts if c)
    ]
    households: list[HouseholdRecord] = []
    for household_no, members in groups.items():
        bad = bad_rows.get(household_no, [])
        # With bad rows the head may be among them: count heads only in complete households.
        problems_by_row = _household_problems(household_no, members, seen, check_heads=not bad)
        if problems_by_row or bad:
            for m in members:
                for f, reason in problems_by_row.get(m.row, []):
                    quarantine.append(QuarantineLine(m.row, f, reason, raw[m.row]))
                if m.row not in problems_by_row:
                    where = ", ".join(str(r) for r in sorted(bad + list(problems_by_row)))
                    quarantine.append(
                        QuarantineLine(
                            m.row,
                            "household_no",
                            f"household {household_no} has bad rows ({where}); "
                            "none of its rows was imported",
                            raw[m.row],
                        )
                    )
            continue
        households.append(_household(household_no, members, columns, asset_kinds))
    return households


def _household_problems(
    household_no: str,
    members: list[PersonRecord],
    seen: Mapping[str, list[tuple[str, int]]],
    *,
    check_heads: bool,
) -> dict[int, list[tuple[str, str]]]:
    problems: dict[int, list[tuple[str, str]]] = {}

    def add(row: int, field_name: str, reason: str) -> None:
        problems.setdefault(row, []).append((field_name, reason))

    first_row: dict[str, int] = {}
    for m in members:
        elsewhere = [(h, r) for h, r in seen[m.id_number] if h != household_no]
        if elsewhere:
            other, other_row = elsewhere[0]
            add(
                m.row,
                "id_number",
                f"the same person is also in household {other} (row {other_row}); "
                "a person belongs to one household",
            )
        if m.id_number in first_row:
            add(
                m.row,
                "id_number",
                f"duplicate identity number in household {household_no}: "
                f"also on row {first_row[m.id_number]}",
            )
        else:
            first_row[m.id_number] = m.row
    _household_fact_conflicts(members, add)
    heads = [m.row for m in members if m.relation == "head"]
    if check_heads and len(heads) != 1:
        reason = (
            f"household {household_no} has no head (户主); it needs exactly one"
            if not heads
            else f"household {household_no} has {len(heads)} heads (rows "
            f"{', '.join(map(str, heads))}); it needs exactly one"
        )
        for m in members:
            add(m.row, "relation", reason)
    return problems


def _household_fact_conflicts(
    members: list[PersonRecord], add: Callable[[int, str, str], None]
) -> None:
    """A household fact given on several rows of a household must be the same on each."""
    first: dict[str, tuple[str, int]] = {}
    for m in members:
        for name, value in m.household_facts.items():
            if name not in first:
                first[name] = (value, m.row)
            elif first[name][0] != value:
                add(m.row, name, f"is {value} but {first[name][0]} on row {first[name][1]} "
                    "of the same household; a household fact has one value")  # fmt: skip


def _household_facts(members: list[PersonRecord]) -> tuple[dict[str, str], str | None]:
    facts: dict[str, str] = {}
    month = None
    for m in members:
        for name, value in m.household_facts.items():
            if name not in facts:
                facts[name] = value
                month = month or m.month
    return facts, month


def _household(
    household_no: str,
    members: list[PersonRecord],
    columns: Sequence[str],
    asset_kinds: Sequence[str],
) -> HouseholdRecord:
    head = next(m for m in members if m.relation == "head")
    assets = {kind: _sum_assets(m.assets.get(kind) for m in members) for kind in asset_kinds}
    facts, facts_month = _household_facts(members)
    return HouseholdRecord(
        household_no=household_no,
        region=head.attributes["region"],
        hukou_type=head.attributes["hukou_type"],
        statistical_code=head.attributes.get("statistical_code"),
        statistical_code_given="statistical_code" in columns,
        members=members,
        assets=assets,
        facts=facts,
        facts_month=facts_month,
    )


def _sum_assets(totals: Iterable[AssetTotal | None]) -> AssetTotal:
    """``AssetTotal() + t1 + t2 + …`` (a missing total counts as ``AssetTotal()``), without an
    object per step: a county has a million members."""
    value, count, area = 0, None, None
    for t in totals:
        if t is None:
            continue
        value += t.value_fen
        if t.count is not None:
            count = (count or 0) + t.count
        if t.area_dm2 is not None:
            area = (area or 0) + t.area_dm2
    return AssetTotal(value, count, area)


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _parse_row(
    raw_row: RawRow,
    values: Mapping[str, str],
    default_month: str | None,
    problems: list[tuple[str, str]],
    limits: IntakeLimits,
) -> PersonRecord | None:
    """Parse one row, appending each (field, reason) problem; None if a required part failed."""
    row = raw_row.number

    def attempt(field_name: str | None, parse: Callable[[str], Any]) -> Any:
        if field_name is None:
            return None
        text = _norm(values.get(field_name, ""))
        try:
            return parse(text)
        except InputError as exc:
            problems.append((field_name, exc.reason))
            return None

    for column in COLUMNS:
        if column.required and column.name in values and not _norm(values[column.name]):
            problems.append((column.name, f"is required ({column.description})"))
    if problems:
        return None

    name = _norm(values["name"])
    if "id_number" in raw_row.numeric:
        problems.append(
            (
                "id_number",
                "is stored as a number in the spreadsheet, which loses digits: "
                "format the column as text and type the numbers again",
            )
        )
        return None
    identity = attempt(
        "id_number",
        lambda t: parse_identity_number(
            t, "id_number", row, as_of=limits.as_of, earliest_birth=limits.earliest_birth
        ),
    )
    relation = attempt("relation", lambda t: _choice(t, "relation", RELATIONS))
    attributes: dict[str, Any] = {}
    for name_of_field in _PERSON_COLUMNS:
        if name_of_field == "birth_date" and name_of_field in values:
            attributes[name_of_field] = attempt(
                name_of_field, lambda t: _birth_date(t, "birth_date", limits)
            )
        elif name_of_field in values:
            attributes[name_of_field] = attempt(name_of_field, _PARSERS[name_of_field])
    if "statistical_code" in values:
        attributes["statistical_code"] = attempt(
            "statistical_code",
            lambda t: parse_statistical_code(t).code if t else None,
        )
    if "address" in values:
        attributes["address"] = attempt("address", _address)
    if identity is not None:
        _check_against_identity(identity, attributes, values, problems)
    if attributes.get("disability_grade") is not None and "disability_category" in attributes:
        category, grade = attributes["disability_category"], attributes["disability_grade"]
        if category == "none" and grade:
            problems.append(("disability_grade", f"is {grade} but the disability category is none"))
        elif category not in (None, "none") and not grade:
            problems.append(("disability_grade", f"a {category} disability needs a grade 1-4"))

    income, income_month = _incomes(values, default_month, limits, attempt, problems)
    facts: dict[str, dict[str, str]] = {Entity.PERSON: {}, Entity.HOUSEHOLD: {}}
    for fact_name in values.keys() & _FACT_NAMES:
        if not values[fact_name] or values[fact_name].isspace():
            continue  # a blank cell: the fact is not given (most cells of most columns)
        fact = attempt(fact_name, _fact_parser(fact_name, limits.maximum_fen))
        if fact is not None:
            facts[fact_entity(fact_name)][fact_name] = fact

    assets: dict[str, AssetTotal] = {}
    for kind, (value_col, count_col, area_col) in _ASSET_PARTS.items():
        if not any(c in values for c in (value_col, count_col, area_col) if c):
            continue
        value = (
            attempt(value_col, _money_or_zero(value_col, limits.maximum_fen))
            if value_col in values
            else 0
        )
        count = attempt(count_col, _count_or_zero(count_col)) if count_col in values else None
        area = attempt(area_col, parse_area) if area_col in values else None
        assets[kind] = AssetTotal(value or 0, count, area)

    if problems or identity is None or relation is None:
        return None
    return PersonRecord(
        row=row,
        id_number=identity.value,
        name=name,
        relation=relation,
        attributes=attributes,
        income=income,
        assets=assets,
        facts=facts[Entity.PERSON],
        household_facts=facts[Entity.HOUSEHOLD],
        month=income_month,
    )


def _incomes(
    values: Mapping[str, str],
    default_month: str | None,
    limits: IntakeLimits,
    attempt: Callable[[str | None, Callable[[str], Any]], Any],
    problems: list[tuple[str, str]],
) -> tuple[dict[tuple[str, str], int], str | None]:
    """The row's income items by (kind, month), and the row's month (收入月份 or --month)."""
    month_text = _norm(values.get("income_month", ""))
    month = (
        attempt(
            "income_month",
            lambda t: limits.check_month(parse_month(t, "income_month"), "income_month"),
        )
        if month_text
        else default_month
    )
    given = [c for c in _INCOME_COLUMNS if _norm(values.get(c, ""))]
    if given and month is None and not month_text:
        problems.append(
            ("income_month", "is required when an income is given (or pass --month YYYY-MM)")
        )
    income: dict[tuple[str, str], int] = {}
    for column in given:
        amount = attempt(column, _money_parser(column, limits.maximum_fen))
        if amount is not None and month is not None:
            income[(_INCOME_COLUMNS[column], month)] = amount
    return income, month


def _fact_parser(name: str, maximum_fen: int | None) -> Callable[[str], str | None]:
    return lambda text: parse_fact_cell(name, text, maximum_fen)


def _money_parser(name: str, maximum_fen: int | None) -> Callable[[str], int]:
    return lambda text: parse_money(text, name, maximum_fen)


def _check_against_identity(
    identity: Any,
    attributes: dict[str, Any],
    values: Mapping[str, str],
    problems: list[tuple[str, str]],
) -> None:
    born: dt.date = identity.birth_date
    sex = "male" if identity.sex is Sex.MALE else "female"
    given_birth = attributes.get("birth_date")
    if given_birth is not None and given_birth != born:
        problems.append(
            ("birth_date", f"{given_birth} contradicts the identity number ({identity.masked})")
        )
    given_sex = attributes.get("sex")
    if given_sex is not None and given_sex != sex:
        problems.append(
            ("sex", f"{values.get('sex')} contradicts the identity number ({identity.masked})")
        )
    attributes["birth_date"] = born
    attributes["sex"] = sex


def _choice(text: str, field_name: str, choices: tuple[str, ...]) -> str:
    synonyms: Mapping[str, str] = SYNONYMS.get(field_name, {})
    value = synonyms.get(text)
    if value is None and field_name == "disability_category":
        value = synonyms.get(text.removesuffix("残疾"))
    if value is None and text.lower() in choices:
        value = text.lower()
    if value is None:
        words = [w for w in synonyms if w]
        listed = "/".join(words + list(choices))
        raise InputError(field_name, f"{text!r} is not one of {listed}")
    return value


def _optional_choice(
    field_name: str, choices: tuple[str, ...], blank: str | None
) -> Callable[[str], Any]:
    def parse(text: str) -> str | None:
        return blank if not text else _choice(text, field_name, choices)

    return parse


def _birth_date(text: str, field_name: str, limits: IntakeLimits) -> dt.date | None:
    born = parse_date_text(text, field_name)
    if born is not None:
        limits.check_birth(born, field_name)
    return born


def _money_or_zero(field_name: str | None, maximum_fen: int | None) -> Callable[[str], int]:
    return lambda text: parse_money(text, str(field_name), maximum_fen) if text else 0


def _count_or_zero(field_name: str | None) -> Callable[[str], int]:
    return lambda text: parse_count(text, 10_000, str(field_name)) if text else 0


def _grade(text: str) -> int:
    if not text:
        return 0
    if text in _GRADE_WORDS:
        return _GRADE_WORDS[text]
    return parse_count(text.removesuffix("级"), 4, "disability_grade")


def _yes_no(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("", "否", "无", "no", "n", "false", "0"):
        return False
    if lowered in ("是", "有", "yes", "y", "true", "1"):
        return True
    raise InputError("has_serious_illness", f"{text!r} is not 是/否 (yes/no)")


def _sex(text: str) -> str | None:
    return None if not text else _choice(text, "sex", SEXES)


def _required_choice(field_name: str, choices: tuple[str, ...]) -> Callable[[str], str]:
    return lambda text: _choice(text, field_name, choices)


def _address(text: str) -> str | None:
    if len(text) > ADDRESS_LENGTH:
        raise InputError("address", f"has {len(text)} characters; at most {ADDRESS_LENGTH}")
    return " ".join(text.split()) or None


def _self_care(text: str) -> int:
    return parse_count(text, 6, "self_care_items_failed") if text else 0


_PARSERS: dict[str, Callable[[str], Any]] = {
    "sex": _sex,
    "birth_date": lambda text: parse_date_text(text, "birth_date"),
    "region": parse_region,
    "hukou_type": _required_choice("hukou_type", HUKOU_TYPES),
    "disability_category": _optional_choice("disability_category", DISABILITY_CATEGORIES, "none"),
    "disability_grade": _grade,
    "has_serious_illness": _yes_no,
    "labour_capacity": _optional_choice("labour_capacity", LABOUR_CAPACITY, None),
    "self_care_items_failed": _self_care,
    "schooling": _optional_choice("schooling", SCHOOLING, None),
    "employment": _optional_choice("employment", EMPLOYMENT, None),
}
