"""Division codes of China: GB/T 2260 regions (MCA 2025 list) and 12-digit statistical codes."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files

from safetynet.errors import InputError, UnknownNameError

NATION_CODE = "000000"
"""The pseudo-region standing for the whole nation: the root of every lineage."""

NATION_NAME = "中华人民共和国"

DATA_EDITION = "民政部 中华人民共和国县级以上行政区划代码, 2025 edition"
"""The list regions.csv was taken from; see data/regions.SOURCE.md."""

NON_MAINLAND_PROVINCES = frozenset({"710000", "810000", "820000"})
"""台湾省, 香港特别行政区 and 澳门特别行政区: in the MCA list, with no divisions below them."""

_CODE_RE = re.compile(r"[0-9]{6}")
_STATISTICAL_RE = re.compile(r"[0-9]{12}")


class RegionLevel(StrEnum):
    NATION = "nation"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


@dataclass(frozen=True, slots=True)
class Region:
    """One division: a province-, prefecture- or county-level unit, or the nation itself.

    ``parent`` is None for provinces and the nation. A county's parent is its prefecture-level
    city when the list has a row for the code's first four digits + ``00``, else its province
    (municipalities' districts, 省直辖县级行政区划 such as 429004 仙桃市).
    """

    code: str
    name: str
    level: RegionLevel
    parent: str | None

    @property
    def is_mainland(self) -> bool:
        """False for Taiwan, Hong Kong and Macao, which the list carries as bare province rows."""
        return self.code not in NON_MAINLAND_PROVINCES

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


_NATION = Region(NATION_CODE, NATION_NAME, RegionLevel.NATION, None)
_LEVEL_RANK = {
    RegionLevel.NATION: 0,
    RegionLevel.PROVINCE: 1,
    RegionLevel.CITY: 2,
    RegionLevel.COUNTY: 3,
}


class RegionRegistry:
    """Every division in one list, with the tree built from the ``parent`` column."""

    def __init__(self, regions: Iterable[Region]) -> None:
        by_code: dict[str, Region] = {NATION_CODE: _NATION}
        children: dict[str, list[str]] = {NATION_CODE: []}
        for region in regions:
            if region.code in by_code:
                raise ValueError(f"region list: code {region.code} appears twice")
            if region.level is RegionLevel.NATION:
                raise ValueError(f"region list: {region.code} has level nation")
            by_code[region.code] = region
            children[region.code] = []
        for region in by_code.values():
            if region.level is RegionLevel.NATION:
                continue
            parent_code = NATION_CODE if region.parent is None else region.parent
            parent = by_code.get(parent_code)
            if parent is None:
                raise ValueError(f"region list: {region.code} has unknown parent {parent_code}")
            if (region.level is RegionLevel.PROVINCE) != (region.parent is None):
                raise ValueError(f"region list: only provinces have no parent: {region.code}")
            if _LEVEL_RANK[parent.level] >= _LEVEL_RANK[region.level]:
                raise ValueError(
                    f"region list: {region.code} is not below its parent {parent_code}"
                )
            children[parent_code].append(region.code)
        self._by_code = by_code
        self._lineage: dict[str, tuple[str, ...]] = {}  # the list does not change once built
        self._children = {code: sorted(kids) for code, kids in children.items()}
        self._ordered = [by_code[c] for c in sorted(by_code) if c != NATION_CODE]

    @classmethod
    def load(cls) -> RegionRegistry:
        """Read the packaged ``data/regions.csv`` (columns ``code,name,level,parent``)."""
        text = (files("safetynet.domain") / "data" / "regions.csv").read_text(encoding="utf-8")
        return cls.from_csv(text)

    @classmethod
    def from_csv(cls, text: str) -> RegionRegistry:
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames != ["code", "name", "level", "parent"]:
            raise ValueError(
                f"region list: columns must be code,name,level,parent: {reader.fieldnames}"
            )
        regions = []
        for number, row in enumerate(reader, start=2):
            code, parent = row["code"], row["parent"]
            if not _CODE_RE.fullmatch(code) or code == NATION_CODE:
                raise ValueError(f"region list line {number}: bad code {code!r}")
            if parent and not _CODE_RE.fullmatch(parent):
                raise ValueError(f"region list line {number}: bad parent {parent!r}")
            level = RegionLevel(row["level"])
            regions.append(Region(code, row["name"], level, parent or None))
        return cls(regions)

    def __len__(self) -> int:
        """The number of real divisions (the nation pseudo-region is not counted)."""
        return len(self._by_code) - 1

    def contains(self, code: str) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Region:
        region = self._by_code.get(code)
        if region is None:
            raise UnknownNameError("region", code, self.explain_unknown(code))
        return region

    def explain_unknown(self, code: str) -> str:
        """Why ``code`` is not in the list, for an error message."""
        if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
            return "a region code is 6 digits (GB/T 2260), e.g. 110105"
        where = ""
        province = self._by_code.get(code[:2] + "0000")
        if province is not None:
            where = f" in {province.name}"
        return (
            f"no such code{where} in the {DATA_EDITION}; "
            "it may be an abolished code (old identity numbers keep them)"
        )

    def regions(self, level: RegionLevel | None = None) -> list[Region]:
        """Every real division, or those of one level, in code order."""
        return [r for r in self._ordered if level is None or r.level is level]

    def provinces(self, *, mainland_only: bool = False) -> list[Region]:
        found = self.regions(RegionLevel.PROVINCE)
        return [r for r in found if r.is_mainland] if mainland_only else found

    def ancestors(self, code: str) -> list[Region]:
        """The region itself, then its parent, and so on up to its province (nation excluded)."""
        region = self.get(code)
        chain = [region]
        while region.parent is not None:
            region = self._by_code[region.parent]
            chain.append(region)
        return chain

    def lineage_codes(self, code: str) -> list[str]:
        """Codes from the nation down to ``code``: ``["000000", province, (city,) county]``.

        This is the order in which parameter values are inherited: each later code overrides
        the earlier ones.
        """
        found = self._lineage.get(code)
        if found is None:
            if self.get(code).level is RegionLevel.NATION:
                found = (NATION_CODE,)
            else:
                found = (NATION_CODE, *(r.code for r in reversed(self.ancestors(code))))
            self._lineage[code] = found
        return list(found)

    def province_of(self, code: str) -> Region:
        """The province-level unit ``code`` lies in (a province is in itself)."""
        top = self.ancestors(code)[-1]
        if top.level is not RegionLevel.PROVINCE:
            raise InputError("region", f"{code} is the whole nation, which lies in no province")
        return top

    def city_of(self, code: str) -> Region | None:
        """The prefecture-level unit ``code`` lies in, itself if it is one.

        None for provinces, the nation, and counties directly under a province (the districts
        of 北京/天津/上海/重庆, 省直辖县级行政区划 such as 429004 仙桃市).
        """
        for region in self.ancestors(code):
            if region.level is RegionLevel.CITY:
                return region
        return None

    def children(self, code: str) -> list[Region]:
        """The divisions directly below ``code``, in code order (the nation's are the provinces)."""
        self.get(code)
        return [self._by_code[c] for c in self._children[code]]

    def counties_in(self, code: str) -> list[Region]:
        """Every county-level unit within ``code``, in code order; a county is within itself."""
        region = self.get(code)
        if region.level is RegionLevel.COUNTY:
            return [region]
        found: list[Region] = []
        for child in self.children(code):
            found.extend(self.counties_in(child.code))
        return sorted(found, key=lambda r: r.code)

    def search(self, name_fragment: str) -> list[Region]:
        """Divisions whose name contains ``name_fragment``, in code order; none for a blank one."""
        fragment = name_fragment.strip()
        if not fragment:
            return []
        return [r for r in self._ordered if fragment in r.name]

    def full_name(self, code: str) -> str:
        """The names from province down, e.g. ``北京市朝阳区`` or ``河北省石家庄市长安区``."""
        return "".join(r.name for r in reversed(self.ancestors(code)))


@cache
def default_registry() -> RegionRegistry:
    """The packaged list, read on first use and kept."""
    return RegionRegistry.load()


def region_subtree(code: str) -> list[str]:
    """``code`` and every division below it (the offices whose work a region oversees)."""
    registry = default_registry()
    found = [registry.get(code).code]
    for child in registry.children(code):
        found.extend(region_subtree(child.code))
    return found


def validate_region_code(
    value: str, field: str = "region", registry: RegionRegistry | None = None
) -> str:
    """Return ``value`` as a known 6-digit code (surrounding spaces removed), or say what is wrong.

    ``000000`` (the nation) is accepted.
    """
    if not isinstance(value, str):
        raise InputError(
            field, f"a region code is a string of 6 digits, got {type(value).__name__}"
        )
    code = value.strip()
    if not _CODE_RE.fullmatch(code):
        raise InputError(field, f"{value!r} is not a region code: expected 6 digits, e.g. 110105")
    registry = registry if registry is not None else default_registry()
    if not registry.contains(code):
        raise InputError(field, f"unknown region code {code}: {registry.explain_unknown(code)}")
    return code


# 12-digit statistical division codes (统计用区划代码): county (6) + township (3) + village (3).
# The township and village ranges below follow the GB/T 10114 convention as commonly described;
# they are unverified against the text of GB/T 10114 ([M]).


class TownshipKind(StrEnum):
    SUBDISTRICT = "subdistrict"  # 001-099 街道
    TOWN = "town"  # 100-199 镇
    TOWNSHIP = "township"  # 200-399 乡
    STATE_UNIT = "state_farm_or_forestry"  # 400-599 国有农场、林场等
    OTHER = "other"  # 600-999


class VillageKind(StrEnum):
    RESIDENTS_COMMITTEE = "residents_committee"  # 001-199 居委会
    VILLAGERS_COMMITTEE = "villagers_committee"  # 200-399 村委会
    OTHER = "other"  # 400-999


def _township_kind(part: str) -> TownshipKind | None:
    n = int(part)
    if n == 0:
        return None
    if n <= 99:
        return TownshipKind.SUBDISTRICT
    if n <= 199:
        return TownshipKind.TOWN
    if n <= 399:
        return TownshipKind.TOWNSHIP
    if n <= 599:
        return TownshipKind.STATE_UNIT
    return TownshipKind.OTHER


def _village_kind(part: str) -> VillageKind | None:
    n = int(part)
    if n == 0:
        return None
    if n <= 199:
        return VillageKind.RESIDENTS_COMMITTEE
    if n <= 399:
        return VillageKind.VILLAGERS_COMMITTEE
    return VillageKind.OTHER


@dataclass(frozen=True, slots=True)
class StatisticalCode:
    """A parsed 12-digit statistical code.

    ``township == "000"`` means the code stands for the county itself, ``village == "000"`` the
    township itself; the matching kind is then None.
    """

    county_code: str
    township: str
    village: str
    township_kind: TownshipKind | None
    village_kind: VillageKind | None

    @property
    def code(self) -> str:
        return self.county_code + self.township + self.village

    @property
    def township_code(self) -> str | None:
        """The 9-digit township code, None when the code stands for the county."""
        return None if self.township == "000" else self.county_code + self.township

    @property
    def refers_to(self) -> str:
        """``county``, ``township`` or ``village``: what the code stands for."""
        if self.township == "000":
            return "county"
        return "township" if self.village == "000" else "village"

    def __str__(self) -> str:
        return self.code


def parse_statistical_code(
    value: str, field: str = "statistical_code", registry: RegionRegistry | None = None
) -> StatisticalCode:
    """Split a 12-digit statistical code and check its county part is a known county.

    The county part may also be a prefecture-level city that has no counties (441900 东莞市,
    442000 中山市, 460400 儋州市, 620200 嘉峪关市), whose townships sit directly under it.
    County parts that exist only in the statistical list (development zones such as 130171)
    are not GB/T 2260 codes and are refused.
    """
    if not isinstance(value, str):
        raise InputError(
            field, f"a statistical code is a string of 12 digits, got {type(value).__name__}"
        )
    code = value.strip()
    if not _STATISTICAL_RE.fullmatch(code):
        raise InputError(
            field, f"{value!r} is not a statistical code: expected 12 digits, e.g. 110105001000"
        )
    county, township, village = code[:6], code[6:9], code[9:]
    registry = registry if registry is not None else default_registry()
    if not registry.contains(county):
        raise InputError(
            field,
            f"{code}: unknown county code {county}: {registry.explain_unknown(county)}, "
            "or a statistics-only unit such as a development zone",
        )
    region = registry.get(county)
    county_like = region.level is RegionLevel.COUNTY or (
        region.level is RegionLevel.CITY and not registry.children(county)
    )
    if not county_like:
        raise InputError(
            field,
            f"{code}: the first 6 digits must be a county-level code, {region} is a {region.level}",
        )
    if township == "000" and village != "000":
        raise InputError(
            field, f"{code}: a village code ({village}) needs a township code, got 000"
        )
    return StatisticalCode(
        county, township, village, _township_kind(township), _village_kind(village)
    )
