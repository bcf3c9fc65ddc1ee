"""The offices that issue written notices: the prefix of their document numbers, the body that
hears an application for reconsideration of their decisions and the court that hears a lawsuit
(data in ``notice_offices.yaml``, shipped with the package).

An office is a department of a region (``310115`` civil affairs). ``office_key`` names its
sequence of document numbers; ``document_prefix`` its 机关代字 (浦民救); ``document_no`` the
number as printed (浦民救〔2025〕123号).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from safetynet.cases.workflow import DEPARTMENT_TITLES_ZH, Department
from safetynet.domain.regions import NATION_CODE, default_registry

__all__ = ["Office", "office"]


@dataclass(frozen=True)
class Office:
    """One issuing office: a department of a region."""

    region_code: str
    department: Department
    name: str  # 上海市浦东新区民政局
    prefix: str  # 浦民救
    reconsideration_body: str  # 上海市浦东新区人民政府
    court: str  # 上海市浦东新区人民法院

    @property
    def key(self) -> str:
        """The name of the office's sequence of document numbers."""
        return f"{self.region_code}:{self.department.value}"

    def document_no(self, year: int, number: int) -> str:
        return f"{self.prefix}〔{year}〕{number}号"


@cache
def _data() -> dict[str, Any]:
    text = (resources.files("safetynet.cases") / "notice_offices.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _full_name(region: str) -> str:
    return "" if region == NATION_CODE else default_registry().full_name(region)


def office(region: str, department: str) -> Office:
    """The office of ``department`` in ``region`` (a region code from the region list)."""
    dept = Department(department)
    data = _data()
    own: dict[str, Any] = data.get("regions", {}).get(region) or {}
    name = default_registry().get(region).name if region != NATION_CODE else "国"
    abbreviation = str(own.get("abbreviation") or name[:1])
    full = _full_name(region)
    return Office(
        region_code=region,
        department=dept,
        name=full + DEPARTMENT_TITLES_ZH[dept],
        prefix=abbreviation + str(data["departments"][dept.value]) + str(data["word"]),
        reconsideration_body=str(own.get("reconsideration_body") or f"{full}人民政府"),
        court=str(own.get("court") or f"{full}人民法院"),
    )
