"""What every adapter of an outside party shares: a submission, sent once.

An adapter builds what its agency needs from the payload in the case record
(``bodies``) and hands it to ``Outbox.submit``. With no sender (the adapter
named ``case_record``) the submission is only written to the ``submissions``
table; with one (``webhook``, ``email``) it is sent first, and written once
the agency or mail server took it. Either way the receipt's reference is the
agency's own when it gave one, and otherwise derived from the request's
idempotency key, so that a retry finds the same reference.

Adapters are coroutines on the worker's event loop; the case record blocks,
so each call to it runs in a thread.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import structlog

from activities.case_record import SqlCaseRecord
from activities.clock import now
from activities.errors import CaseRecordError
from workflows.effects import Method, Receipt, StepRequest
from workflows.payload import Disclosure, MissingReport
from workflows.steps import StepName

log = structlog.get_logger()

Body = dict[str, Any]

# Who performed an automatic step that was only recorded, on the officer's
# behalf; a sender's steps are performed by ``adapter:<its name>``.
PERFORMED_BY = "adapter:case_record"


def reference_for(prefix: str, idempotency_key: str) -> str:
    """A reference that the same request always gets, e.g. ``LE-3F9A0C12D4``."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
    return f"{prefix}-{digest[:10].upper()}"


class Sender(Protocol):
    """How a submission leaves this machine."""

    name: str

    async def send(
        self, request: StepRequest, integration: str, body: Body
    ) -> str | None:
        """Deliver the body; the recipient's reference for it, if it gave one.

        Raises:
            ApplicationError: Retryable while the recipient may yet take it;
                non-retryable once it refused.
        """
        ...


class Outbox:
    """Base of the adapters of outside parties: build, send once, record.

    Args:
        record: The case record that holds payloads and submissions.
        sender: How submissions leave; None records them only.
        clock: When a submission is made; the Temporal server's clock.
    """

    integration = ""

    def __init__(
        self,
        record: SqlCaseRecord,
        sender: Sender | None = None,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self.record = record
        self.sender = sender
        self.clock = clock

    async def report(self, request: StepRequest) -> MissingReport | Disclosure:
        """The payload of the request's episode or disclosure."""
        return await asyncio.to_thread(self.record.report, request.episode_id)

    async def missing_report(self, request: StepRequest) -> MissingReport:
        """The payload of the request's missing episode.

        Raises:
            CaseRecordError: the request belongs to a disclosure, which has
                no missing report.
        """
        report = await self.report(request)
        if not isinstance(report, MissingReport):
            raise CaseRecordError(
                f"{request.episode_id}: {request.step} belongs to a missing "
                "episode, not a disclosure"
            )
        return report

    async def submit(
        self,
        request: StepRequest,
        prefix: str,
        body: Body,
        method: Method = Method.ELECTRONIC,
    ) -> Receipt:
        """Send a submission unless it was sent, record it, return its receipt.

        A repeat returns the first submission's reference. Only a crash
        between the send and the record sends twice; a webhook's receiver
        knows the repeat by its ``Idempotency-Key``.
        """
        key = request.idempotency_key
        reference = reference_for(prefix, key)
        performed_by = PERFORMED_BY
        # Limitation: with no sender nothing leaves this machine; the row is
        # what the agency would receive, and its reference stands in for one.
        if self.sender is not None:
            performed_by = f"adapter:{self.sender.name}"
            if await asyncio.to_thread(self.record.submission, key) is None:
                sent = await self.sender.send(request, self.integration, body)
                reference = sent or reference
        first = await asyncio.to_thread(
            self.record.record_submission,
            request,
            self.integration,
            reference,
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
            performed_by=performed_by,
        )
        return Receipt(method=method, reference=first, performed_by=performed_by)

    async def reference_of(self, episode_id: str, step: StepName) -> str | None:
        """The reference an earlier step got, if the record knows it."""
        return await asyncio.to_thread(self._reference_of, episode_id, step)

    def _reference_of(self, episode_id: str, step: StepName) -> str | None:
        # An automatic step's is in its submission; an officer's
        # confirmation is read from the chrono, where the workflow records
        # the receipt as detail["reference"] or detail["receipt"]["reference"].
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
