"""Identity numbers are masked by pattern wherever they were typed."""

from __future__ import annotations

from safetynet.domain.privacy import mask_text, mask_value

NUMBER = "110101199003070019"


def test_a_number_typed_into_a_refusal_reason_is_masked() -> None:
    text = f"申请人{NUMBER}的家庭财产超标"
    assert mask_text(text) == "申请人110***********0019的家庭财产超标"


def test_full_width_and_spaced_numbers_are_masked() -> None:
    full_width = "１１０１０１１９９００３０７００１９"
    assert mask_text(full_width) == "110***********0019"
    assert mask_text("110101 19900307 0019") == "110***********0019"


def test_old_fifteen_digit_numbers_are_masked() -> None:
    assert mask_text("旧证 110101900307001") == "旧证 110********7001"


def test_longer_digit_runs_are_not_identity_numbers() -> None:
    account = "6222021234567890123"  # 19 digits: a bank card, masked by its own rule
    assert mask_text(account) == account


def test_a_number_sent_as_a_json_number_is_masked() -> None:
    masked = mask_value({"id_number": 110101199003070019, "note": [f"见{NUMBER}"], "n": 3})
    assert masked == {"id_number": "110***********0019", "note": ["见110***********0019"], "n": 3}
    assert mask_value(110101199003070019) == "110***********0019"
