"""What an episode holds: every step, period, effort and message, as data.

All of it is carried whole through continue-as-new, so nothing recorded is
lost when the history is cut.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from workflows.actions import CloseReason, EffortKind, Service
from workflows.effects import ChronoEntry, Method, Notice, Receipt, StepRequest
from workflows.payload import Disclosure, MissingReport
from workflows.settings import CountySettings, Mode
from workflows.steps import StepName


class State(StrEnum):
    PENDING = "pending"  # open, not due
    OVERDUE = "overdue"  # open, past due
    DONE = "done"  # performed at or before due
    DONE_LATE = "done_late"
    NOT_REQUIRED = "not_required"  # still open when found, not yet due
    MISSED = "missed"  # still open when found, past due
    NOT_APPLICABLE = "not_applicable"  # an item never to act on


OPEN_STATES = frozenset({State.PENDING, State.OVERDUE})
# When a step's items are all final, the step takes the first of these
# that any item holds.
ITEM_PRECEDENCE = (State.MISSED, State.DONE_LATE, State.DONE, State.NOT_REQUIRED)


class Phase(StrEnum):
    REPORTING = "reporting"
    SEARCHING = "searching"
    RETURNED = "returned"
    HANDED_OFF = "handed_off"
    CLOSED = "closed"


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Attempt(Record):
    method: Method
    item: str | None = None
    notes: str | None = None
    performed_at: AwareDatetime
    recorded_at: AwareDatetime
    by: str


class ItemRecord(Record):
    state: State
    done_at: AwareDatetime | None = None
    receipt: Receipt | None = None


class StepRecord(Record):
    name: StepName
    mode: Mode
    trigger: AwareDatetime
    opened_at: AwareDatetime
    due: AwareDatetime
    remind_at: AwareDatetime | None = None
    reminded: bool = False
    state: State = State.PENDING
    done_at: AwareDatetime | None = None
    receipt: Receipt | None = None
    items: dict[str, ItemRecord] | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    escalated_at: AwareDatetime | None = None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class LocatePeriod(Record):
    number: int
    starts: AwareDatetime
    ends: AwareDatetime
    remind_at: AwareDatetime
    reminded: bool = False
    judged: bool = False
    compliant: bool | None = None
    escalated_at: AwareDatetime | None = None


class Effort(Record):
    kind: EffortKind
    notes: str | None = None
    performed_at: AwareDatetime
    recorded_at: AwareDatetime
    by: str


class LocatedRecord(Record):
    located_at: AwareDatetime
    place: str
    found_by: str
    recorded_at: AwareDatetime
    by: str


class DebriefRecord(Record):
    exploited_while_absent: Literal["yes", "no", "unknown"]
    immediate_risk: bool
    services: list[Service]
    cft_applies: bool
    primary_factors: list[str]
    held_at: AwareDatetime
    recorded_at: AwareDatetime
    by: str


class Closure(Record):
    reason: CloseReason
    by: str
    notes: str | None = None
    closed_at: AwareDatetime


class Escalation(Record):
    step: StepName
    period: int | None = None
    at: AwareDatetime


class PerformStep(Record):
    kind: Literal["perform_step"] = "perform_step"
    request: StepRequest
    # When the step asked its adapter; an answer within the clock's grace is
    # taken as done at this moment ("done the moment it opens").
    requested_at: AwareDatetime | None = None


class OpenOfficerTask(Record):
    kind: Literal["open_officer_task"] = "open_officer_task"
    request: StepRequest


class SendNotice(Record):
    kind: Literal["send_notice"] = "send_notice"
    notice: Notice


class WriteChrono(Record):
    kind: Literal["record_chrono"] = "record_chrono"
    entry: ChronoEntry


class StartDisclosure(Record):
    """A finding that needs an abuse report of its own, outside the episode."""

    kind: Literal["start_disclosure"] = "start_disclosure"
    disclosure: Disclosure


Effect = Annotated[
    PerformStep | OpenOfficerTask | SendNotice | WriteChrono | StartDisclosure,
    Field(discriminator="kind"),
]


class TrackedRecord(Record):
    """What every run of the protocol's steps holds: ids, steps, messages."""

    episode_id: str
    case_id: str
    officer_id: str
    supervisor_id: str
    received_at: AwareDatetime
    settings: CountySettings
    started_at: AwareDatetime
    steps: dict[StepName, StepRecord] = Field(default_factory=dict)
    escalations: list[Escalation] = Field(default_factory=list)
    ended_at: AwareDatetime | None = None
    # Side effects decided but not yet handed to an activity.
    outbox: list[Effect] = Field(default_factory=list)
    failed_effects: list[str] = Field(default_factory=list)
    sequence: int = 0


class EpisodeRecord(TrackedRecord):
    """The whole state of one missing episode."""

    report: MissingReport
    periods: list[LocatePeriod] = Field(default_factory=list)
    efforts: list[Effort] = Field(default_factory=list)
    located: LocatedRecord | None = None
    debrief: DebriefRecord | None = None
    closure: Closure | None = None
    birthday_at: AwareDatetime | None = None
    birthday_noticed: bool = False


class DisclosureRecord(TrackedRecord):
    """The state of an abuse report made outside any missing episode."""

    disclosure: Disclosure


def when(value: datetime) -> str:
    """An instant as ISO 8601 with its offset, for keys and records."""
    return value.isoformat()
