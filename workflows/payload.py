"""The case system's payload that opens a missing episode.

Exactly the fields of the scenario format's "The payload". Every rule a field
breaks is reported with the field's path and the rule, never its value: the
values are personal data about a minor.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)


def printable(value: str) -> str:
    """Refuse control and format characters (NUL, escape codes, a
    right-to-left override): they hide what a text says on a screen. A note
    may keep its line breaks and tabs."""
    for character in value:
        if character in "\n\t":
            continue
        if unicodedata.category(character) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            raise ValueError("must not contain control or invisible characters")
    return value


# Short ids and texts: a payload is data about one youth, never a document.
Id = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(printable),
]
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(printable),
]
Note = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(printable),
]


class Strict(BaseModel):
    """Base of every input model: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def not_in_future(value: datetime, info: ValidationInfo) -> datetime:
    """Refuse a time later than the validation context's ``now``."""
    now = (info.context or {}).get("now")
    if now is not None and value > now:
        raise ValueError("must not be in the future")
    return value


PastTime = Annotated[AwareDatetime, AfterValidator(not_in_future)]


class CsecStatus(StrEnum):
    NONE = "none"
    AT_RISK = "at_risk"
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"


class Indicator(StrEnum):
    """The §1.C indicators, strong ones first."""

    CONTROLLED_OR_GROOMED = "controlled_or_groomed"
    ASSOCIATES_IN_COMMERCIAL_SEX = "associates_in_commercial_sex"
    ATYPICAL_ONLINE_BEHAVIOUR = "atypical_online_behaviour"
    RUNAWAY_HISTORY = "runaway_history"
    UNSTABLE_HOUSING = "unstable_housing"
    JUSTICE_INVOLVEMENT = "justice_involvement"
    TRUANCY = "truancy"
    CONCERNING_RELATIONSHIPS = "concerning_relationships"
    HARD_SUBSTANCE_ABUSE = "hard_substance_abuse"


class PartyRole(StrEnum):
    PARENT = "parent"
    LEGAL_GUARDIAN = "legal_guardian"
    INDIAN_CUSTODIAN = "indian_custodian"
    ATTORNEY_OF_RECORD = "attorney_of_record"
    TRIBAL_REPRESENTATIVE = "tribal_representative"
    CASA = "casa"
    CAREGIVER = "caregiver"
    OTHER = "other"


# Item names of agencies in steps with items; a party id may not take one.
AGENCY_ITEMS = frozenset({"law_enforcement", "district_attorney", "court", "ncmec"})


class Youth(Strict):
    id: Id
    first_name: Text
    last_name: Text
    date_of_birth: date


class Csec(Strict):
    status: CsecStatus
    victim_before_foster_care: bool = False
    indicators: list[Indicator] = Field(default_factory=list, max_length=9)
    reported_at: PastTime | None = None


class LastSeen(Strict):
    at: PastTime
    place: Text


class Agency(Strict):
    name: Text
    ori: Text | None = None


class StaffMember(Strict):
    id: Id
    name: Text
    email: Text | None = None


class Liaison(Strict):
    name: Text
    email: Text | None = None
    phone: Text | None = None


class DualStatus(Strict):
    lead_agency: Literal["probation", "child_welfare"]
    liaison: Liaison | None = None


class Party(Strict):
    id: Id
    role: PartyRole
    name: Text
    email: Text | None = None
    phone: Text | None = None
    address: Text | None = None
    do_not_notify: bool = False
    reason: Text | None = None

    @field_validator("id")
    @classmethod
    def not_an_agency_item(cls, value: str) -> str:
        if value in AGENCY_ITEMS:
            raise ValueError("must differ from the agency item names")
        return value

    @model_validator(mode="after")
    def do_not_notify_has_reason(self) -> Party:
        if self.do_not_notify and not self.reason:
            raise ValueError("reason: required when do_not_notify is true")
        return self


# A case id names a workflow, so it is short and plain.
CaseId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    ),
]


class MissingReport(Strict):
    """What the case system sends when a youth goes missing."""

    case_id: CaseId
    received_at: PastTime
    youth: Youth
    in_foster_care: bool
    non_minor_dependent: bool = False
    ilp_services: bool = False
    dual_status: DualStatus | None = None
    csec: Csec
    last_seen: LastSeen | None = None
    primary_factors: list[Note] = Field(default_factory=list, max_length=20)
    law_enforcement_agency: Agency
    officer: StaffMember
    supervisor: StaffMember
    parties: list[Party] = Field(default_factory=list, max_length=30)

    @field_validator("parties")
    @classmethod
    def party_ids_unique(cls, parties: list[Party]) -> list[Party]:
        ids = [party.id for party in parties]
        if len(ids) != len(set(ids)):
            raise ValueError("party ids must be unique")
        return parties

    @model_validator(mode="after")
    def born_before_received(self) -> MissingReport:
        if self.youth.date_of_birth > self.received_at.date():
            raise ValueError("youth.date_of_birth: must be before received_at")
        return self

    @model_validator(mode="after")
    def supervisor_is_not_the_officer(self) -> MissingReport:
        # The supervisor closes episodes and hears of every overdue step;
        # an officer cannot be their own supervisor.
        if self.supervisor.id == self.officer.id:
            raise ValueError("supervisor.id: must differ from officer.id")
        return self

    @model_validator(mode="after")
    def non_minor_dependent_is_adult(self) -> MissingReport:
        # A non-minor dependent is 18 or older on the day the officer learned
        # of the absence; a younger one is a data error, not a ward.
        if (
            self.non_minor_dependent
            and age_on(self.youth.date_of_birth, self.received_at.date()) < 18
        ):
            raise ValueError(
                "non_minor_dependent: a non-minor dependent must be 18 or older"
            )
        return self

    @property
    def handed_off(self) -> bool:
        """Dual status with child welfare leading the runaway protocol (§5.D)."""
        return (
            self.dual_status is not None
            and self.dual_status.lead_agency == "child_welfare"
        )


class Disclosure(Strict):
    """Known or suspected exploitation learned outside any missing episode.

    At intake, in a home visit, or at a debrief after the episode's own
    abuse report was final (§4.C): reported to LE and the DA, both.
    """

    case_id: CaseId
    received_at: PastTime
    youth: Youth
    law_enforcement_agency: Agency
    officer: StaffMember
    supervisor: StaffMember
    context: Literal["intake", "home_visit", "debrief", "other"] = "other"


def age_on(birth: date, day: date) -> int:
    """Whole years of age on ``day``."""
    before_birthday = (day.month, day.day) < (birth.month, birth.day)
    return day.year - birth.year - int(before_birthday)


def validate_report(data: Any, now: datetime | None) -> MissingReport:
    """Validate a payload; ``now`` bounds every time in it (None: unbounded).

    Raises:
        pydantic.ValidationError: naming each field and rule broken.
    """
    return MissingReport.model_validate(data, context={"now": now})


def shift_times(value: Any, delta: timedelta) -> Any:
    """Move every time with a UTC offset by ``delta``; dates stay put."""
    if isinstance(value, dict):
        return {key: shift_times(item, delta) for key, item in value.items()}
    if isinstance(value, list):
        return [shift_times(item, delta) for item in value]
    if isinstance(value, str) and "T" in value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return (moment + delta).isoformat()
    return value


def received_recently(payload: dict[str, Any], ago: timedelta) -> dict[str, Any]:
    """The payload as if the officer learned of the absence ``ago``."""
    received = datetime.fromisoformat(payload["received_at"])
    target = (datetime.now(UTC) - ago).astimezone(received.tzinfo)
    return shift_times(payload, target.replace(microsecond=0) - received)
