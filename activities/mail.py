"""E-mail to the parties and to staff, over the county's SMTP server.

A message says what its reader needs to act, and no more. A party learns
the case id, that the youth is missing or was located, and whom to call;
never where the youth was last seen or found, and no names. Staff learn
the case, the step and when it is due. No subject carries a name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog

from activities import report_record
from activities.case_record import SqlCaseRecord
from activities.clock import now
from activities.errors import NotDeliverable
from activities.outbox import Body
from activities.smtp import Mailer, compose
from workflows.annual_counts import CATEGORIES, AnnualReport
from workflows.effects import Method, Notice, StepRequest
from workflows.payload import Disclosure, MissingReport

log = structlog.get_logger()

PARTY_TEXT = {
    "youth_missing": (
        "Case {case_id}: youth reported missing",
        "The youth in probation case {case_id} has been reported missing.\n\n"
        "If you hear from the youth or learn where they may be, call 911 in "
        "an emergency, or contact the assigned probation officer:\n\n"
        "    {officer}\n",
    ),
    "youth_located": (
        "Case {case_id}: youth located",
        "The youth in probation case {case_id} has been located.\n\n"
        "For what you need to know, contact the assigned probation officer:\n\n"
        "    {officer}\n",
    ),
}
FOOTER = "\nThis message was sent automatically by the county probation department.\n"


class PartyMail:
    """Sends a party's message (``bodies.party_message``) by e-mail.

    The sender of ``PartyNotifications`` for the ``email`` adapter; a party
    whose first channel is not e-mail has no address to send to.
    """

    name = "email"

    def __init__(self, mailer: Mailer, clock: Callable[[], datetime] = now) -> None:
        self.mailer = mailer
        self.clock = clock

    async def send(self, request: StepRequest, integration: str, body: Body) -> None:
        """Mail the message to the party's address; no reference comes back.

        Raises:
            NotDeliverable: The party has no e-mail address.
        """
        what = f"{request.step} item {request.item}"
        channel = body["channel"]
        if channel["method"] != Method.EMAIL:
            raise NotDeliverable(
                f"{what}: the party has no e-mail address; the officer must "
                f"notify them by {channel['method']} and confirm the step"
            )
        subject, text = PARTY_TEXT[body["message"]]
        fields = {
            "case_id": body["case_id"],
            "officer": contact(body["contact_officer"]),
        }
        message = compose(
            self.mailer.config,
            channel["to"],
            subject.format(**fields),
            text.format(**fields) + FOOTER,
            request.idempotency_key,
            self.clock(),
        )
        await self.mailer.deliver(message, what)


def contact(officer: Body) -> str:
    """The officer's name and e-mail address, as a party reads them."""
    if officer.get("email"):
        return f"{officer['name']}, {officer['email']}"
    return f"{officer['name']}, through the probation department"


