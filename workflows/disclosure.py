"""An abuse report on its own: exploitation learned outside any episode.

At intake, in a home visit, or at a debrief after the episode's own abuse
report was final, the same duty applies (§4.C, PC 11166): report to the LE
agency with jurisdiction and to the District Attorney within the county's
"immediately", and in writing within 36 hours after a phone report.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from workflows.payload import Disclosure
from workflows.records import DisclosureRecord
from workflows.settings import CountySettings
from workflows.tracker import StepTracker, opening

DISCLOSURE_PREFIX = "abuse-report-"


class DisclosureInput(BaseModel):
    """The abuse report workflow's input."""

    disclosure: Disclosure
    settings: CountySettings = CountySettings()


def disclosure_id_for(disclosure: Disclosure) -> str:
    """The workflow id: case id and when the officer learned of it (UTC)."""
    fields = opening(disclosure, CountySettings(), disclosure.received_at)
    return DISCLOSURE_PREFIX + str(fields["episode_id"])


class AbuseDisclosure(StepTracker):
    """The abuse report steps, and nothing else; ends when they are final."""

    def __init__(self, record: DisclosureRecord) -> None:
        self.record: DisclosureRecord = record

    @classmethod
    def open(
        cls, disclosure: Disclosure, settings: CountySettings, now: datetime
    ) -> AbuseDisclosure:
        fields = opening(disclosure, settings, now, prefix=DISCLOSURE_PREFIX)
        record = DisclosureRecord(**fields, disclosure=disclosure)
        tracker = cls(record)
        tracker.effects.chrono(
            now, "disclosure_opened", detail={"context": disclosure.context}
        )
        tracker.open_abuse_report(disclosure.received_at, now)
        tracker.advance(now)
        return tracker

    @property
    def phase(self) -> str:
        return "closed" if self.ended else "reporting"
