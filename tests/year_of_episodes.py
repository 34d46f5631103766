"""A reporting year of varied episodes, with the six counts it must give.

Every §4.D category is filled, two youths have two episodes, and youths at
each edge of the county's year (in Los Angeles time, not UTC) are in or out.
Everyone is fictional. ``write_year`` puts it into a case record through the
record's own API, as the workers would have left it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from activities.case_record import SqlCaseRecord
from activities.report_record import record_assessment
from workflows.assessment import assess
from workflows.effects import ChronoEntry, EpisodeOpened
from workflows.episode import episode_id_for
from workflows.payload import Indicator, MissingReport, validate_report
from workflows.records import DebriefRecord
from workflows.settings import CountySettings

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "payload.json"
YEAR = 2027
COUNTY = ZoneInfo("America/Los_Angeles")


def at(text: str) -> datetime:
    """A time in Los Angeles, e.g. ``2027-03-01 10:00`` (PST or PDT)."""
    return datetime.fromisoformat(text).replace(tzinfo=COUNTY)


def report(
    youth: str,
    received: str,
    *,
    foster: bool = True,
    status: str = "none",
    before_care: bool = False,
    indicators: tuple[str, ...] = (),
    ilp: bool = False,
) -> MissingReport:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text())
    received_at = at(received)
    data.update(
        case_id=f"J-{youth}",
        received_at=received_at.isoformat(),
        in_foster_care=foster,
        ilp_services=ilp,
        csec={
            "status": status,
            "victim_before_foster_care": before_care,
            "indicators": list(indicators),
        },
        last_seen=None,
    )
    data["youth"]["id"] = youth
    return validate_report(data, None)


@dataclass
class Debrief:
    youth: str
    held: str
    exploited: str


@dataclass
class Year:
    reports: list[MissingReport] = field(default_factory=list)
    debriefs: list[Debrief] = field(default_factory=list)
    assessments: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)


# youth: why
A_YEAR = Year(
    reports=[
        report("Y-A", "2027-03-01 10:00", status="at_risk"),  # i
        report(
            "Y-B", "2027-04-02 10:00", indicators=("truancy", "hard_substance_abuse")
        ),
        report("Y-C", "2027-05-03 10:00"),  # i by the assessment below
        report("Y-D", "2027-06-04 10:00", status="confirmed", before_care=True),  # ii
        report("Y-E", "2027-07-05 10:00", status="confirmed", ilp=True),  # iii, vi
        report("Y-F", "2027-08-06 10:00", status="at_risk"),  # iv by its debrief
        report("Y-G", "2027-09-07 10:00", foster=False, status="confirmed"),  # v
        report("Y-H", "2027-09-08 10:00", foster=False, status="suspected", ilp=True),
        # Two episodes: the later report (in foster care, suspected) decides: i.
        report("Y-I", "2027-02-09 10:00", foster=False),
        report("Y-I", "2027-10-09 10:00", status="suspected"),
        # Two episodes: exploited in the first (debrief in the year): iv.
        report("Y-N", "2027-01-20 10:00", status="at_risk"),
        report("Y-N", "2027-11-20 10:00"),
        # The year's edges in county time: K and M count, L and Q do not.
        report("Y-K", "2027-12-31 23:30", status="at_risk"),  # 2028 in UTC
        report("Y-M", "2027-01-01 00:30", status="at_risk"),
        report("Y-L", "2028-01-01 00:30", status="confirmed"),
        report("Y-Q", "2026-12-31 23:30", status="confirmed"),  # 2027 in UTC
        # Counted, in no category: a debrief after the year, an assessment
        # after the year.
        report("Y-O", "2027-12-20 10:00"),
        report("Y-P", "2027-06-21 10:00"),
        # Only an earlier year's episode: not counted, though debriefed in it.
        report("Y-J", "2026-11-11 10:00", status="confirmed"),
    ],
    debriefs=[
        Debrief("Y-F", "2027-08-20 10:00", "yes"),
        Debrief("Y-H", "2027-09-20 10:00", "yes"),
        Debrief("Y-N", "2027-02-01 10:00", "yes"),
        Debrief("Y-A", "2027-03-10 10:00", "unknown"),
        Debrief("Y-O", "2028-01-03 10:00", "yes"),
        Debrief("Y-J", "2027-01-05 10:00", "yes"),
    ],
    assessments=[
        ("Y-C", "2027-02-01 09:00", ("controlled_or_groomed",)),
        ("Y-P", "2028-02-01 09:00", ("controlled_or_groomed",)),
    ],
)
EXPECTED = {"i": 6, "ii": 1, "iii": 1, "iv": 2, "v": 2, "vi": 2}
# A B C D E F G H I K M N O P
EXPECTED_YOUTHS = 14


def write_year(record: SqlCaseRecord, year: Year = A_YEAR) -> None:
    """Open each episode, record each debrief and assessment."""
    settings = CountySettings()
    episodes = {}
    for payload in year.reports:
        episode_id = episode_id_for(payload)
        episodes.setdefault(payload.youth.id, []).append((payload, episode_id))
        record.open_episode(
            EpisodeOpened(
                episode_id=episode_id,
                report=payload,
                settings=settings,
                started_at=payload.received_at,
                idempotency_key=f"{episode_id}/case_record",
            )
        )
    for debrief in year.debriefs:
        held = at(debrief.held)
        # The debrief of the youth's last episode received before it.
        payload, episode_id = [
            (p, e) for p, e in episodes[debrief.youth] if p.received_at < held
        ][-1]
        detail = DebriefRecord(
            exploited_while_absent=debrief.exploited,  # type: ignore[arg-type]
            immediate_risk=False,
            services=[],
            cft_applies=False,
            primary_factors=["a fictional factor"],
            held_at=held,
            recorded_at=held + timedelta(hours=1),
            by="po-117",
        )
        record.record_chrono(
            ChronoEntry(
                case_id=payload.case_id,
                episode_id=episode_id,
                at=held + timedelta(hours=1),
                event="debrief_recorded",
                detail=detail.model_dump(mode="json"),
                idempotency_key=f"{episode_id}/debrief",
            )
        )
    for youth, when, seen in year.assessments:
        indicators = [Indicator(indicator) for indicator in seen]
        record_assessment(
            record, assess(f"J-{youth}", youth, indicators, "po-117", at(when))
        )
