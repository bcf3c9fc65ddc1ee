"""The words the registry stores for coded facts, and the Chinese words a county office writes.

Each vocabulary is a tuple of stored (English) codes, the same codes the rules engine uses
(``policy.population``), plus a mapping from the spreadsheet words to those codes. Nothing here
does I/O.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from safetynet.policy.population import DISABILITY_CATEGORIES, HUKOU_TYPES, RELATIONS

__all__ = [
    "ASSET_KINDS",
    "DISABILITY_CATEGORIES",
    "EMPLOYMENT",
    "ENROLMENT_STATUSES",
    "HUKOU_TYPES",
    "INCOME_KINDS",
    "LABOUR_CAPACITY",
    "RELATIONS",
    "SCHOOLING",
    "SEXES",
    "SYNONYMS",
]

SEXES: Final = ("male", "female")

LABOUR_CAPACITY: Final = ("full", "partial", "none")
"""有劳动能力 / 部分丧失劳动能力 / 无劳动能力 (as assessed for dibao and tekun)."""

SCHOOLING: Final = (
    "none",
    "preschool",
    "primary",
    "junior_secondary",
    "senior_high",
    "secondary_vocational",
    "higher_education",
)
"""The stages of ``education_stage`` (programs/education_assistance.STAGES; a test keeps them equal)."""

EMPLOYMENT: Final = ("employed", "flexible", "unemployed", "not_working")
"""就业 / 灵活就业 / 失业 (registered unemployed) / 未就业 (not working, not registered)."""

INCOME_KINDS: Final = ("wage", "business", "property", "transfer", "pension", "other")

ASSET_KINDS: Final = ("deposits", "securities", "vehicle", "property", "business")

ENROLMENT_STATUSES: Final = ("active", "suspended", "ended")

SYNONYMS: Final = MappingProxyType(
    {
        "relation": MappingProxyType(
            {
                "户主": "head",
                "本人": "head",
                "配偶": "spouse",
                "子女": "child",
                "子": "child",
                "女": "child",
                "儿子": "child",
                "女儿": "child",
                "父母": "parent",
                "父亲": "parent",
                "母亲": "parent",
                "孙子女": "grandchild",
                "孙子": "grandchild",
                "孙女": "grandchild",
                "外孙子女": "grandchild",
                "祖父母": "grandparent",
                "外祖父母": "grandparent",
                "兄弟姐妹": "sibling",
                "其他": "other",
            }
        ),
        "hukou_type": MappingProxyType(
            {
                "城镇": "urban",
                "非农业": "urban",
                "非农业户口": "urban",
                "城镇户口": "urban",
                "农村": "rural",
                "农业": "rural",
                "农业户口": "rural",
                "农村户口": "rural",
            }
        ),
        "sex": MappingProxyType({"男": "male", "女": "female"}),
        "disability_category": MappingProxyType(
            {
                "无": "none",
                "": "none",
                "视力": "visual",
                "听力": "hearing",
                "言语": "speech",
                "肢体": "physical",
                "智力": "intellectual",
                "精神": "mental",
                "多重": "multiple",
            }
        ),
        "labour_capacity": MappingProxyType(
            {
                "有": "full",
                "有劳动能力": "full",
                "完全": "full",
                "部分": "partial",
                "部分丧失劳动能力": "partial",
                "无": "none",
                "无劳动能力": "none",
                "丧失劳动能力": "none",
            }
        ),
        "schooling": MappingProxyType(
            {
                "无": "none",
                "否": "none",
                "学前": "preschool",
                "学前教育": "preschool",
                "小学": "primary",
                "初中": "junior_secondary",
                "高中": "senior_high",
                "中职": "secondary_vocational",
                "高等教育": "higher_education",
                "大学": "higher_education",
            }
        ),
        "employment": MappingProxyType(
            {
                "就业": "employed",
                "灵活就业": "flexible",
                "失业": "unemployed",
                "未就业": "not_working",
                "无": "not_working",
            }
        ),
    }
)
"""Spreadsheet word → stored code, per field. The English codes themselves are accepted too."""
