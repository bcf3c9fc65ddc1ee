"""Central adjustment fund of the enterprise employees' basic pension (基本养老保险基金中央调剂,
国发〔2018〕18号), July 2018 to 2021.

Per province and year:

- contribution (上解额) = provincial average wage × 90 % × insured headcount × contribution ratio;
- national per-capita allocation = fund (sum of contributions) ÷ approved retirees nationwide;
- allocation (拨付额) = the province's approved retirees × the per-capita allocation;
- net = allocation − contribution (positive: the province gains).

Money is integer fen. Each contribution is computed exactly (Decimal) and rounded once; the
per-capita allocation is rounded to the fen, so the allocations can differ from the fund by less than
one fen per retiree — that difference is reported as ``residual``. See docs/programs/central_adjustment.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
    localcontext,
)
from typing import Any

from safetynet.domain.money import Rounding, format_yuan, yuan_to_fen
from safetynet.errors import InputError
from safetynet.policy.calculate import parse_date
from safetynet.policy.engine import Params
from safetynet.policy.parameters import (
    NATION,
    ParameterFileError,
    ParameterTree,
    Resolved,
    coerce_value,
    default_tree,
)

P = "insurance.central_adjustment."
RATIO = P + "contribution_ratio"
WAGE_BASE_RATIO = P + "wage_base_ratio"
ROUNDING = "common.rounding.mode"

_DECIMAL_MODES = {
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.HALF_EVEN: ROUND_HALF_EVEN,
    Rounding.HALF_DOWN: ROUND_HALF_DOWN,
    Rounding.DOWN: ROUND_DOWN,
    Rounding.UP: ROUND_UP,
    Rounding.FLOOR: ROUND_FLOOR,
    Rounding.CEILING: ROUND_CEILING,
}


def round_fen(value: Decimal, mode: Rounding) -> int:
    """An exact Decimal amount of fen brought to a whole fen by ``mode``."""
    with localcontext() as ctx:
        ctx.prec = 60
        return int(value.quantize(Decimal(1), rounding=_DECIMAL_MODES[mode]))


@dataclass(frozen=True)
class Province:
    """One province's figures for the year."""

    code: str
    average_wage: int  # fen per year: the weighted non-private and private average wage
    insured_employees: int  # employees who should be insured (在职应参保人数), or the insured count
    retirees: int  # approved number of retirees (核定的离退休人数)
    enterprise_employment: int | None = None  # if given, headcount = mean of the two counts


@dataclass(frozen=True)
class ProvinceResult:
    code: str
    headcount: Decimal
    contribution: int  # fen
    allocation: int  # fen
    net: int  # fen, allocation − contribution


@dataclass(frozen=True)
class AdjustmentResult:
    ratio: Decimal
    wage_base_ratio: Decimal
    fund: int  # fen, sum of the contributions
    total_retirees: int
    per_capita: int  # fen per retiree
    provinces: tuple[ProvinceResult, ...]
    residual: int  # fen, fund − sum of allocations (rounding of the per-capita amount)
    parameters: tuple[Resolved, ...] = ()


def insured_headcount(insured_employees: int, enterprise_employment: int | None = None) -> Decimal:
    """The headcount the contribution is based on: the insured count, or (the provisional 2018 rule)
    the mean of the insured-employee count and the enterprise employment count."""
    if enterprise_employment is None:
        return Decimal(insured_employees)
    return (Decimal(insured_employees) + Decimal(enterprise_employment)) / 2


def provincial_contribution(
    average_wage: int,
    headcount: Decimal,
    ratio: Decimal,
    wage_base_ratio: Decimal,
    mode: Rounding = Rounding.HALF_UP,
) -> int:
    """average wage (fen/year) × wage-base ratio × headcount × contribution ratio, in whole fen."""
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(average_wage) * wage_base_ratio * headcount * ratio
    return round_fen(exact, mode)


def per_capita_allocation(fund: int, total_retirees: int, mode: Rounding = Rounding.HALF_UP) -> int:
    """Fund ÷ approved retirees nationwide, in whole fen."""
    if total_retirees <= 0:
        raise InputError("provinces", "the approved retirees nationwide must be more than 0")
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(fund) / Decimal(total_retirees)
    return round_fen(exact, mode)


def central_adjustment(
    provinces: Sequence[Province],
    *,
    ratio: Decimal,
    wage_base_ratio: Decimal,
    mode: Rounding = Rounding.HALF_UP,
    parameters: Sequence[Resolved] = (),
) -> AdjustmentResult:
    """Contribution, allocation and net of every province, with explicit parameters."""
    _check(provinces)
    heads = [insured_headcount(p.insured_employees, p.enterprise_employment) for p in provinces]
    contributions = [
        provincial_contribution(p.average_wage, h, ratio, wage_base_ratio, mode)
        for p, h in zip(provinces, heads, strict=True)
    ]
    fund = sum(contributions)
    total_retirees = sum(p.retirees for p in provinces)
    per_capita = per_capita_allocation(fund, total_retirees, mode)
    rows = []
    for prov, head, contribution in zip(provinces, heads, contributions, strict=True):
        allocation = prov.retirees * per_capita
        rows.append(
            ProvinceResult(prov.code, head, contribution, allocation, allocation - contribution)
        )
    residual = fund - sum(r.allocation for r in rows)
    return AdjustmentResult(
        ratio,
        wage_base_ratio,
        fund,
        total_retirees,
        per_capita,
        tuple(rows),
        residual,
        tuple(parameters),
    )


