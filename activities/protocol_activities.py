"""The activities: every side effect an episode asks for (workflows/effects.py).

Each activity is a method of ``ProtocolActivities``, bound to the adapters
that configuration chose. Requests carry ids only; an adapter reads what it
needs from the case record, so no personal data travels in an activity's
input or result. The case record blocks (SQLite, psycopg), so each call to
it runs in a thread and leaves the worker's event loop free; the adapters
are coroutines.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from temporalio import activity

from activities.clock import now
from activities.errors import NotDeliverable
from activities.interfaces import (
    CaseRecord,
    Court,
    DistrictAttorney,
    Documentation,
    LawEnforcement,
    Ncmec,
    Notifications,
    StaffMessages,
)
from activities.metrics import (
    ADAPTER_FAILURES,
    ESCALATIONS,
    REMINDERS,
    STEPS_DONE,
    STEPS_OVERDUE,
    count,
)
from workflows import effects
from workflows.effects import ChronoEntry, EpisodeOpened, Notice, Receipt, StepRequest
from workflows.payload import AGENCY_ITEMS
from workflows.steps import STEPS, StepName

log = structlog.get_logger()

# An item that is not an agency's name is a party id.
PARTY = "party"

Perform = Callable[[StepRequest], Awaitable[Receipt]]
# The product's counters (activities/metrics.py) each kind of event adds to.
NOTICE_COUNTERS = {"escalation": ESCALATIONS, "reminder": REMINDERS}
CHRONO_COUNTERS = {"step_overdue": STEPS_OVERDUE, "step_done": STEPS_DONE}


def failure(error: BaseException) -> str:
    """An error's kind for a label: its ``ApplicationError`` type, or class."""
    return str(getattr(error, "type", None) or type(error).__name__)


@dataclass(frozen=True)
class Adapters:
    """The adapter chosen for each integration."""

    case_record: CaseRecord
    documentation: Documentation
    law_enforcement: LawEnforcement
    court: Court
    ncmec: Ncmec
    district_attorney: DistrictAttorney
    notifications: Notifications
    staff_messages: StaffMessages


