"""One small interface per integration: what the protocol asks of each.

An adapter implements one of these; configuration chooses which adapter
serves each integration. Every method takes the workflow's request, which
carries ids only: an adapter that needs the youth's details reads them from
the case record by ``episode_id``. Each method must be idempotent on the
request's ``idempotency_key`` (a repeat returns the first receipt), and its
errors must not carry personal data.

Adapters are coroutines, awaited on the worker's event loop, since they
wait on the network. The case record blocks (SQLite, psycopg), so the
activities and adapters call it in a thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from workflows.annual_counts import AnnualReport
from workflows.effects import ChronoEntry, EpisodeOpened, Notice, Receipt, StepRequest
from workflows.payload import Disclosure, MissingReport


class LawEnforcement(Protocol):
    """The law enforcement agency with jurisdiction (§4.C, §5.A)."""

    async def report_missing(self, request: StepRequest) -> Receipt:
        """Make the missing-person report; the reference is its number."""
        ...

    async def confirm_ncic_entry(self, request: StepRequest) -> Receipt:
        """Obtain the NCIC entry's NIC number, the receipt's reference."""
        ...

    async def report_abuse(self, request: StepRequest) -> Receipt:
        """Report known or suspected exploitation as child abuse."""
        ...

    async def report_return(self, request: StepRequest) -> Receipt:
        """Tell the agency the youth was located, so the report is closed."""
        ...


class Court(Protocol):
    """The juvenile court (§5.A)."""

    async def request_warrant(self, request: StepRequest) -> Receipt:
        """Ask for a warrant; the reference is its number."""
        ...

    async def recall_warrant(self, request: StepRequest) -> Receipt:
        """Ask that the warrant be recalled once the youth is located."""
        ...


class Ncmec(Protocol):
    """The National Center for Missing & Exploited Children (§5.A)."""

    async def report_missing(self, request: StepRequest) -> Receipt:
        """Report the youth missing; the reference is NCMEC's case number."""
        ...

    async def report_recovery(self, request: StepRequest) -> Receipt:
        """Tell NCMEC the youth was recovered, so its case is closed."""
        ...


class DistrictAttorney(Protocol):
    """The District Attorney, the second recipient of an abuse report."""

    async def report_abuse(self, request: StepRequest) -> Receipt:
        """Report known or suspected exploitation as child abuse."""
        ...


class Notifications(Protocol):
    """Messages to the parties: parents, guardians, attorneys, and so on."""

    async def notify_absence(self, request: StepRequest) -> Receipt:
        """Tell the party (``request.item``) that the youth is missing."""
        ...

    async def notify_return(self, request: StepRequest) -> Receipt:
        """Tell the party (``request.item``) that the youth was located."""
        ...


class StaffMessages(Protocol):
    """Messages to staff: the officer, the supervisor, the liaison."""

    async def send(self, notice: Notice) -> None:
        """Deliver a reminder, escalation, birthday or hand-off notice."""
        ...

    async def send_annual_report(self, report: AnnualReport, recipient_id: str) -> None:
        """Deliver the year's §4.D counts to the supervising officer."""
        ...


class CaseRecord(Protocol):
    """The durable record of each episode, where personal data is kept."""

    def open_episode(self, opened: EpisodeOpened) -> None:
        """Store the payload and settings that start an episode."""
        ...

    def report(self, episode_id: str) -> MissingReport | Disclosure:
        """The payload that opened the episode; raises UnknownEpisode."""
        ...

    def record_chrono(self, entry: ChronoEntry) -> None:
        """Add a chrono line; a final state closes the officer's task."""
        ...

    def open_task(self, request: StepRequest, opened_at: datetime) -> None:
        """Put a step (or item) on the officer's list until it is final."""
        ...

    def record_notice(self, notice: Notice) -> bool:
        """Store a staff notice; True while it has not been sent."""
        ...

    def mark_notice_sent(self, idempotency_key: str, sent_at: datetime) -> None:
        """Record that a notice went out."""
        ...

    def record_submission(
        self,
        request: StepRequest,
        integration: str,
        reference: str,
        body: dict[str, Any],
        submitted_at: datetime,
    ) -> str:
        """Store what went to an outside agency; returns the first reference."""
        ...


class Documentation(Protocol):
    """Where the missing documentation goes (§4.A/B, §5.B)."""

    async def document_missing(self, request: StepRequest) -> Receipt:
        """Record the reporting timeframe and the primary factors."""
        ...
