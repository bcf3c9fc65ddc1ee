"""Region codes: the packaged national list, lookups a user relies on, and code validation."""

from __future__ import annotations

import pytest

from safetynet.domain.regions import (
    NATION_CODE,
    Region,
    RegionLevel,
    RegionRegistry,
    TownshipKind,
    VillageKind,
    default_registry,
    parse_statistical_code,
    validate_region_code,
)
from safetynet.errors import InputError, UnknownNameError


@pytest.fixture(scope="module")
def reg() -> RegionRegistry:
    return default_registry()


# --- the data ---------------------------------------------------------------------------------


def test_default_registry_is_loaded_once(reg: RegionRegistry) -> None:
    assert default_registry() is reg


def test_31_mainland_provinces_plus_taiwan_hong_kong_macao_marked(reg: RegionRegistry) -> None:
    provinces = reg.provinces()
    mainland = reg.provinces(mainland_only=True)
    assert len(mainland) == 31
    others = {r.code: r.name for r in provinces if not r.is_mainland}
    assert others == {"710000": "台湾省", "810000": "香港特别行政区", "820000": "澳门特别行政区"}
    assert len(provinces) == 34


def test_level_counts(reg: RegionRegistry) -> None:
    assert len(reg.regions(RegionLevel.CITY)) == 333
    assert len(reg.regions(RegionLevel.COUNTY)) > 2800
    assert len(reg) == 3212


def test_every_parent_exists_and_every_county_is_in_a_province(reg: RegionRegistry) -> None:
    for region in reg.regions():
        if region.parent is not None:
            assert reg.contains(region.parent), region
        assert reg.province_of(region.code).level is RegionLevel.PROVINCE
        assert reg.province_of(region.code).code[:2] == region.code[:2]
    for county in reg.regions(RegionLevel.COUNTY):
        assert reg.province_of(county.code).level is RegionLevel.PROVINCE


@pytest.mark.parametrize(
    ("code", "name", "province", "city"),
    [
        ("110105", "朝阳区", "北京市", None),
        ("440513", "潮阳区", "广东省", "汕头市"),
        ("310115", "浦东新区", "上海市", None),
        ("500235", "云阳县", "重庆市", None),
        ("130100", "石家庄市", "河北省", "石家庄市"),
        ("220104", "朝阳区", "吉林省", "长春市"),
        ("429004", "仙桃市", "湖北省", None),
        ("469002", "琼海市", "海南省", None),
        ("659001", "石河子市", "新疆维吾尔自治区", None),
        ("653229", "和安县", "新疆维吾尔自治区", "和田地区"),
    ],
)
def test_spot_checks(
    reg: RegionRegistry, code: str, name: str, province: str, city: str | None
) -> None:
    assert reg.get(code).name == name
    assert reg.province_of(code).name == province
    found = reg.city_of(code)
    assert (found.name if found else None) == city


def test_chaoyang_in_shantou_is_440513_not_440524(reg: RegionRegistry) -> None:
    assert not reg.contains("440524")
    assert [r.code for r in reg.search("潮阳")] == ["440513"]


def test_levels(reg: RegionRegistry) -> None:
    assert reg.get("130000").level is RegionLevel.PROVINCE
    assert reg.get("130100").level is RegionLevel.CITY
    assert reg.get("130102").level is RegionLevel.COUNTY
    assert reg.get("441900").level is RegionLevel.CITY  # 东莞市 has no counties
    assert reg.children("441900") == []


# --- lineage and tree -------------------------------------------------------------------------


def test_lineage_municipality_district_has_no_city_level(reg: RegionRegistry) -> None:
    assert reg.lineage_codes("110105") == ["000000", "110000", "110105"]


def test_lineage_county_in_prefecture_city(reg: RegionRegistry) -> None:
    assert reg.lineage_codes("130102") == ["000000", "130000", "130100", "130102"]
    assert reg.lineage_codes("130100") == ["000000", "130000", "130100"]
    assert reg.lineage_codes("130000") == ["000000", "130000"]
    assert reg.lineage_codes(NATION_CODE) == ["000000"]


def test_lineage_province_direct_county(reg: RegionRegistry) -> None:
    assert reg.lineage_codes("429004") == ["000000", "420000", "429004"]


def test_ancestors_self_first_up_to_province(reg: RegionRegistry) -> None:
    assert [r.code for r in reg.ancestors("440513")] == ["440513", "440500", "440000"]
    assert [r.code for r in reg.ancestors("440000")] == ["440000"]


def test_nation_pseudo_region(reg: RegionRegistry) -> None:
    nation = reg.get(NATION_CODE)
    assert nation == Region("000000", "中华人民共和国", RegionLevel.NATION, None)
    assert reg.contains("000000")
    assert len(reg.children("000000")) == 34
    assert reg.city_of("000000") is None
    with pytest.raises(InputError, match="no province"):
        reg.province_of("000000")


def test_children_and_counties_in(reg: RegionRegistry) -> None:
    shantou = [r.name for r in reg.children("440500")]
    assert shantou == ["龙湖区", "金平区", "濠江区", "潮阳区", "潮南区", "澄海区", "南澳县"]
    beijing = reg.counties_in("110000")
    assert len(beijing) == 16
    assert all(r.parent == "110000" for r in beijing)
    hubei = {r.code for r in reg.counties_in("420000")}
    assert {"420102", "429004", "429021", "422801"} <= hubei
    assert reg.counties_in("110105") == [reg.get("110105")]
    assert len(reg.counties_in("000000")) == len(reg.regions(RegionLevel.COUNTY))


def test_search_and_full_name(reg: RegionRegistry) -> None:
    assert [r.code for r in reg.search("朝阳")] == ["110105", "211300", "211321", "220104"]
    assert reg.search("  ") == []
    assert reg.full_name("130102") == "河北省石家庄市长安区"
    assert reg.full_name("110105") == "北京市朝阳区"


