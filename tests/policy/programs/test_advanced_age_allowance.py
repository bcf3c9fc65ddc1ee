"""Advanced-age allowance: Beijing bands, local hukou, no national scale (not eligible there)."""

from __future__ import annotations

import datetime as dt

import pytest

from safetynet.errors import CoverageError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Params, program


def amount(birth: str, region: str = "110000", local: bool = True) -> int:
    member = {
        "relation": "head",
        "birth_date": birth,
        "sex": "female",
        "advanced_age_local_hukou": local,
    }
    ev, _ = calculate(
        program("advanced_age_allowance"), {"members": [member]}, dt.date(2025, 9, 1), region
    )
    return int(ev.result.amount[0])


@pytest.mark.parametrize(
    ("birth", "fen"),
    [
        ("1945-09-02", 0),
        ("1945-09-01", 10000),
        ("1935-09-02", 10000),
        ("1935-09-01", 50000),
        ("1925-09-02", 50000),
        ("1925-09-01", 80000),
        ("1915-01-01", 80000),
    ],
)
def test_beijing_bands(birth: str, fen: int) -> None:
    assert amount(birth) == fen


def test_requires_local_hukou() -> None:
    assert amount("1930-01-01", local=False) == 0


def test_no_national_scale_means_not_eligible_here_with_the_reason() -> None:
    """A local-only program where no locality set its scale: not eligible, never an error for
    a batch over many regions; the explanation names the missing local value."""
    member = {"relation": "head", "birth_date": "1930-01-01", "sex": "female"}
    ev, _ = calculate(
        program("advanced_age_allowance"), {"members": [member]}, dt.date(2025, 9, 1), "000000"
    )
    assert not ev.result.eligible[0]
    assert ev.result.amount[0] == 0
    step = next(s for s in ev.trace.steps if s.key == "not_available_here")
    assert "no local value of welfare.advanced_age.allowance_monthly" in step.value
    # Its other parameters are not masked: an absent national one still raises.
    with pytest.raises(CoverageError, match=r"welfare\.advanced_age\.allowance_monthly"):
        Params(dt.date(2025, 9, 1), "000000").value("welfare.advanced_age.allowance_monthly")