class StaffMail:
    """Staff notices by e-mail: reminders, escalations, birthday, hand-off.

    The address is the officer's, the supervisor's or the liaison's in the
    episode's payload.

    Args:
        record: Where the payload and the county's time zone are.
        mailer: The county's mail server.
    """

    def __init__(
        self,
        record: SqlCaseRecord,
        mailer: Mailer,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self.record = record
        self.mailer = mailer
        self.clock = clock

    async def send(self, notice: Notice) -> None:
        """Mail the notice to its recipient.

        Raises:
            NotDeliverable: The payload has no e-mail address for them.
            RefusedByRecipient: Their mail server refused it.
        """
        what = f"{notice.kind} to {notice.recipient} {notice.recipient_id}"
        report = await asyncio.to_thread(self.record.report, notice.episode_id)
        episode = await asyncio.to_thread(self.record.episode, notice.episode_id)
        address = staff_address(report, notice.recipient)
        if address is None:
            raise NotDeliverable(f"{what}: the payload has no e-mail address for them")
        zone = ZoneInfo((episode or {}).get("settings", {}).get("time_zone", "UTC"))
        subject, text = staff_text(notice, zone)
        message = compose(
            self.mailer.config,
            address,
            subject,
            text + FOOTER,
            notice.idempotency_key,
            self.clock(),
        )
        await self.mailer.deliver(message, what)
        log.info(
            "staff_notice_mailed",
            case_id=notice.case_id,
            episode_id=notice.episode_id,
            kind=notice.kind,
            recipient=notice.recipient,
            recipient_id=notice.recipient_id,
        )

    async def send_annual_report(self, report: AnnualReport, recipient_id: str) -> None:
        """Mail the year's counts to the supervising officer.

        Their address is the one the latest payload naming them as
        supervisor gives.

        Raises:
            NotDeliverable: No payload gives an e-mail address for them.
            RefusedByRecipient: Their mail server refused it.
        """
        what = f"annual report {report.year} to supervisor {recipient_id}"
        address = await asyncio.to_thread(supervisor_address, self.record, recipient_id)
        if address is None:
            raise NotDeliverable(f"{what}: no payload gives an e-mail address")
        subject = f"Annual State report (CSEC), {report.year}"
        lines = [
            f"The counts of unique youths for {report.year} ({report.time_zone}),",
            "for the report to the State (section 4.D of the CSEC policy):",
            "",
            *(
                f"  {key:>3}  {report.counts[key]:>5}  {text}"
                for key, text in CATEGORIES.items()
            ),
            "",
            f"Youths classified: {report.youths}.",
        ]
        message = compose(
            self.mailer.config,
            address,
            subject,
            "\n".join(lines) + "\n" + FOOTER,
            f"annual-report/{report.year}/{recipient_id}",
            self.clock(),
        )
        await self.mailer.deliver(message, what)


def supervisor_address(record: SqlCaseRecord, supervisor_id: str) -> str | None:
    """The supervisor's address in the latest payload that names them."""
    found = report_record.rows(
        record,
        "SELECT report_json FROM episodes WHERE supervisor_id = ?"
        " ORDER BY received_at DESC",
        supervisor_id,
    )
    for row in found:
        email = row["report"].get("supervisor", {}).get("email")
        if email:
            return str(email)
    return None


def staff_address(report: MissingReport | Disclosure, recipient: str) -> str | None:
    """The recipient's e-mail address in the payload, if it holds one."""
    if recipient == "officer":
        return report.officer.email
    if recipient == "supervisor":
        return report.supervisor.email
    dual_status = getattr(report, "dual_status", None)
    liaison = None if dual_status is None else dual_status.liaison
    return None if liaison is None else liaison.email


def staff_text(notice: Notice, zone: ZoneInfo) -> tuple[str, str]:
    """The subject and text of a notice, times in the county's zone."""
    case = f"case {notice.case_id}"
    what = "" if notice.step is None else notice.step.value
    if notice.item is not None:
        what += f" ({notice.item})"
    if notice.period is not None:
        what += f", period {notice.period}"
    due = "" if notice.due is None else local(notice.due, zone)
    if notice.kind == "reminder":
        return (
            f"Reminder: {what}, {case}",
            f"In {case}, {what} is due {due}. It is not done yet.\n",
        )
    if notice.kind == "escalation":
        return (
            f"Overdue: {what}, {case}",
            f"In {case}, {what} was due {due} and is not done. "
            f"The assigned officer's task is still open.\n",
        )
    if notice.kind == "birthday":
        return (
            f"Case {notice.case_id}: the missing youth has turned 18",
            f"The youth in {case} turned 18 while missing. Tell the court, "
            "law enforcement and NCMEC: a missing young adult is handled "
            "differently.\n",
        )
    return (
        f"Case {notice.case_id}: child welfare leads the runaway protocol",
        f"The youth in {case} is dual status, and child welfare is the lead "
        "agency for the runaway protocol. Probation confirms that it "
        "reported the absence.\n",
    )


def local(at: datetime, zone: ZoneInfo) -> str:
    """A time as staff read it: the county's clock, with its zone."""
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
