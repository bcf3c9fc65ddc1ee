"""Retirement months and awards of cohorts come from the rules core."""

from __future__ import annotations

import datetime as dt

from safetynet.analysis.funds.assumptions import Ledger
from safetynet.analysis.funds.retirement import Cohort, awards, career, retirement_months
from safetynet.analysis.funds.scenario import Scenario
from safetynet.policy.parameters import NATION, default_tree

MAN, WOMAN_55, WOMAN_50 = 0, 1, 2


def _ledger(scenario: Scenario) -> Ledger:
    return Ledger(NATION, default_tree(), scenario.overrides_on, dt.date(2022, 1, 1))


def _yyyymm(index: int) -> int:
    return (index // 12) * 100 + index % 12 + 1


def test_retirement_months_follow_the_2024_reform_and_its_absence() -> None:
    on = dt.date(2045, 12, 1)
    reform = Scenario()
    months = retirement_months(
        range(1964, 1977), on, NATION, reform.overrides_on(on), _ledger(reform)
    )
    # annex of the 2024 measures: a man born January 1965 retires February 2025 (60 + 1 month),
    # one born September 1976 at 63 (September 2039); a woman originally retiring at 50, born
    # January 1975, in February 2025; a man born December 1964 at 60 (before the reform)
    assert _yyyymm(months[(MAN, 1965, 1)]) == 202502
    assert _yyyymm(months[(MAN, 1976, 9)]) == 203909
    assert _yyyymm(months[(WOMAN_50, 1975, 1)]) == 202502
    assert _yyyymm(months[(MAN, 1964, 12)]) == 202412
    none = Scenario(retirement_reform=False)
    without = retirement_months(range(1964, 1977), on, NATION, none.overrides_on(on), _ledger(none))
    assert _yyyymm(without[(MAN, 1976, 9)]) == 203609
    assert _yyyymm(without[(WOMAN_55, 1975, 1)]) == 203001


def test_a_later_retirement_brings_a_higher_award() -> None:
    """The same man, flat wages: at 63 under the reform he has paid three more years and his
    account is divided by a smaller divisor, so the rules core awards him more than at 60."""
    ledger = _ledger(Scenario())
    wages = dict.fromkeys(range(1950, 2041), 10000000)  # 100,000 yuan a year, flat
    at_60 = Cohort(MAN, 1976, 9, 2036 * 12 + 8)
    at_63 = Cohort(MAN, 1976, 9, 2039 * 12 + 8)
    no_reform = Scenario(retirement_reform=False).overrides_on(dt.date(2036, 1, 1))
    early = awards([at_60], 2036, wages, ledger, no_reform)
    late = awards([at_63], 2039, wages, ledger, {})
    assert late[0] > early[0] > 0
    # the career: entry at 22 in September 1998, 85 % of the months paid until retirement
    c = career(1976, 9, at_60.retire_index, wages, ledger)
    assert c.deemed_months == 0
    assert c.paid_months == round((at_60.retire_index - (1998 * 12 + 8)) * 0.85)
