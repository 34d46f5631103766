"""The adapters of messages: to the parties, and to staff.

A party is reached by the first channel it has, in this order: e-mail
(``email``: written, and it arrives at once), phone (``phone``: an automated
call or text), postal address (``letter``). A party with none of them cannot
be notified automatically, and a party marked *do not notify* never is: both
are failures the workflow must see, not receipts. The message is recorded,
or sent by its outbox's sender (``mail.PartyMail``, a webhook) and recorded.
"""

from __future__ import annotations

import structlog

from activities import bodies
from activities.errors import NotDeliverable
from activities.outbox import Outbox
from workflows.annual_counts import AnnualReport
from workflows.effects import Method, Notice, Receipt, StepRequest
from workflows.payload import MissingReport, Party

log = structlog.get_logger()


def _party(report: MissingReport, request: StepRequest) -> Party:
    """The party the request names, if it may be told anything."""
    for party in report.parties:
        if party.id == request.item:
            if party.do_not_notify:
                # A parent suspected of exploiting the youth must never learn
                # where the case stands, whatever the workflow asks.
                raise NotDeliverable(
                    f"{request.step} item {party.id}: the party is marked do not notify"
                )
            return party
    raise NotDeliverable(f"{request.step} item {request.item}: no such party")


def _channel(party: Party, step: str) -> tuple[Method, str]:
    """How to reach the party, and the address on that channel."""
    if party.email:
        return Method.EMAIL, party.email
    if party.phone:
        return Method.PHONE, party.phone
    if party.address:
        return Method.LETTER, party.address
    raise NotDeliverable(
        f"{step} item {party.id}: the party has no email, phone or address; "
        "the officer must notify them and confirm the step"
    )


class PartyNotifications(Outbox):
    """Messages to the parties."""

    integration = "notifications"

    async def notify_absence(self, request: StepRequest) -> Receipt:
        """Tell the party that the youth is missing."""
        return await self._notify(request, returned=False)

    async def notify_return(self, request: StepRequest) -> Receipt:
        """Tell the party that the youth was located."""
        return await self._notify(request, returned=True)

    async def _notify(self, request: StepRequest, returned: bool) -> Receipt:
        report = await self.missing_report(request)
        party = _party(report, request)
        method, address = _channel(party, request.step)
        body = bodies.party_message(report, party, returned)
        body["channel"] = {"method": method.value, "to": address}
        return await self.submit(request, "MSG", body, method)


class LoggedStaffMessages:
    """Staff notices, delivered as log events.

    The activity has already stored the notice in the case record's
    ``notices`` table; this adapter only announces it.
    """

    async def send(self, notice: Notice) -> None:
        """Log the notice by ids, kind and due time, never by name."""
        # Limitation: no e-mail is sent; staff see notices in the record and
        # the log unless the ``email`` adapter is configured.
        log.info(
            "staff_notice",
            case_id=notice.case_id,
            episode_id=notice.episode_id,
            kind=notice.kind,
            recipient=notice.recipient,
            recipient_id=notice.recipient_id,
            step=None if notice.step is None else notice.step.value,
            item=notice.item,
            period=notice.period,
            due=None if notice.due is None else notice.due.isoformat(),
        )

    async def send_annual_report(self, report: AnnualReport, recipient_id: str) -> None:
        """Log the year's counts for the supervising officer: no personal data."""
        log.info(
            "annual_report_ready",
            year=report.year,
            recipient_id=recipient_id,
            youths=report.youths,
            counts=report.counts,
        )
