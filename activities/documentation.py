"""The adapter of the missing documentation (§4.A/B, §5.B).

The documentation records the reporting timeframe and the primary factors
known at the start. It belongs in CWS/CMS for a youth in foster care and in
the CSEC chrono of the case record otherwise; both land in the chrono as a
``missing_documentation`` entry that says which. With a sender (the case
system's webhook) the documentation is sent there too.
"""

from __future__ import annotations

import asyncio

from activities import bodies
from activities.outbox import Outbox
from workflows.effects import ChronoEntry, Receipt, StepRequest
from workflows.steps import StepName

CWS_CMS = "CWS/CMS"
CSEC_CHRONO = "CSEC chrono"


class DocumentationOutbox(Outbox):
    """Missing documentation written to the case record's chrono."""

    integration = "case_record"

    async def document_missing(self, request: StepRequest) -> Receipt:
        """Write the documentation to the chrono and record the submission."""
        report = await self.missing_report(request)
        system = CWS_CMS if report.in_foster_care else CSEC_CHRONO
        body = bodies.missing_documentation(report, system, request.due)
        # Limitation: CWS/CMS is the State's system and is not reached from
        # here; the entry says it belongs there, and the officer copies it.
        entry = ChronoEntry(
            case_id=request.case_id,
            episode_id=request.episode_id,
            at=self.clock(),
            event=StepName.MISSING_DOCUMENTATION.value,
            step=StepName.MISSING_DOCUMENTATION,
            detail=body,
            # Its own key: the workflow's chrono entry for this step's
            # state may be built from the same request key.
            idempotency_key=f"{request.idempotency_key}/documentation",
        )
        await asyncio.to_thread(self.record.record_chrono, entry)
        return await self.submit(request, "DOC", body)