def central_adjustment_on(
    provinces: Sequence[Province],
    on: dt.date,
    *,
    overrides: Mapping[str, Any] | None = None,
    tree: ParameterTree | None = None,
) -> AdjustmentResult:
    """The same, with the ratios and rounding in force on ``on`` (national parameters)."""
    p = Params(on, NATION, tree, overrides)
    return central_adjustment(
        provinces,
        ratio=p.ratio(RATIO),
        wage_base_ratio=p.ratio(WAGE_BASE_RATIO),
        mode=p.rounding(ROUNDING),
        parameters=p.used(),
    )


def _check(provinces: Sequence[Province]) -> None:
    if not provinces:
        raise InputError("provinces", "at least one province is required")
    seen: set[str] = set()
    for i, prov in enumerate(provinces):
        where = f"provinces[{i}]"
        if prov.code in seen:
            raise InputError(f"{where}.province", f"{prov.code!r} appears twice")
        seen.add(prov.code)
        for name in ("average_wage", "insured_employees", "retirees"):
            if getattr(prov, name) < 0:
                raise InputError(f"{where}.{name}", "must not be negative")
        if prov.enterprise_employment is not None and prov.enterprise_employment < 0:
            raise InputError(f"{where}.enterprise_employment", "must not be negative")


# -- JSON in, JSON out (for a CLI or an API) ---------------------------------------------------


def _count(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise InputError(where, f"expected a whole number, got {raw!r}")
    if raw < 0:
        raise InputError(where, "must not be negative")
    return raw


def provinces_from_json(rows: Any) -> list[Province]:
    """``[{"province": "A", "average_wage": "100000", "insured_employees": 10000000,
    "retirees": 2000000, "enterprise_employment": 9000000?}, ...]`` (wage in yuan per year)."""
    if not isinstance(rows, list) or not rows:
        raise InputError("provinces", "expected a non-empty list of provinces")
    out = []
    known = {"province", "average_wage", "insured_employees", "retirees", "enterprise_employment"}
    for i, row in enumerate(rows):
        where = f"provinces[{i}]"
        if not isinstance(row, Mapping):
            raise InputError(where, "expected an object")
        for key in row:
            if key not in known:
                raise InputError(
                    f"{where}.{key}", f"unknown field; expected one of {sorted(known)}"
                )
        for key in ("province", "average_wage", "insured_employees", "retirees"):
            if key not in row:
                raise InputError(f"{where}.{key}", "is required")
        employment = row.get("enterprise_employment")
        out.append(
            Province(
                code=str(row["province"]),
                average_wage=yuan_to_fen(row["average_wage"], f"{where}.average_wage"),
                insured_employees=_count(row["insured_employees"], f"{where}.insured_employees"),
                retirees=_count(row["retirees"], f"{where}.retirees"),
                enterprise_employment=None
                if employment is None
                else _count(employment, f"{where}.enterprise_employment"),
            )
        )
    _check(out)
    return out


def result_json(result: AdjustmentResult) -> dict[str, Any]:
    """Amounts as yuan strings, with the parameters used and their provenance."""
    return {
        "contribution_ratio": str(result.ratio),
        "wage_base_ratio": str(result.wage_base_ratio),
        "fund": format_yuan(result.fund),
        "total_retirees": result.total_retirees,
        "per_capita_allocation": format_yuan(result.per_capita),
        "residual": format_yuan(result.residual),
        "provinces": [
            {
                "province": r.code,
                "headcount": str(r.headcount),
                "contribution": format_yuan(r.contribution),
                "allocation": format_yuan(r.allocation),
                "net": format_yuan(r.net),
            }
            for r in result.provinces
        ],
        "parameters": [
            {
                "name": r.name,
                "value": str(r.value),
                "provenance": str(r.provenance),
                "citation": r.cite(),
            }
            for r in result.parameters
        ],
    }


def run_json(doc: Mapping[str, Any], tree: ParameterTree | None = None) -> dict[str, Any]:
    """``{"date": "2020-06-30", "provinces": [...], "overrides": {...}?}`` → the result as JSON."""
    if not isinstance(doc, Mapping):
        raise InputError("input", "expected a JSON object")
    if "date" not in doc:
        raise InputError("date", "is required (the contribution ratio depends on the year)")
    on = parse_date(doc["date"], "date")
    tree = tree or default_tree()
    overrides = {}
    for name, raw in (doc.get("overrides") or {}).items():
        try:
            overrides[name] = coerce_value(tree.spec(name), raw, f"overrides.{name}")
        except ParameterFileError as exc:
            raise InputError(f"overrides.{name}", str(exc)) from None
    provinces = provinces_from_json(doc.get("provinces"))
    out = result_json(central_adjustment_on(provinces, on, overrides=overrides, tree=tree))
    return {"date": on.isoformat(), **out}
