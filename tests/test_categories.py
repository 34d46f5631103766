"""The at-risk rule (§1.C) and the annual State report's categories (§4.D)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workflows.categories import annual_categories, meets_at_risk_rule
from workflows.payload import Indicator, MissingReport, validate_report

SCENARIO = Path(__file__).parent / "scenarios" / "fall-back-report-on-time.json"


def youth(**changes: object) -> MissingReport:
    data = json.loads(SCENARIO.read_text())["report"]
    csec = {"status": "none", "victim_before_foster_care": False, "indicators": []}
    csec.update(changes.pop("csec", {}))  # type: ignore[arg-type]
    return validate_report({**data, "csec": csec, **changes}, None)


@pytest.mark.parametrize(
    "indicator",
    [
        "controlled_or_groomed",
        "associates_in_commercial_sex",
        "atypical_online_behaviour",
    ],
)
def test_one_strong_indicator_makes_a_youth_at_risk(indicator: str) -> None:
    assert meets_at_risk_rule([Indicator(indicator)])


def test_one_other_indicator_is_not_enough() -> None:
    assert not meets_at_risk_rule([Indicator.TRUANCY])


def test_two_other_indicators_make_a_youth_at_risk() -> None:
    assert meets_at_risk_rule([Indicator.TRUANCY, Indicator.JUSTICE_INVOLVEMENT])


def test_running_away_and_unstable_housing_count_once() -> None:
    assert not meets_at_risk_rule(
        [Indicator.RUNAWAY_HISTORY, Indicator.UNSTABLE_HOUSING]
    )
    assert meets_at_risk_rule(
        [Indicator.RUNAWAY_HISTORY, Indicator.UNSTABLE_HOUSING, Indicator.TRUANCY]
    )


def test_status_none_with_indicators_meeting_the_rule_counts_as_at_risk() -> None:
    report = youth(csec={"indicators": ["truancy", "hard_substance_abuse"]})
    assert annual_categories(report, exploited_while_absent=False) == ["i"]


def test_no_status_and_no_indicators_is_in_no_category() -> None:
    assert annual_categories(youth(), exploited_while_absent=False) == []


def test_victim_before_foster_care_counts_in_ii_not_i_or_iii() -> None:
    report = youth(csec={"status": "confirmed", "victim_before_foster_care": True})
    assert annual_categories(report, exploited_while_absent=False) == ["ii"]


def test_confirmed_victim_in_care_counts_in_iii() -> None:
    report = youth(csec={"status": "confirmed"})
    assert annual_categories(report, exploited_while_absent=False) == ["iii"]


def test_exploited_while_away_counts_in_iv_and_in_iii_only_if_confirmed() -> None:
    at_risk = youth(csec={"status": "at_risk"})
    confirmed = youth(csec={"status": "confirmed"})
    assert annual_categories(at_risk, exploited_while_absent=True) == ["iv"]
    assert annual_categories(confirmed, exploited_while_absent=True) == ["iii", "iv"]


def test_victim_not_in_foster_care_counts_in_v_and_ilp_in_vi() -> None:
    report = youth(
        in_foster_care=False, ilp_services=True, csec={"status": "confirmed"}
    )
    assert annual_categories(report, exploited_while_absent=False) == ["v", "vi"]


def test_suspected_is_at_risk_not_a_victim() -> None:
    report = youth(csec={"status": "suspected"})
    assert annual_categories(report, exploited_while_absent=False) == ["i"]
