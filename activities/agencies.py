"""The adapters of the outside agencies: LE, court, NCMEC, DA.

Each builds what the agency needs (``bodies``) and submits it through its
outbox: recorded only, or sent by a webhook too. An electronic receipt's
reference is the agency's own number (report, NIC, warrant, NCMEC case)
when its endpoint answers with one; a recorded submission's stands in for it.
"""

from __future__ import annotations

import asyncio

from activities import bodies
from activities.outbox import Outbox
from workflows.effects import Receipt, StepRequest
from workflows.steps import StepName


def _written(request: StepRequest) -> bool:
    return request.step == StepName.ABUSE_WRITTEN_REPORT


class LawEnforcementOutbox(Outbox):
    """The law enforcement agency with jurisdiction."""

    integration = "law_enforcement"

    async def report_missing(self, request: StepRequest) -> Receipt:
        """Make the missing-person report; the reference is its number."""
        body = bodies.law_enforcement_report(await self.missing_report(request))
        return await self.submit(request, "LE", body)

    async def confirm_ncic_entry(self, request: StepRequest) -> Receipt:
        """Ask for the NCIC entry's NIC number, the reference."""
        body = {
            "case_id": request.case_id,
            "law_enforcement_case_number": await self.reference_of(
                request.episode_id, StepName.LAW_ENFORCEMENT_REPORT
            ),
        }
        return await self.submit(request, "NIC", body)

    async def report_abuse(self, request: StepRequest) -> Receipt:
        """Report the abuse to law enforcement (PC 11166)."""
        body = bodies.abuse_report(await self.report(request), _written(request))
        return await self.submit(request, "LE-ABUSE", body)

    async def report_return(self, request: StepRequest) -> Receipt:
        """Tell the agency the youth was located, citing its report."""
        reference = await self.reference_of(
            request.episode_id, StepName.LAW_ENFORCEMENT_REPORT
        )
        body = bodies.closing_notice(await self.missing_report(request), reference)
        return await self.submit(request, "LE-RETURN", body)


class CourtOutbox(Outbox):
    """The juvenile court."""

    integration = "court"

    async def request_warrant(self, request: StepRequest) -> Receipt:
        """Request a warrant; the reference is its number."""
        body = bodies.warrant_request(await self.missing_report(request))
        return await self.submit(request, "WARRANT", body)

    async def recall_warrant(self, request: StepRequest) -> Receipt:
        """Ask that the warrant be recalled."""
        reference = await self.reference_of(
            request.episode_id, StepName.WARRANT_REQUEST
        )
        body = bodies.closing_notice(await self.missing_report(request), reference)
        return await self.submit(request, "RECALL", body)


class NcmecOutbox(Outbox):
    """NCMEC."""

    integration = "ncmec"

    async def report_missing(self, request: StepRequest) -> Receipt:
        """Report to NCMEC; the reference is its case number."""
        # Limitation: at the start this runs beside the LE report, so the
        # police numbers are often not known yet, and no step sends them on.
        report = await self.missing_report(request)
        references = {
            step.value: await self.reference_of(request.episode_id, step)
            for step in (
                StepName.LAW_ENFORCEMENT_REPORT,
                StepName.NCIC_ENTRY_CONFIRMED,
            )
        }
        body = bodies.ncmec_report(
            report, references, await asyncio.to_thread(self._earlier, request)
        )
        return await self.submit(request, "NCMEC", body)

    async def report_recovery(self, request: StepRequest) -> Receipt:
        """Tell NCMEC the youth was recovered, citing its case."""
        reference = await self.reference_of(request.episode_id, StepName.NCMEC_REPORT)
        body = bodies.closing_notice(await self.missing_report(request), reference)
        return await self.submit(request, "NCMEC-RECOVERY", body)

    def _earlier(self, request: StepRequest) -> list[bodies.Body]:
        """Earlier episodes of the case, with where the youth was found.

        The place comes from the earlier episode's ``located`` chrono entry
        (``detail["place"]``), when the workflow recorded one.
        """
        earlier = []
        for episode in self.record.episodes(request.case_id):
            if episode["episode_id"] == request.episode_id:
                continue
            located = [
                row["detail"].get("place")
                for row in self.record.chrono(episode["episode_id"])
                if row["event"] == "located"
            ]
            earlier.append(
                {
                    "received_at": episode["received_at"],
                    "ended_at": episode["ended_at"],
                    "found_at_place": located[-1] if located else None,
                }
            )
        return earlier


class DistrictAttorneyOutbox(Outbox):
    """The District Attorney."""

    integration = "district_attorney"

    async def report_abuse(self, request: StepRequest) -> Receipt:
        """Report the abuse to the District Attorney (§4.C)."""
        body = bodies.abuse_report(await self.report(request), _written(request))
        return await self.submit(request, "DA", body)
