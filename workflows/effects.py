"""What an episode asks of the world: the activities' contract.

The workflow only decides; every side effect is one of these requests,
carried out by an activity whose adapter is chosen by configuration. Each
request carries an idempotency key built from the episode, the step and the
item, never from the attempt, so that a retried activity changes nothing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from workflows.payload import Disclosure, MissingReport
from workflows.settings import CountySettings
from workflows.steps import StepName

OPEN_CASE_RECORD = "open_case_record"
PERFORM_STEP = "perform_step"
OPEN_OFFICER_TASK = "open_officer_task"
SEND_NOTICE = "send_notice"
RECORD_CHRONO = "record_chrono"


class Method(StrEnum):
    PHONE = "phone"
    ELECTRONIC = "electronic"
    IN_PERSON = "in_person"
    LETTER = "letter"
    EMAIL = "email"


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EpisodeOpened(Contract):
    """Input of ``open_case_record``: the payload goes to the case record."""

    episode_id: str
    # A missing episode's payload, or a disclosure outside any episode.
    report: MissingReport | Disclosure
    settings: CountySettings
    started_at: AwareDatetime
    idempotency_key: str


class StepRequest(Contract):
    """Input of ``perform_step`` (automatic) and ``open_officer_task``."""

    case_id: str
    episode_id: str
    step: StepName
    item: str | None = None
    due: AwareDatetime
    officer_id: str
    idempotency_key: str


class Receipt(Contract):
    """Proof a step was done: how, a reference where one exists, by whom."""

    method: Method
    reference: str | None = None
    ncmec_reference: str | None = None
    performed_by: str | None = None


NoticeKind = Literal["reminder", "escalation", "birthday", "hand_off"]


class Notice(Contract):
    """Input of ``send_notice``: a message to staff, never to a party.

    Reminders go to the officer, escalations to the supervisor, the 18th
    birthday notice to both, the hand-off notice to the lead agency's liaison.
    """

    case_id: str
    episode_id: str
    kind: NoticeKind
    recipient: Literal["officer", "supervisor", "liaison"]
    recipient_id: str
    step: StepName | None = None
    item: str | None = None
    period: int | None = None
    due: AwareDatetime | None = None
    at: AwareDatetime
    idempotency_key: str


class ChronoEntry(Contract):
    """Input of ``record_chrono``: one line of the durable record.

    ``state`` is the step's (or item's) state after the event; a final state
    closes the officer's task for that step and item.
    """

    case_id: str
    episode_id: str
    at: AwareDatetime
    event: str
    step: StepName | None = None
    item: str | None = None
    state: str | None = None
    detail: dict[str, Any] = {}
    idempotency_key: str


FINAL_STATES = frozenset(
    {"done", "done_late", "not_required", "missed", "not_applicable"}
)
# The chrono event that tells the case record the episode has ended.
EPISODE_ENDED = "episode_ended"
