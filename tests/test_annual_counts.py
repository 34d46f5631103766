"""The annual State report's rules (§4.D) as a pure function of the record."""

from __future__ import annotations

from tests.year_of_episodes import (
    A_YEAR,
    COUNTY,
    EXPECTED,
    EXPECTED_YOUTHS,
    YEAR,
    at,
    report,
)
from workflows.annual_counts import (
    AssessmentFacts,
    DebriefFinding,
    annual_report,
)
from workflows.payload import Indicator


def counts(reports, debriefs=(), assessments=(), year=YEAR):
    return annual_report(year, COUNTY, reports, debriefs, assessments)


def facts_of_a_year():
    debriefs = [
        DebriefFinding(
            youth_id=d.youth, held_at=at(d.held), exploited_while_absent=d.exploited
        )
        for d in A_YEAR.debriefs
    ]
    assessments = [
        AssessmentFacts(youth_id=y, assessed_at=at(when), indicators=list(seen))
        for y, when, seen in A_YEAR.assessments
    ]
    return A_YEAR.reports, debriefs, assessments


def test_a_year_of_varied_episodes_gives_the_six_counts() -> None:
    found = counts(*facts_of_a_year())

    assert found.counts == EXPECTED
    assert found.youths == EXPECTED_YOUTHS


def test_a_youth_with_two_episodes_is_counted_once_from_the_latest_report() -> None:
    first = report("Y-1", "2027-02-01 10:00", status="at_risk")
    second = report("Y-1", "2027-09-01 10:00", status="confirmed")

    found = counts([second, first])

    assert found.youths == 1
    assert found.counts["i"] == 0 and found.counts["iii"] == 1


def test_the_year_is_the_countys_calendar_year_not_utc() -> None:
    new_years_eve = report("Y-1", "2027-12-31 23:30", status="at_risk")
    new_years_day = report("Y-2", "2027-01-01 00:30", status="at_risk")
    last_year = report("Y-3", "2026-12-31 23:59", status="at_risk")

    found = counts([new_years_eve, new_years_day, last_year])

    assert found.counts["i"] == 2 and found.youths == 2


def test_only_a_debrief_held_in_the_year_makes_a_youth_exploited_while_absent() -> None:
    youth = report("Y-1", "2027-12-20 10:00")
    later = DebriefFinding(
        youth_id="Y-1", held_at=at("2028-01-02 10:00"), exploited_while_absent="yes"
    )
    unknown = DebriefFinding(
        youth_id="Y-1", held_at=at("2027-12-22 10:00"), exploited_while_absent="unknown"
    )

    assert counts([youth], [later, unknown]).counts["iv"] == 0
    assert counts([youth], [later], year=2028).youths == 0


def test_an_assessment_meeting_the_rule_puts_a_youth_in_foster_care_in_i() -> None:
    youth = report("Y-1", "2027-05-01 10:00")
    assessed = AssessmentFacts(
        youth_id="Y-1",
        assessed_at=at("2027-01-10 09:00"),
        indicators=[Indicator.TRUANCY, Indicator.CONCERNING_RELATIONSHIPS],
    )

    assert counts([youth]).counts["i"] == 0
    assert counts([youth], [], [assessed]).counts["i"] == 1


def test_an_assessment_made_after_the_year_is_not_known_at_its_end() -> None:
    youth = report("Y-1", "2027-05-01 10:00")
    assessed = AssessmentFacts(
        youth_id="Y-1",
        assessed_at=at("2028-01-01 00:00"),
        indicators=[Indicator.CONTROLLED_OR_GROOMED],
    )

    assert counts([youth], [], [assessed]).counts["i"] == 0


def test_an_assessment_never_removes_an_indicator_the_case_system_sent() -> None:
    youth = report("Y-1", "2027-05-01 10:00", indicators=("controlled_or_groomed",))
    nothing_seen = AssessmentFacts(
        youth_id="Y-1", assessed_at=at("2027-06-01 09:00"), indicators=[]
    )

    assert counts([youth], [], [nothing_seen]).counts["i"] == 1


def test_the_latest_assessment_before_the_year_end_is_the_one_that_counts() -> None:
    youth = report("Y-1", "2027-05-01 10:00")
    early = AssessmentFacts(
        youth_id="Y-1",
        assessed_at=at("2027-01-01 09:00"),
        indicators=[Indicator.CONTROLLED_OR_GROOMED],
    )
    late = AssessmentFacts(
        youth_id="Y-1", assessed_at=at("2027-08-01 09:00"), indicators=[]
    )

    assert counts([youth], [], [late, early]).counts["i"] == 0