class ProtocolActivities:
    """The five activities of the contract, bound to their adapters.

    Args:
        adapters: The adapter of each integration.
        clock: When an activity acts; the Temporal server's clock.
    """

    def __init__(self, adapters: Adapters, clock: Callable[[], datetime] = now) -> None:
        self.adapters = adapters
        self.clock = clock
        self.routes = routes(adapters)

    @activity.defn(name=effects.OPEN_CASE_RECORD)
    async def open_case_record(self, opened: EpisodeOpened) -> None:
        """Store the payload that starts an episode in the case record."""
        await asyncio.to_thread(self.adapters.case_record.open_episode, opened)
        log.info(
            "case_record_opened",
            case_id=opened.report.case_id,
            episode_id=opened.episode_id,
        )

    @activity.defn(name=effects.PERFORM_STEP)
    async def perform_step(self, request: StepRequest) -> Receipt:
        """Do an automatic step (or item) through its integration's adapter.

        Raises:
            NotDeliverable: No integration does this step for this item.
            UnknownEpisode: The episode is not in the case record.
        """
        perform = self.route(request)
        try:
            return await perform(request)
        except Exception as error:
            count(ADAPTER_FAILURES, step=request.step.value, error=failure(error))
            raise

    @activity.defn(name=effects.OPEN_OFFICER_TASK)
    async def open_officer_task(self, request: StepRequest) -> None:
        """Put a step (or item) on the officer's list of tasks."""
        opened_at = self.clock()
        await asyncio.to_thread(self.adapters.case_record.open_task, request, opened_at)
        log.info(
            "task_opened",
            case_id=request.case_id,
            episode_id=request.episode_id,
            step=request.step.value,
            item=request.item,
            officer_id=request.officer_id,
            due=request.due.isoformat(),
        )

    @activity.defn(name=effects.SEND_NOTICE)
    async def send_notice(self, notice: Notice) -> None:
        """Record a staff notice, then send it unless it was sent already.

        Recorded first and marked sent after: a retry after a failed send
        sends it, one after the mark does not. Only a crash between the two
        sends it twice; a reminder twice beats an escalation never.
        """
        record = self.adapters.case_record
        step = "" if notice.step is None else notice.step.value
        if await asyncio.to_thread(record.record_notice, notice):
            try:
                await self.adapters.staff_messages.send(notice)
            except Exception as error:
                count(ADAPTER_FAILURES, step=step, error=failure(error))
                raise
            sent_at = self.clock()
            await asyncio.to_thread(
                record.mark_notice_sent, notice.idempotency_key, sent_at
            )
            if notice.kind in NOTICE_COUNTERS:
                count(NOTICE_COUNTERS[notice.kind], step=step)

    @activity.defn(name=effects.RECORD_CHRONO)
    async def record_chrono(self, entry: ChronoEntry) -> None:
        """Add a line to the chrono; a final state closes the officer's task."""
        await asyncio.to_thread(self.adapters.case_record.record_chrono, entry)
        if entry.step is not None and entry.event in CHRONO_COUNTERS:
            labels = {"step": entry.step.value}
            if entry.event == "step_done":
                labels["state"] = str(entry.state)
            count(CHRONO_COUNTERS[entry.event], **labels)
        log.info(
            "chrono_recorded",
            case_id=entry.case_id,
            episode_id=entry.episode_id,
            chrono_event=entry.event,
            step=None if entry.step is None else entry.step.value,
            item=entry.item,
            state=entry.state,
        )

    def route(self, request: StepRequest) -> Perform:
        """The adapter method that does this step for this item.

        Raises:
            NotDeliverable: The step has no automatic integration, or the
                item is missing, unexpected, or not a recipient of the step.
        """
        item = request.item
        kind = None if item is None else (item if item in AGENCY_ITEMS else PARTY)
        perform = self.routes.get((request.step, kind))
        if perform is not None:
            return perform
        if not any(step == request.step for step, _ in self.routes):
            raise NotDeliverable(
                f"{request.step}: no integration does this step automatically"
            )
        if item is None:
            raise NotDeliverable(f"{request.step}: an item is required")
        if not STEPS[request.step].has_items:
            raise NotDeliverable(f"{request.step}: takes no item, got {item}")
        raise NotDeliverable(f"{request.step} item {item}: not a recipient of it")


def routes(adapters: Adapters) -> dict[tuple[StepName, str | None], Perform]:
    """Which adapter method does each step, by the kind of item it acts on.

    A step without items goes to the integration named in the step table.
    The agencies in return notifications and abuse reports go to their own
    integration, and a party id to the notifications.
    """
    law_enforcement = adapters.law_enforcement
    court = adapters.court
    ncmec = adapters.ncmec
    abuse = {
        "law_enforcement": law_enforcement.report_abuse,
        "district_attorney": adapters.district_attorney.report_abuse,
    }
    return {
        (StepName.LAW_ENFORCEMENT_REPORT, None): law_enforcement.report_missing,
        (StepName.NCIC_ENTRY_CONFIRMED, None): law_enforcement.confirm_ncic_entry,
        (StepName.WARRANT_REQUEST, None): court.request_warrant,
        (StepName.NCMEC_REPORT, None): ncmec.report_missing,
        (StepName.MISSING_DOCUMENTATION, None): (
            adapters.documentation.document_missing
        ),
        (StepName.PARTY_NOTIFICATIONS, PARTY): adapters.notifications.notify_absence,
        (StepName.RETURN_NOTIFICATIONS, PARTY): adapters.notifications.notify_return,
        (StepName.RETURN_NOTIFICATIONS, "law_enforcement"): (
            law_enforcement.report_return
        ),
        (StepName.RETURN_NOTIFICATIONS, "court"): court.recall_warrant,
        (StepName.RETURN_NOTIFICATIONS, "ncmec"): ncmec.report_recovery,
        **{(StepName.ABUSE_REPORT, item): call for item, call in abuse.items()},
        **{(StepName.ABUSE_WRITTEN_REPORT, item): call for item, call in abuse.items()},
    }
