"""An abuse report on its own: exploitation learned outside any episode.

At intake, in a home visit, or at a debrief after the episode's own abuse
report was final, the same duty applies (§4.C, PC 11166): report to the LE
agency with jurisdiction and to the District Attorney within the county's
"immediately", and in writing within 36 hours after a phone report.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from workflows.payload import Disclosure
from workflows.records import DisclosureRecord
from workflows.settings import CountySettings
from workflows.tracker import StepTracker

DISCLOSURE_PREFIX = "abuse-report-"


class DisclosureInput(BaseModel):
    """The abuse report workflow's input."""

    disclosure: Disclosure
    settings: CountySettings = CountySettings()


def disclosure_id_for(disclosure: Disclosure) -> str:
    """The workflow id: case id and when the officer learned of it (UTC)."""
    received = disclosure.received_at.astimezone(UTC)
    return f"{DISCLOSURE_PREFIX}{disclosure.case_id}-{received:%Y%m%dT%H%M%SZ}"


class AbuseDisclosure(StepTracker):
    """The abuse report steps, and nothing else; ends when they are final."""

    def __init__(self, record: DisclosureRecord) -> None:
        self.record: DisclosureRecord = record

    @classmethod
    def open(
        cls, disclosure: Disclosure, settings: CountySettings, now: datetime
    ) -> AbuseDisclosure:
        record = DisclosureRecord(
            episode_id=disclosure_id_for(disclosure),
            case_id=disclosure.case_id,
            officer_id=disclosure.officer.id,
            supervisor_id=disclosure.supervisor.id,
            received_at=disclosure.received_at,
            settings=settings,
            started_at=now,
            disclosure=disclosure,
        )
        tracker = cls(record)
        tracker.chrono(now, "disclosure_opened", detail={"context": disclosure.context})
        tracker.open_abuse_report(disclosure.received_at, now)
        tracker.advance(now)
        return tracker

    @property
    def phase(self) -> str:
        return "closed" if self.ended else "reporting"