def test_city_of_prefecture_without_counties(reg: RegionRegistry) -> None:
    found = reg.city_of("620200")
    assert found is not None
    assert found.name == "嘉峪关市"


# --- errors -----------------------------------------------------------------------------------


def test_get_unknown_code_names_the_region(reg: RegionRegistry) -> None:
    with pytest.raises(UnknownNameError) as info:
        reg.get("110103")  # 崇文区, abolished in 2010
    assert info.value.kind == "region"
    assert info.value.name == "110103"
    assert "北京市" in str(info.value)
    assert "abolished" in str(info.value)


def test_get_malformed_code(reg: RegionRegistry) -> None:
    with pytest.raises(UnknownNameError, match="6 digits"):
        reg.get("11010")


def test_validate_accepts_known_codes() -> None:
    assert validate_region_code("110105") == "110105"
    assert validate_region_code(" 440513 ") == "440513"
    assert validate_region_code("000000") == "000000"


@pytest.mark.parametrize("value", ["11010", "1101050", "11O105", "", "１１０１０５", "110-05"])
def test_validate_not_six_digits(value: str) -> None:
    with pytest.raises(InputError) as info:
        validate_region_code(value, field="household.region")
    assert info.value.field == "household.region"
    assert "6 digits" in info.value.reason
    assert str(info.value).startswith("household.region: ")


def test_validate_unknown_code() -> None:
    with pytest.raises(InputError) as info:
        validate_region_code("999999", field="persons[0].region")
    assert info.value.field == "persons[0].region"
    assert info.value.reason.startswith("unknown region code 999999")


def test_validate_default_field_name() -> None:
    with pytest.raises(InputError) as info:
        validate_region_code("123")
    assert info.value.field == "region"


def test_registry_refuses_a_broken_list() -> None:
    with pytest.raises(ValueError, match="unknown parent"):
        RegionRegistry.from_csv("code,name,level,parent\n110101,东城区,county,110000\n")
    with pytest.raises(ValueError, match="only provinces have no parent"):
        RegionRegistry.from_csv("code,name,level,parent\n110101,东城区,county,\n")
    with pytest.raises(ValueError, match="twice"):
        RegionRegistry.from_csv(
            "code,name,level,parent\n110000,北京市,province,\n110000,北京市,province,\n"
        )


# --- 12-digit statistical codes ---------------------------------------------------------------


def test_statistical_code_village() -> None:
    parsed = parse_statistical_code("110105001001")
    assert parsed.county_code == "110105"
    assert parsed.township == "001"
    assert parsed.village == "001"
    assert parsed.township_kind is TownshipKind.SUBDISTRICT
    assert parsed.village_kind is VillageKind.RESIDENTS_COMMITTEE
    assert parsed.refers_to == "village"
    assert parsed.township_code == "110105001"
    assert str(parsed) == "110105001001"


@pytest.mark.parametrize(
    ("code", "township_kind", "village_kind"),
    [
        ("130121100201", TownshipKind.TOWN, VillageKind.VILLAGERS_COMMITTEE),
        ("130121199399", TownshipKind.TOWN, VillageKind.VILLAGERS_COMMITTEE),
        ("130121200400", TownshipKind.TOWNSHIP, VillageKind.OTHER),
        ("130121399199", TownshipKind.TOWNSHIP, VillageKind.RESIDENTS_COMMITTEE),
        ("130121400001", TownshipKind.STATE_UNIT, VillageKind.RESIDENTS_COMMITTEE),
        ("130121599999", TownshipKind.STATE_UNIT, VillageKind.OTHER),
        ("130121600200", TownshipKind.OTHER, VillageKind.VILLAGERS_COMMITTEE),
        ("130121099000", TownshipKind.SUBDISTRICT, None),
    ],
)
def test_statistical_code_kinds(
    code: str, township_kind: TownshipKind, village_kind: VillageKind | None
) -> None:
    parsed = parse_statistical_code(code)
    assert parsed.township_kind is township_kind
    assert parsed.village_kind is village_kind


def test_statistical_code_for_township_and_county_themselves() -> None:
    township = parse_statistical_code("440513100000")
    assert township.refers_to == "township"
    assert township.village_kind is None
    county = parse_statistical_code("440513000000")
    assert county.refers_to == "county"
    assert county.township_kind is None
    assert county.township_code is None


def test_statistical_code_under_city_without_counties() -> None:
    # 东莞市 has towns directly under it; its statistical codes start with 441900.
    assert parse_statistical_code("441900101000").township_kind is TownshipKind.TOWN


@pytest.mark.parametrize("value", ["11010500100", "1101050010011", "11010500100a", "abcdefghijkl"])
def test_statistical_code_not_twelve_digits(value: str) -> None:
    with pytest.raises(InputError) as info:
        parse_statistical_code(value)
    assert info.value.field == "statistical_code"
    assert "12 digits" in info.value.reason


def test_statistical_code_unknown_county() -> None:
    with pytest.raises(InputError) as info:
        parse_statistical_code("130171001000", field="address.code")  # a development zone
    assert info.value.field == "address.code"
    assert "unknown county code 130171" in info.value.reason


def test_statistical_code_county_part_must_be_county_level() -> None:
    with pytest.raises(InputError, match="county-level"):
        parse_statistical_code("130100001000")  # 石家庄市 is a prefecture with counties
    with pytest.raises(InputError, match="county-level"):
        parse_statistical_code("110000001000")


def test_statistical_code_village_without_township() -> None:
    with pytest.raises(InputError, match="needs a township"):
        parse_statistical_code("110105000001")
