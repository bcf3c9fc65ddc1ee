"""Deadline arithmetic from the procedure parameters on the official 2025 and 2026 calendars."""

from __future__ import annotations

import datetime as dt

import pytest

from safetynet.cases.workflow import DeadlineRules, Procedure, add_months
from safetynet.domain.workdays import Deadline
from safetynet.errors import CoverageError
from safetynet.policy.parameters import default_tree

D = dt.date


@pytest.fixture
def rules() -> DeadlineRules:
    return DeadlineRules(default_tree(), "310115")


def test_dibao_limits_from_acceptance_match_rules_e1_4(rules: DeadlineRules) -> None:
    # Worked example E1.4 (最低生活保障审核确认办法 arts 15, 22; cases/domain/working_days.yaml):
    # accepted Friday 2025-09-26; Sunday 09-28 is an adjusted working day.
    due = rules.on_acceptance(Procedure.DIBAO, D(2025, 9, 26), devolved=False)
    assert due == {
        "investigation_start_due": D(2025, 9, 30),
        "overall_due": D(2025, 11, 13),
        "overall_extended_due": D(2025, 12, 4),
    }
    devolved = rules.on_acceptance(Procedure.DIBAO, D(2025, 9, 26), devolved=True)
    assert devolved["overall_due"] == D(2025, 10, 30)
    assert rules.county_decision_due(Procedure.DIBAO, D(2025, 10, 28)) == D(2025, 11, 11)


def test_public_notice_of_seven_natural_days_rolls_past_the_national_day_holiday(
    rules: DeadlineRules,
) -> None:
    # 2025-09-29 + 7 days = Monday 10-06, a holiday (1-8 Oct); the next working day is 10-09.
    assert rules.notice_ends(Procedure.DIBAO, D(2025, 9, 29), termination=False) == D(2025, 10, 9)
    # An ordinary week: 2025-11-03 + 7 = Monday 11-10, a working day.
    assert rules.notice_ends(Procedure.TEKUN, D(2025, 11, 3), termination=True) == D(2025, 11, 10)


def test_fifteen_working_days_in_2026_end_on_an_adjusted_saturday(rules: DeadlineRules) -> None:
    due = rules.on_acceptance(Procedure.TEKUN, D(2026, 1, 26), devolved=False)
    assert due == {"township_opinion_due": D(2026, 2, 14)}  # Saturday, an adjusted working day
    assert rules.on_acceptance(Procedure.NO_NOTICE, D(2026, 1, 26), devolved=False) == {
        "township_opinion_due": D(2026, 2, 14)
    }
    assert rules.county_decision_due(Procedure.NO_NOTICE, D(2026, 2, 12)) == D(2026, 3, 11)
    assert rules.county_decision_due(Procedure.TEKUN, D(2026, 2, 12)) == D(2026, 3, 11)


def test_refusal_notice_and_rechecks(rules: DeadlineRules) -> None:
    # 3 working days after 2025-09-30: 10-09, 10-10 and Saturday 10-11 (adjusted working day).
    assert rules.refusal_notice_due(Procedure.DIBAO, D(2025, 9, 30)) == D(2025, 10, 11)
    assert rules.recheck_due("annual", D(2025, 11, 3)) == D(2026, 11, 3)
    assert rules.recheck_due("half_yearly", D(2025, 11, 3)) == D(2026, 5, 3)
    assert rules.death_recheck_due(D(2025, 11, 30)) == D(2026, 2, 28)


def test_appeal_limits(rules: DeadlineRules) -> None:
    # 60 natural days from 2025-10-10 is Tuesday 12-09.
    assert rules.appeal_lodge_due("reconsideration", D(2025, 10, 10)) == D(2025, 12, 9)
    assert rules.appeal_lodge_due("litigation", D(2025, 10, 10)) == D(2026, 4, 10)


def test_a_limit_into_a_year_without_a_notice_is_provisional_not_an_error(
    rules: DeadlineRules,
) -> None:
    due = rules.on_acceptance(Procedure.DIBAO, D(2026, 12, 28), devolved=False)
    # 3 working days stay in December 2026 (official); 30 reach the provisional 2027.
    assert due["investigation_start_due"] == D(2026, 12, 31)
    start = due["investigation_start_due"]
    assert isinstance(start, Deadline)
    assert not start.provisional
    assert due["overall_due"] == D(2027, 2, 11)  # 1 January and 除夕 to 初三 (5-8 February) off
    overall = due["overall_due"]
    assert isinstance(overall, Deadline)
    assert overall.provisional


def test_years_beyond_the_lunar_tables_are_refused(rules: DeadlineRules) -> None:
    with pytest.raises(CoverageError, match="no calendar for 2100"):
        rules.on_acceptance(Procedure.DIBAO, D(2099, 12, 28), devolved=False)


def test_add_months_clamps_to_the_end_of_a_short_month() -> None:
    assert add_months(D(2025, 8, 31), 6) == D(2026, 2, 28)
    assert add_months(D(2025, 12, 15), 1) == D(2026, 1, 15)
