"""The default adapters of the outside agencies: LE, court, NCMEC, DA.

Each records in the case record what the agency needs (``bodies``) and
returns an electronic receipt. The references they return stand in for the
agency's own numbers (report, NIC, warrant, NCMEC case).
"""

from __future__ import annotations

from activities import bodies
from activities.outbox import Outbox
from workflows.effects import Receipt, StepRequest
from workflows.steps import StepName


def _written(request: StepRequest) -> bool:
    return request.step == StepName.ABUSE_WRITTEN_REPORT


class RecordedLawEnforcement(Outbox):
    """The law enforcement agency with jurisdiction, by the case record."""

    integration = "law_enforcement"

    def report_missing(self, request: StepRequest) -> Receipt:
        """Record the missing-person report; the reference is its number."""
        body = bodies.law_enforcement_report(self.missing_report(request))
        return self.submit(request, "LE", body)

    def confirm_ncic_entry(self, request: StepRequest) -> Receipt:
        """Record the request for the NIC number; the reference stands for it."""
        body = {
            "case_id": request.case_id,
            "law_enforcement_case_number": self.reference_of(
                request.episode_id, StepName.LAW_ENFORCEMENT_REPORT
            ),
        }
        return self.submit(request, "NIC", body)

    def report_abuse(self, request: StepRequest) -> Receipt:
        """Record the child abuse report to law enforcement (PC 11166)."""
        body = bodies.abuse_report(self.report(request), _written(request))
        return self.submit(request, "LE-ABUSE", body)

    def report_return(self, request: StepRequest) -> Receipt:
        """Record that the agency was told the youth was located."""
        reference = self.reference_of(
            request.episode_id, StepName.LAW_ENFORCEMENT_REPORT
        )
        body = bodies.closing_notice(self.missing_report(request), reference)
        return self.submit(request, "LE-RETURN", body)


class RecordedCourt(Outbox):
    """The juvenile court, by the case record."""

    integration = "court"

    def request_warrant(self, request: StepRequest) -> Receipt:
        """Record the warrant request; the reference stands for its number."""
        body = bodies.warrant_request(self.missing_report(request))
        return self.submit(request, "WARRANT", body)

    def recall_warrant(self, request: StepRequest) -> Receipt:
        """Record the request that the warrant be recalled."""
        reference = self.reference_of(request.episode_id, StepName.WARRANT_REQUEST)
        body = bodies.closing_notice(self.missing_report(request), reference)
        return self.submit(request, "RECALL", body)


class RecordedNcmec(Outbox):
    """NCMEC, by the case record."""

    integration = "ncmec"

    def report_missing(self, request: StepRequest) -> Receipt:
        """Record the NCMEC report; the reference stands for its case number."""
        # Limitation: at the start this runs beside the LE report, so the
        # police numbers are often not known yet, and no step sends them on.
        report = self.missing_report(request)
        references = {
            step.value: self.reference_of(request.episode_id, step)
            for step in (
                StepName.LAW_ENFORCEMENT_REPORT,
                StepName.NCIC_ENTRY_CONFIRMED,
            )
        }
        body = bodies.ncmec_report(report, references, self._earlier(request))
        return self.submit(request, "NCMEC", body)

    def report_recovery(self, request: StepRequest) -> Receipt:
        """Record that NCMEC was told the youth was recovered."""
        reference = self.reference_of(request.episode_id, StepName.NCMEC_REPORT)
        body = bodies.closing_notice(self.missing_report(request), reference)
        return self.submit(request, "NCMEC-RECOVERY", body)

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


class RecordedDistrictAttorney(Outbox):
    """The District Attorney, by the case record."""

    integration = "district_attorney"

    def report_abuse(self, request: StepRequest) -> Receipt:
        """Record the child abuse report to the District Attorney (§4.C)."""
        body = bodies.abuse_report(self.report(request), _written(request))
        return self.submit(request, "DA", body)
