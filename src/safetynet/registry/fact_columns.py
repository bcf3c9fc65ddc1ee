"""The program-fact columns a county's household list may carry, and how a cell becomes a fact.

Any field the registry keeps as a fact (``registry.fact_sources``) may be a column, under its
English name (``tekun_supporter_status``) or, for the common ones, a Chinese label (特困供养人
赡养情况). A cell is parsed by the field's kind (amounts in yuan, whole numbers, 是/否, a choice
by its code or Chinese word, a date) and then by the field's own parser, so an import refuses
exactly what ``safetynet calc`` refuses; a blank cell gives no fact.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Final

from safetynet.domain.money import yuan_to_fen
from safetynet.errors import InputError
from safetynet.intake import Column, parse_date_text
from safetynet.policy.population import FIELDS, Entity, Kind, declare_all_fields
from safetynet.registry.fact_sources import fact_fields
from safetynet.registry.facts import canonical_text

__all__ = ["FACT_LABELS", "FACT_WORDS", "fact_columns", "fact_entity", "parse_fact_cell"]

FACT_LABELS: Final = MappingProxyType(
    {
        "tekun_supporter_status": ("赡养抚养扶养人情况", "法定赡养人情况"),
        "ltc_disability_level": ("失能等级", "长护失能等级"),
        "ltc_care_setting": ("长护服务方式",),
        "education_is_boarding": ("寄宿",),
        "education_disabled_out_of_school": ("残疾儿童送教上门",),
        "housing_tenure": ("住房性质", "住房类型"),
        "housing_floor_area_per_person": ("人均住房面积",),
        "housing_is_dilapidated": ("危房",),
        "is_dibao_marginal_registered": ("低保边缘家庭",),
        "is_low_income_monitored": ("低收入监测对象",),
        "social_insurance_paid": ("个人缴纳社保费", "社保个人缴费"),
        "resident_pension_central": ("城乡居民基础养老金",),
        "unemployment_registered": ("失业登记",),
        "unemployment_involuntary": ("非自愿失业",),
        "unemployment_contribution_years": ("失业保险缴费年限",),
        "unemployment_months_drawn": ("已领失业金月数",),
        "medical_scheme": ("医保类型",),
        "medical_in_policy_cost": ("住院政策范围内费用",),
        "medical_hospital_level": ("医院等级",),
        "child_father_status": ("父亲状况",),
        "child_mother_status": ("母亲状况",),
        "child_father_status_months": ("父亲状况月数",),
        "child_mother_status_months": ("母亲状况月数",),
        "excluded_reason": ("不计入共同生活原因",),
        "lives_in_institution": ("集中供养",),
        "temporary_assistance_type": ("临时救助类型",),
        "temporary_assistance_need": ("临时救助需求",),
        "rigid_medical_oop_12m": ("近12个月自付医疗费用",),
    }
)
"""Chinese column labels of the common program facts (the English name is always accepted)."""

_YES = ("是", "有", "yes", "y", "true", "1")
_NO = ("否", "无", "no", "n", "false", "0")

FACT_WORDS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        "housing_tenure": MappingProxyType(
            {
                "自有": "owns",
                "自有住房": "owns",
                "租赁": "rents",
                "租房": "rents",
                "公租房": "public_rental",
                "其他": "other",
            }
        ),
        "tekun_supporter_status": MappingProxyType(
            {
                "有赡养能力": "able",
                "无": "none",
                "无法定赡养人": "none",
                "特困": "tekun",
                "宣告失踪": "declared_missing",
                "无民事行为能力": "no_civil_capacity",
            }
        ),
        "medical_scheme": MappingProxyType({"居民医保": "resident", "职工医保": "employee"}),
        "ltc_care_setting": MappingProxyType(
            {"无": "none", "机构": "institution", "居家": "home", "上门": "home_visit"}
        ),
    }
)
"""Chinese words for the choices of some facts, per field (the stored codes are accepted too)."""


def fact_columns() -> tuple[Column, ...]:
    """One optional column per fact field, in the order the fields are declared."""
    declare_all_fields()
    names = fact_fields()
    return tuple(
        Column(f.name, FACT_LABELS.get(f.name, ()), False, f.description)
        for f in FIELDS.all()
        if f.name in names
    )


def fact_entity(name: str) -> Entity:
    return FIELDS.get(name).entity


def parse_fact_cell(name: str, text: str, maximum_fen: int | None = None) -> str | None:
    """A cell of the fact column ``name`` → the canonical text of the fact, or None if blank;
    an ``InputError`` naming the column says why a value is refused."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    f = FIELDS.get(name)
    if f.kind is Kind.MONEY:
        value: int | bool = yuan_to_fen(text, name, maximum_fen=maximum_fen)
    elif f.kind is Kind.INT:
        value = _whole(text, name)
    elif f.kind is Kind.BOOL:
        value = _yes_no(text, name)
    elif f.kind is Kind.ENUM:
        words: Mapping[str, str] = FACT_WORDS.get(name, {})
        code = words.get(text, text.lower())
        if code not in f.choices:
            listed = "/".join([*words, *f.choices])
            raise InputError(name, f"{text!r} is not one of {listed}")
        value = f.choices.index(code)
    else:
        day = parse_date_text(text, name)
        assert day is not None
        value = day.year * 10000 + day.month * 100 + day.day
    checked = f.parse(_as_json(f.kind, canonical_text(f, value)), name)  # bounds, description
    return canonical_text(f, checked)


def _as_json(kind: Kind, text: str) -> object:
    if kind is Kind.INT:
        return int(text)
    if kind is Kind.BOOL:
        return text == "true"
    return text


def _whole(text: str, name: str) -> int:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InputError(name, f"{text!r} is not a whole number") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise InputError(name, f"{text!r} is not a whole number")
    return int(number)


def _yes_no(text: str, name: str) -> bool:
    lowered = text.lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    raise InputError(name, f"{text!r} is not 是/否 (yes/no)")
