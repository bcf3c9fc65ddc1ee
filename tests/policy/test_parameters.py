"""Parameter lookup: dates, regional inheritance, citations and the errors a policy officer sees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from safetynet.domain.regions import default_registry
from safetynet.errors import CoverageError, InputError, UnknownNameError
from safetynet.policy.parameters import (
    NATION,
    ParameterFileError,
    Provenance,
    cached_tree,
    default_tree,
    load_tree,
    parameter_cache_dir,
    parse_override,
)

NATIONAL = """
description: test program
standard:
  description: A standard set locally.
  unit: yuan/month
  provenance: S
  values:
    2020-01-01: null
  reference:
    - title: Interim Measures
      article: art. 10
multiple:
  description: A national multiple.
  unit: ratio
  provenance: M
  values:
    2016-01-01: 1.3
    2024-01-01: {value: 1.4, provenance: S, reference: [{title: New notice}]}
  reference:
    - title: Old opinion
"""

HUBEI = """
region: "420000"
name: 湖北省
parameters:
  assistance.test.standard:
    provenance: S
    values: {2024-01-01: 800}
    reference: [{title: Hubei notice}]
"""

WUHAN = """
region: "420100"
name: 武汉市
parameters:
  assistance.test.standard:
    provenance: S
    values: {2025-07-01: 1000, 2026-07-01: null}
    reference: [{title: Wuhan notice}]
"""


def make_tree(tmp_path: Path, *regions: str, national: str = NATIONAL) -> Path:
    (tmp_path / "assistance").mkdir()
    (tmp_path / "assistance" / "test.yaml").write_text(national, encoding="utf-8")
    (tmp_path / "regions").mkdir()
    for i, text in enumerate(regions):
        (tmp_path / "regions" / f"r{i}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def lineage(code: str) -> list[str]:
    return default_registry().lineage_codes(code)


def test_latest_value_in_force_is_used(tmp_path: Path) -> None:
    tree = load_tree(make_tree(tmp_path), default_registry())
    old = tree.resolve("assistance.test.multiple", dt.date(2023, 12, 31), [NATION])
    new = tree.resolve("assistance.test.multiple", dt.date(2024, 1, 1), [NATION])
    assert old.value == Decimal("1.3")
    assert old.provenance is Provenance.UNVERIFIED
    assert new.value == Decimal("1.4")
    assert new.references[0].title == "New notice"


def test_county_inherits_city_and_province_values(tmp_path: Path) -> None:
    tree = load_tree(make_tree(tmp_path, HUBEI, WUHAN), default_registry())
    district = lineage("420102")  # 江岸区, a district of Wuhan
    assert tree.resolve("assistance.test.standard", dt.date(2025, 8, 1), district).value == 100000
    # before Wuhan's own value starts, Hubei's answers
    before = tree.resolve("assistance.test.standard", dt.date(2025, 1, 1), district)
    assert before.value == 80000
    assert before.level == "420000"
    # another Hubei city inherits the province
    assert (
        tree.resolve("assistance.test.standard", dt.date(2025, 8, 1), lineage("420200")).value
        == 80000
    )
    # and the national multiple is inherited everywhere
    assert tree.resolve("assistance.test.multiple", dt.date(2025, 8, 1), district).level == NATION


def test_a_null_value_ends_coverage(tmp_path: Path) -> None:
    tree = load_tree(make_tree(tmp_path, WUHAN), default_registry())
    with pytest.raises(CoverageError, match=r"assistance.test.standard .* 2026-08-01 .* 420100"):
        tree.resolve("assistance.test.standard", dt.date(2026, 8, 1), lineage("420100"))


def test_no_value_anywhere_names_parameter_date_and_region(tmp_path: Path) -> None:
    tree = load_tree(make_tree(tmp_path), default_registry())
    with pytest.raises(CoverageError, match=r"--set assistance\.test\.standard=VALUE"):
        tree.resolve("assistance.test.standard", dt.date(2025, 1, 1), lineage("110105"))


def test_a_value_missing_is_reported_alike_every_time_it_is_asked_for(tmp_path: Path) -> None:
    # The second answer comes from the tree's memory of lookups that found nothing: the same
    # kind of error with the same message, a new error each time.
    tree = load_tree(make_tree(tmp_path, WUHAN), default_registry())
    caught = []
    for _ in range(2):
        with pytest.raises(CoverageError) as info:
            tree.resolve("assistance.test.standard", dt.date(2026, 8, 1), lineage("420100"))
        caught.append(info.value)
    assert type(caught[0]) is type(caught[1])
    assert str(caught[0]) == str(caught[1])
    assert caught[0] is not caught[1]
    assert vars(caught[0]) == vars(caught[1])


def test_unknown_parameter_suggests_a_name(tmp_path: Path) -> None:
    tree = load_tree(make_tree(tmp_path), default_registry())
    with pytest.raises(UnknownNameError, match=r"did you mean assistance\.test\.standard"):
        tree.spec("assistance.test.standrd")


def test_override_wins_and_is_flagged(tmp_path: Path) -> None:
    tree = load_tree(make_tree(tmp_path), default_registry())
    name, value = parse_override(tree, "assistance.test.standard=1000")
    got = tree.resolve(name, dt.date(2025, 1, 1), [NATION], {name: value})
    assert got.value == 100000
    assert "[I: illustrative" in got.cite()


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ("assistance.test.standard=12.345", "more than 2 decimal places"),
        ("assistance.test.standard", "expected NAME=VALUE"),
    ],
)
def test_bad_overrides_are_refused(tmp_path: Path, bad: str, fragment: str) -> None:
    tree = load_tree(make_tree(tmp_path), default_registry())
    with pytest.raises(InputError, match=fragment):
        parse_override(tree, bad)


@pytest.mark.parametrize(
    ("national", "fragment"),
    [
        (NATIONAL.replace("    - title: Old opinion\n", "    []\n"), "without a source"),
        (NATIONAL.replace("unit: ratio", "unit: percent"), "unit 'percent'"),
        (NATIONAL.replace("provenance: M", "provenance: X"), "provenance must be S, M or I"),
        (NATIONAL.replace("2016-01-01: 1.3", "2016-01-01: lots"), "is not a number"),
    ],
)
def test_malformed_parameter_files_are_named(tmp_path: Path, national: str, fragment: str) -> None:
    with pytest.raises(ParameterFileError, match=fragment) as info:
        load_tree(make_tree(tmp_path, national=national), default_registry())
    assert "assistance/test.yaml" in str(info.value)


CARE_TABLE = """
description: test program
care:
  description: Care standard by self-care tier, set locally.
  unit: table
  table_unit: yuan/month
  keys: [capable, partially_lost, fully_lost]
  provenance: S
  values:
    2020-01-01: null
  reference:
    - title: Interim Measures
