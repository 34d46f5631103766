"""County settings and step modes: the protocol's adjustable numbers.

They travel in the workflow's input, so a running episode keeps the settings
it started with even when the county changes its configuration.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Mode(StrEnum):
    """How a step that an adapter can do is done."""

    AUTOMATIC = "automatic"  # the adapter does it and returns the receipt
    OFFICER = "officer"  # the adapter opens a task; the officer confirms


Hours = Annotated[float, Field(gt=0, le=24 * 366)]
Days = Annotated[int, Field(gt=0, le=366)]


class CountySettings(BaseModel):
    """The county's clocks, in one place (PROTOCOL.md, "Steps")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_zone: str = "America/Los_Angeles"
    warrant_request_hours: Hours = 24
    ncic_entry_hours: Hours = 24
    debrief_hours: Hours = 72
    cft_meeting_days: Days = 30
    # PC 11166 says "immediately"; the county reads that as two hours.
    abuse_report_hours: Hours = 2
    abuse_written_report_hours: Hours = 36
    reminder_lead_hours: Hours = 6
    reminder_lead_days: Days = 7
    modes: dict[str, Mode] = Field(default_factory=dict)

    @field_validator("time_zone")
    @classmethod
    def known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError("must be an IANA time zone name") from error
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)
