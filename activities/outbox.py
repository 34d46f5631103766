"""What the default adapters share: a submission is a row in the case record.

The default adapter of every integration is named ``case_record``: it builds
what the agency needs from the payload in the record, writes it to the
``submissions`` table, and returns a receipt whose reference is derived from
the request's idempotency key, so that a retry finds the same reference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog

from activities.case_record import SqliteCaseRecord
from activities.clock import now
from activities.errors import CaseRecordError
from workflows.effects import Method, Receipt, StepRequest
from workflows.payload import Disclosure, MissingReport
from workflows.steps import StepName

log = structlog.get_logger()

# Who performed an automatic step: this adapter, on the officer's behalf.
PERFORMED_BY = "adapter:case_record"


def reference_for(prefix: str, idempotency_key: str) -> str:
    """A reference that the same request always gets, e.g. ``LE-3F9A0C12D4``."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
    return f"{prefix}-{digest[:10].upper()}"


class Outbox:
    """Base of the default adapters: submissions recorded, not transmitted.

    Args:
        record: The case record that holds payloads and submissions.
        clock: When a submission is made; the Temporal server's clock.
    """

    integration = ""

    def __init__(
        self, record: SqliteCaseRecord, clock: Callable[[], datetime] = now
    ) -> None:
        self.record = record
        self.clock = clock

    def report(self, request: StepRequest) -> MissingReport | Disclosure:
        """The payload of the request's episode or disclosure."""
        return self.record.report(request.episode_id)

    def missing_report(self, request: StepRequest) -> MissingReport:
        """The payload of the request's missing episode.

        Raises:
            CaseRecordError: the request belongs to a disclosure, which has
                no missing report.
        """
        report = self.report(request)
        if not isinstance(report, MissingReport):
            raise CaseRecordError(
                f"{request.episode_id}: {request.step} belongs to a missing "
                "episode, not a disclosure"
            )
        return report

    def submit(
        self,
        request: StepRequest,
        prefix: str,
        body: dict[str, Any],
        method: Method = Method.ELECTRONIC,
    ) -> Receipt:
        """Record a submission; a repeat returns the first one's reference."""
        # Limitation: nothing leaves this machine; the submissions table is
        # the outbox that an agency's own adapter would transmit from.
        reference = self.record.record_submission(
            request,
            self.integration,
            reference_for(prefix, request.idempotency_key),
            body,
            self.clock(),
        )
        log.info(
            "step_submitted",
            case_id=request.case_id,
            episode_id=request.episode_id,
            step=request.step.value,
            item=request.item,
            integration=self.integration,
            method=method.value,
        )
        return Receipt(method=method, reference=reference, performed_by=PERFORMED_BY)

    def reference_of(self, episode_id: str, step: StepName) -> str | None:
        """The reference an earlier step got, if the record knows it.

        An automatic step's is in its submission; an officer's confirmation
        is read from the chrono, where the workflow records the receipt as
        ``detail["reference"]`` or ``detail["receipt"]["reference"]``.
        """
        for row in reversed(self.record.submissions(episode_id)):
            if row["step"] == step and row["item"] is None:
                reference: str = row["reference"]
                return reference
        for row in reversed(self.record.chrono(episode_id)):
            if row["step"] == step and row["item"] is None:
                detail = row["detail"] or {}
                receipt = detail.get("receipt") or {}
                found = detail.get("reference") or receipt.get("reference")
                if found:
                    return str(found)
        return None
