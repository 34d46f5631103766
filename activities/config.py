"""Which adapter serves each integration, and the activities built on them.

Every integration's only adapter today is ``case_record``: it records what
would be sent in the case record (see ``outbox``). A new adapter is one line
in ``ADAPTERS`` and a name in the configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from activities.agencies import (
    RecordedCourt,
    RecordedDistrictAttorney,
    RecordedLawEnforcement,
    RecordedNcmec,
)
from activities.case_record import SqliteCaseRecord
from activities.documentation import RecordedDocumentation
from activities.messages import LoggedStaffMessages, RecordedNotifications
from activities.protocol_activities import Adapters, ProtocolActivities

Factory = Callable[[SqliteCaseRecord], Any]

# integration -> adapter name -> how to build it on the case record.
ADAPTERS: dict[str, dict[str, Factory]] = {
    "case_record": {"case_record": RecordedDocumentation},
    "law_enforcement": {"case_record": RecordedLawEnforcement},
    "court": {"case_record": RecordedCourt},
    "ncmec": {"case_record": RecordedNcmec},
    "district_attorney": {"case_record": RecordedDistrictAttorney},
    "notifications": {"case_record": RecordedNotifications},
    "staff_messages": {"case_record": lambda record: LoggedStaffMessages()},
}


class AdapterConfig(BaseModel):
    """Where the case record lives, and the adapter of each integration.

    ``case_record`` names the adapter of the missing documentation; the
    record itself is always the SQLite file at ``case_record_path``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_record_path: Path
    case_record: str = "case_record"
    law_enforcement: str = "case_record"
    court: str = "case_record"
    ncmec: str = "case_record"
    district_attorney: str = "case_record"
    notifications: str = "case_record"
    staff_messages: str = "case_record"

    @field_validator(*ADAPTERS)
    @classmethod
    def known_adapter(cls, name: str, info: ValidationInfo) -> str:
        known = ADAPTERS[str(info.field_name)]
        if name not in known:
            raise ValueError(
                f"unknown adapter {name!r}; known: {', '.join(sorted(known))}"
            )
        return name


def build_adapters(config: AdapterConfig) -> Adapters:
    """The configured adapter of each integration, on one case record."""
    record = SqliteCaseRecord(config.case_record_path)

    def chosen(integration: str) -> Any:
        return ADAPTERS[integration][getattr(config, integration)](record)

    return Adapters(
        case_record=record,
        documentation=chosen("case_record"),
        law_enforcement=chosen("law_enforcement"),
        court=chosen("court"),
        ncmec=chosen("ncmec"),
        district_attorney=chosen("district_attorney"),
        notifications=chosen("notifications"),
        staff_messages=chosen("staff_messages"),
    )


def build_activities(config: AdapterConfig) -> list[Callable[..., Any]]:
    """The worker's activities, bound to the configured adapters."""
    activities = ProtocolActivities(build_adapters(config))
    return [
        activities.open_case_record,
        activities.perform_step,
        activities.open_officer_task,
        activities.send_notice,
        activities.record_chrono,
    ]