"""


def test_a_local_table_may_give_only_the_keys_its_definition_fixes(tmp_path: Path) -> None:
    """A province's care table with a misspelt tier is refused at load, naming the key and the
    keys the table takes (it would otherwise pay nothing for that tier, silently)."""
    local = HUBEI.replace("assistance.test.standard", "assistance.test.care").replace(
        "values: {2024-01-01: 800}", "values: {2024-01-01: {capable: 0, fully-lost: 900}}"
    )
    with pytest.raises(ParameterFileError, match="'fully-lost' is not a key") as info:
        load_tree(make_tree(tmp_path, local, national=CARE_TABLE), default_registry())
    assert "fully_lost" in str(info.value)
    good = local.replace("fully-lost", "fully_lost")
    (tmp_path / "good").mkdir()
    (tmp_path / "bad").mkdir()
    tree = load_tree(make_tree(tmp_path / "good", good, national=CARE_TABLE), default_registry())
    assert tree.spec("assistance.test.care").keys == ("capable", "partially_lost", "fully_lost")
    with pytest.raises(ParameterFileError, match="only a table has them"):
        load_tree(
            make_tree(tmp_path / "bad", national=NATIONAL.replace(
                "  unit: yuan/month\n", "  unit: yuan/month\n  keys: [a]\n", 1)),
            default_registry(),
        )  # fmt: skip


def test_region_may_only_override_national_parameters(tmp_path: Path) -> None:
    bad = WUHAN.replace("assistance.test.standard", "assistance.test.invented")
    with pytest.raises(ParameterFileError, match="not a national parameter"):
        load_tree(make_tree(tmp_path, bad), default_registry())


def test_shipped_parameters_load_and_every_value_is_cited() -> None:
    tree = default_tree()
    assert len(tree.names()) > 20
    for level in tree.levels.values():
        for name, history in level.items():
            for value in history:
                assert value.references, name


# -- the compiled tree, cached between runs ---------------------------------------------------


def _params(tmp_path: Path, *regions: str) -> Path:
    (tmp_path / "params").mkdir()
    return make_tree(tmp_path / "params", *regions)


def _counting_build(root: Path, built: list[int]) -> Any:
    def build() -> Any:
        built.append(1)
        return load_tree(root, default_registry())

    return build


def test_the_compiled_tree_is_read_back_until_a_file_changes(tmp_path: Path) -> None:
    root = _params(tmp_path, HUBEI, WUHAN)
    cache = tmp_path / "cache"
    built: list[int] = []
    first = cached_tree(root, _counting_build(root, built), cache)
    second = cached_tree(root, _counting_build(root, built), cache)
    assert built == [1]  # the second process reads the cache and parses no YAML
    on, where = dt.date(2025, 8, 1), lineage("420102")
    for name in ("assistance.test.standard", "assistance.test.multiple"):
        a, b = first.resolve(name, on, where), second.resolve(name, on, where)
        assert (a.value, a.level, a.references) == (b.value, b.level, b.references)
    # A changed value is a different key: the tree is compiled again and says the new value.
    (root / "regions" / "r1.yaml").write_text(WUHAN.replace("1000", "1100"), encoding="utf-8")
    third = cached_tree(root, _counting_build(root, built), cache)
    assert built == [1, 1]
    assert third.resolve("assistance.test.standard", on, where).value == 110000


def test_a_damaged_or_unwritable_cache_is_ignored(tmp_path: Path) -> None:
    root = _params(tmp_path, HUBEI)
    cache = tmp_path / "cache"
    built: list[int] = []
    cached_tree(root, _counting_build(root, built), cache)
    (entry,) = cache.glob("parameters-*.pickle")
    entry.write_bytes(b"not a pickle")
    tree = cached_tree(root, _counting_build(root, built), cache)
    assert built == [1, 1]
    assert tree.resolve("assistance.test.standard", dt.date(2025, 1, 1), lineage("420000")).value
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    cached_tree(root, _counting_build(root, built), blocked / "cache")  # cannot write: still works
    assert built == [1, 1, 1]


def test_the_cache_folder_is_the_users_or_off(tmp_path: Path) -> None:
    assert parameter_cache_dir({"SAFETYNET_PARAMETER_CACHE": "off"}) is None
    assert parameter_cache_dir({"SAFETYNET_PARAMETER_CACHE": str(tmp_path)}) == tmp_path
    assert parameter_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "safetynet"
