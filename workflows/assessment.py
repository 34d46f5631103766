"""An at-risk assessment at intake or later (§1.C, §3.A): the rule decides.

The officer records the indicators seen; ``meets_at_risk_rule`` says whether
they make the youth at risk. The assessment is kept in the case record and
feeds category ``i`` of the annual report (``annual_counts``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict

from workflows.categories import meets_at_risk_rule
from workflows.payload import CaseId, Id, Indicator


class AtRiskAssessment(BaseModel):
    """The indicators seen in one assessment, and the rule's answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: CaseId
    youth_id: Id
    assessed_at: AwareDatetime
    assessed_by: Id | None
    indicators: list[Indicator]
    at_risk: bool

    @property
    def idempotency_key(self) -> str:
        """The same assessment recorded twice is one row."""
        at = self.assessed_at.astimezone(UTC)
        return f"assessment/{self.case_id}/{self.youth_id}/{at:%Y%m%dT%H%M%SZ}"


def assess(
    case_id: str,
    youth_id: str,
    indicators: Iterable[Indicator],
    assessed_by: str | None,
    assessed_at: datetime,
) -> AtRiskAssessment:
    """Record what was seen and let the §1.C rule decide.

    Raises:
        pydantic.ValidationError: an id that is not one, or a time without
            a UTC offset.
    """
    seen = list(dict.fromkeys(indicators))
    return AtRiskAssessment(
        case_id=case_id,
        youth_id=youth_id,
        assessed_at=assessed_at,
        assessed_by=assessed_by,
        indicators=seen,
        at_risk=meets_at_risk_rule(seen),
    )
