"""Record linkage of persons, trained and evaluated on synthetic duplicates of known truth."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.domain.identity import check_character
from safetynet.registry.duplicates_synthetic import SyntheticRegistry, evaluate, synthetic_registry
from safetynet.registry.linkage import (
    LinkageRecord,
    LinkageSettings,
    TooFewPersonsError,
    features,
    linkage_settings,
    name_pinyin,
    score_between,
    score_within,
    train_model,
)

ON = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def registry() -> SyntheticRegistry:
    return synthetic_registry(8000, seed=12)


@pytest.fixture(scope="module")
def settings() -> LinkageSettings:
    return linkage_settings(ON)


@pytest.fixture(scope="module")
def model(registry: SyntheticRegistry, settings: LinkageSettings) -> dict[str, Any]:
    return train_model(registry.records, settings)


def test_homophone_names_read_alike_in_pinyin() -> None:
    assert name_pinyin("王伟") == name_pinyin("王玮") == "wangwei"
    assert name_pinyin("李丽") != name_pinyin("李强")


def test_the_identity_number_enters_only_by_place_code_and_serial() -> None:
    person = LinkageRecord(1, "110105198001010115", "张三", "male", dt.date(1980, 1, 1), "110105")
    row = features([person]).to_pylist()[0]
    assert (row["id_place"], row["id_serial"]) == ("110105", "011")
    assert row["name_sorted"] == "三张"
    assert row["birth_year"] == "1980"


def test_the_fixed_seed_synthetic_duplicates_are_found_with_high_precision_and_recall(
    registry: SyntheticRegistry, settings: LinkageSettings, model: dict[str, Any]
) -> None:
    threshold = settings.review_probability
    pairs = score_within(model, registry.records, threshold)
    result = evaluate(pairs, registry.truth, threshold)
    assert result.true_pairs == 400
    assert result.precision >= 0.95, result
    assert result.recall >= 0.9, result
    # Twins agree on all but the given name: few of them may pass for one person.
    found = {(p.left_id, p.right_id) for p in pairs}
    assert len(found & registry.twins) <= len(registry.twins) // 10


def test_each_kind_of_error_is_caught(
    registry: SyntheticRegistry, settings: LinkageSettings, model: dict[str, Any]
) -> None:
    pairs = score_within(model, registry.records, settings.review_probability)
    found = {(p.left_id, p.right_id) for p in pairs}
    for kind in ("serial_typo", "birth_typo", "legacy", "name_variant", "moved"):
        of_kind = {k for k, v in registry.kinds.items() if kind in v.split("+")}
        assert of_kind, kind
        assert len(of_kind & found) / len(of_kind) >= 0.85, kind


def test_a_new_person_is_scored_against_registered_ones(
    registry: SyntheticRegistry, model: dict[str, Any]
) -> None:
    original = registry.records[0]
    digit = str((int(original.id_number[14]) + 1) % 10)
    first17 = original.id_number[:14] + digit + original.id_number[15:17]
    variant = LinkageRecord(
        -1,
        first17 + check_character(first17),  # one serial digit retyped
        original.name,
        original.sex,
        original.birth_date,
        original.region,
    )
    stranger = LinkageRecord(
        -2, "130104200001010012", "欧阳修", "male", dt.date(2000, 1, 1), "130104"
    )
    pairs = score_between(model, [variant, stranger], registry.records[:500], 0.5)
    assert [(p.left_id, p.right_id) for p in pairs][:1] == [(-1, original.person_id)]
    assert all(p.left_id != -2 for p in pairs)


def test_too_few_persons_train_no_model(settings: LinkageSettings) -> None:
    few = synthetic_registry(50).records
    with pytest.raises(TooFewPersonsError, match="minimum_training_persons"):
        train_model(few, settings)
