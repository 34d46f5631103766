"""What people tell an episode: officer and supervisor actions.

Each model is one Update's input. Times carry a UTC offset and are never in
the future (bounded by the workflow's clock through the validation context).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from workflows.effects import Method
from workflows.payload import Id, Note, PastTime, Strict, Text
from workflows.steps import StepName


class EffortKind(StrEnum):
    """Diligent efforts to locate a missing youth (§5.B i-vi)."""

    CONTACTED_SIGNIFICANT_PERSON = "contacted_significant_person"
    CAREGIVER_INQUIRY = "caregiver_inquiry"
    PHYSICAL_CHECK = "physical_check"
    WELFARE_CHECK_REQUESTED = "welfare_check_requested"
    FOLLOWED_LEAD = "followed_lead"
    CONSULTED_LIAISON = "consulted_liaison"
    SOCIAL_MEDIA_SEARCH = "social_media_search"
    LOCATOR_DATABASE_SEARCH = "locator_database_search"
    OTHER = "other"


class Service(StrEnum):
    MEDICAL = "medical"
    MENTAL_HEALTH = "mental_health"
    LAW_ENFORCEMENT = "law_enforcement"
    OTHER = "other"


class CloseReason(StrEnum):
    ERRONEOUS_REPORT = "erroneous_report"
    CASE_DISMISSED = "case_dismissed"
    TRANSFERRED = "transferred"
    AGED_OUT = "aged_out"
    OTHER = "other"


Reference = Annotated[str, Field(min_length=1, max_length=64)]


class Action(Strict):
    by: Id | None = None


class CompleteStep(Action):
    """The officer confirms a step (or one item of it) was performed."""

    step: StepName
    method: Method
    item: Id | None = None
    reference: Reference | None = None
    ncmec_reference: Reference | None = None
    performed_at: PastTime | None = None


class RecordAttempt(Action):
    """A try that did not complete the step: a voicemail, a bounced e-mail."""

    step: StepName
    method: Method
    item: Id | None = None
    notes: Note | None = None
    performed_at: PastTime | None = None


class RecordEffort(Action):
    """One effort to locate the youth, counted for its monthly period."""

    kind: EffortKind
    notes: Note | None = None
    performed_at: PastTime | None = None

    @model_validator(mode="after")
    def other_says_what(self) -> RecordEffort:
        if self.kind == EffortKind.OTHER and not self.notes:
            raise ValueError("notes: required when kind is 'other'")
        return self


class Located(Action):
    """The youth was found: when, where and by whom."""

    place: Text
    found_by: Text
    located_at: PastTime | None = None


class RecordDebrief(Action):
    """Experiences while absent and the CSE screening (§5.C)."""

    exploited_while_absent: Literal["yes", "no", "unknown"]
    immediate_risk: bool
    services: list[Service] = Field(default_factory=list, max_length=4)
    cft_applies: bool
    primary_factors: list[Note] = Field(default_factory=list, max_length=20)
    performed_at: PastTime | None = None


class Close(Action):
    """A supervisor ends the episode, with a reason and their id."""

    reason: CloseReason
    by: Id
    notes: Note | None = None
    # When the supervisor decided; default when the workflow receives it.
    closed_at: PastTime | None = None
