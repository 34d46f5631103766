"""The annual State report (§4.D): six counts of unique youths for a year.

Pure: it takes what the case record holds and classifies each youth once
with ``annual_categories``, from what is known at the end of the year (the
county's calendar year). Which youths a year counts, and how the episodes
of one youth combine, are rules we chose:

- A youth counts for a year if an episode of theirs was received in it.
- Their latest report received that year gives the case's status, foster
  care, ILP services and indicators.
- They were exploited while absent if a debrief held that year, in any of
  their episodes, found exploitation (``yes``).
- Their latest at-risk assessment made before the year ended adds the
  indicators it saw; it never removes one the case system sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict

from workflows.categories import annual_categories
from workflows.payload import Indicator, MissingReport

CATEGORIES = {
    "i": "youths in foster care at risk, not victims",
    "ii": "youths in foster care who were victims before entering foster care",
    "iii": "youths in foster care who are confirmed victims, not victims "
    "before entering care",
    "iv": "youths in foster care who went missing and were exploited while away",
    "v": "victims not in foster care",
    "vi": "victims receiving Independent Living Program services",
}


class Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DebriefFinding(Fact):
    """What a debrief found about the time away (§5.C)."""

    youth_id: str
    held_at: AwareDatetime
    exploited_while_absent: Literal["yes", "no", "unknown"]


class AssessmentFacts(Fact):
    """An at-risk assessment: the indicators seen, and when (§1.C, §3.A)."""

    youth_id: str
    assessed_at: AwareDatetime
    indicators: list[Indicator]


class AnnualReport(Fact):
    """The six counts for a year, and how many youths were classified."""

    year: int
    time_zone: str
    youths: int
    counts: dict[str, int]


def year_bounds(year: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The year's first instant and the next year's, in the county's zone."""
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def with_assessment(
    report: MissingReport, assessment: AssessmentFacts | None
) -> MissingReport:
    """The report with the indicators an assessment saw added to its own."""
    if assessment is None:
        return report
    indicators = list(dict.fromkeys([*report.csec.indicators, *assessment.indicators]))
    csec = report.csec.model_copy(update={"indicators": indicators})
    return report.model_copy(update={"csec": csec})


def annual_report(
    year: int,
    zone: ZoneInfo,
    reports: Iterable[MissingReport],
    debriefs: Iterable[DebriefFinding],
    assessments: Iterable[AssessmentFacts],
) -> AnnualReport:
    """Classify each youth with an episode received in ``year`` once.

    Args:
        year: The reporting year, in the county's calendar.
        zone: The county's time zone.
        reports: Payloads of episodes; those received outside the year are
            ignored.
        debriefs: Debrief findings; those held outside the year are ignored.
        assessments: At-risk assessments; those made after the year are
            ignored.
    """
    start, end = year_bounds(year, zone)
    latest: dict[str, MissingReport] = {}
    for report in reports:
        if start <= report.received_at < end:
            known = latest.get(report.youth.id)
            if known is None or report.received_at > known.received_at:
                latest[report.youth.id] = report
    exploited = {
        finding.youth_id
        for finding in debriefs
        if start <= finding.held_at < end and finding.exploited_while_absent == "yes"
    }
    assessed: dict[str, AssessmentFacts] = {}
    for assessment in assessments:
        known_assessment = assessed.get(assessment.youth_id)
        if assessment.assessed_at < end and (
            known_assessment is None
            or assessment.assessed_at > known_assessment.assessed_at
        ):
            assessed[assessment.youth_id] = assessment
    counts = dict.fromkeys(CATEGORIES, 0)
    for youth_id, report in latest.items():
        known_report = with_assessment(report, assessed.get(youth_id))
        for category in annual_categories(known_report, youth_id in exploited):
            counts[category] += 1
    return AnnualReport(
        year=year, time_zone=zone.key, youths=len(latest), counts=counts
    )
