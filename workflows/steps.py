"""The protocol's steps as data: one table that drives one mechanism.

Each row says which rule a step implements, how its clock runs, who can do
it, and which integration does it in automatic mode. The episode code never
names a step to decide how it behaves; it reads this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from workflows.refusal import Refused
from workflows.settings import CountySettings, Mode


class StepName(StrEnum):
    LAW_ENFORCEMENT_REPORT = "law_enforcement_report"
    WARRANT_REQUEST = "warrant_request"
    PARTY_NOTIFICATIONS = "party_notifications"
    NCMEC_REPORT = "ncmec_report"
    NCIC_ENTRY_CONFIRMED = "ncic_entry_confirmed"
    MISSING_DOCUMENTATION = "missing_documentation"
    LOCATE_EFFORT = "locate_effort"
    RETURN_NOTIFICATIONS = "return_notifications"
    DEBRIEF = "debrief"
    CFT_MEETING = "cft_meeting"
    ABUSE_REPORT = "abuse_report"
    ABUSE_WRITTEN_REPORT = "abuse_written_report"
    LEAD_AGENCY_CONFIRMATION = "lead_agency_confirmation"


ClockUnit = Literal["hours", "days", "months"]
# Who performs a step: an adapter (or the officer, by mode), the officer
# alone, or only the step's own action (record_debrief, record_effort).
DoneBy = Literal["adapter", "officer", "own_action"]
# The integration that performs a step in automatic mode.
Integration = Literal[
    "law_enforcement", "court", "ncmec", "notifications", "case_record"
]


@dataclass(frozen=True)
class Clock:
    """How long a step has: a fixed amount, or a county setting's value."""

    unit: ClockUnit
    amount: float = 0
    setting: str | None = None

    def length(self, settings: CountySettings) -> float:
        if self.setting is None:
            return self.amount
        return float(getattr(settings, self.setting))


@dataclass(frozen=True)
class StepDefinition:
    name: StepName
    policy: str
    clock: Clock
    done_by: DoneBy
    default_mode: Mode
    integration: Integration | None = None
    has_items: bool = False
    # One of the four reports due 24 hours after the information is received.
    twenty_four_hour_report: bool = False
    # Settled at located or a close (not_required before due, missed after).
    settled_when_found: bool = True


DAY = Clock("hours", 24)

STEPS: dict[StepName, StepDefinition] = {
    step.name: step
    for step in (
        StepDefinition(
            StepName.LAW_ENFORCEMENT_REPORT,
            "§5.A",
            DAY,
            "adapter",
            Mode.OFFICER,
            "law_enforcement",
            twenty_four_hour_report=True,
        ),
        StepDefinition(
            StepName.WARRANT_REQUEST,
            "§5.A",
            Clock("hours", setting="warrant_request_hours"),
            "adapter",
            Mode.OFFICER,
            "court",
            twenty_four_hour_report=True,
        ),
        StepDefinition(
            StepName.PARTY_NOTIFICATIONS,
            "§5.A",
            DAY,
            "adapter",
            Mode.OFFICER,
            "notifications",
            has_items=True,
            twenty_four_hour_report=True,
        ),
        StepDefinition(
            StepName.NCMEC_REPORT,
            "§5.A; 42 U.S.C. 671(a)(35)(B)",
            DAY,
            "adapter",
            Mode.OFFICER,
            "ncmec",
            twenty_four_hour_report=True,
        ),
        StepDefinition(
            StepName.NCIC_ENTRY_CONFIRMED,
            "§5.A",
            Clock("hours", setting="ncic_entry_hours"),
            "adapter",
            Mode.OFFICER,
            "law_enforcement",
        ),
        StepDefinition(
            StepName.MISSING_DOCUMENTATION,
            "§4.A/B, §5.B",
            DAY,
            "adapter",
            Mode.AUTOMATIC,
            "case_record",
        ),
        StepDefinition(
            StepName.LOCATE_EFFORT,
            "§5.B",
            Clock("months", 1),
            "own_action",
            Mode.OFFICER,
        ),
        StepDefinition(
            StepName.RETURN_NOTIFICATIONS,
            "§5.A-C",
            DAY,
            "adapter",
            Mode.OFFICER,
            "notifications",
            has_items=True,
            settled_when_found=False,
        ),
        StepDefinition(
            StepName.DEBRIEF,
            "§5.C",
            Clock("hours", setting="debrief_hours"),
            "own_action",
            Mode.OFFICER,
            settled_when_found=False,
        ),
        StepDefinition(
            StepName.CFT_MEETING,
            "§5.C",
            Clock("days", setting="cft_meeting_days"),
            "officer",
            Mode.OFFICER,
            settled_when_found=False,
        ),
        StepDefinition(
            StepName.ABUSE_REPORT,
            "§4.C; PC 11166",
            Clock("hours", setting="abuse_report_hours"),
            "adapter",
            Mode.OFFICER,
            "law_enforcement",
            has_items=True,
            settled_when_found=False,
        ),
        StepDefinition(
            StepName.ABUSE_WRITTEN_REPORT,
            "§4.C; PC 11166",
            Clock("hours", setting="abuse_written_report_hours"),
            "adapter",
            Mode.OFFICER,
            "law_enforcement",
            has_items=True,
            settled_when_found=False,
        ),
        StepDefinition(
            StepName.LEAD_AGENCY_CONFIRMATION,
            "§5.D",
            DAY,
            "officer",
            Mode.OFFICER,
        ),
    )
}

TWENTY_FOUR_HOUR_REPORTS = tuple(
    step.name for step in STEPS.values() if step.twenty_four_hour_report
)
ABUSE_STEPS = (StepName.ABUSE_REPORT, StepName.ABUSE_WRITTEN_REPORT)


def mode_of(step: StepName, settings: CountySettings) -> Mode:
    """The configured mode of a step, or its default."""
    return settings.modes.get(step.value, STEPS[step].default_mode)


def check_modes(modes: dict[str, str]) -> None:
    """Refuse unknown steps and modes, and automatic on an officer's step.

    Raises:
        Refused: naming the step and the rule.
    """
    for name, mode in modes.items():
        if name not in StepName.__members__.values():
            raise Refused(f"modes.{name}: is not a step of the protocol")
        if mode not in Mode.__members__.values():
            raise Refused(f"modes.{name}: must be 'automatic' or 'officer'")
        if mode == Mode.AUTOMATIC and STEPS[StepName(name)].done_by != "adapter":
            raise Refused(
                f"modes.{name}: cannot be automatic, the step is done only "
                "by the officer or by its own action"
            )
