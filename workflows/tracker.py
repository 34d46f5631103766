"""The mechanism every step runs on: open, remind, escalate, settle.

``StepTracker`` reads the step table (workflows/steps.py) and never names a
step to decide how it behaves, except where PROTOCOL.md chains one step to
another. It decides; it never performs: each change is paired with the side
effects it asks for (tasks, adapter calls, messages, chrono entries), queued
in the record's outbox for the workflow to carry out. Every method takes
``now``, so the same code runs in a workflow, a test and the simulator.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from workflows import clocks
from workflows.actions import CompleteStep, RecordAttempt
from workflows.effects import Receipt, StepRequest
from workflows.payload import Disclosure, MissingReport
from workflows.records import (
    ITEM_PRECEDENCE,
    OPEN_STATES,
    Attempt,
    Escalation,
    ItemRecord,
    OpenOfficerTask,
    PerformStep,
    State,
    StepRecord,
    TrackedRecord,
)
from workflows.refusal import Refused
from workflows.settings import CountySettings, Mode
from workflows.side_effects import SideEffects
from workflows.steps import STEPS, StepName, mode_of

DONE_STATES = frozenset({State.DONE, State.DONE_LATE})
ABUSE_RECIPIENTS = ("law_enforcement", "district_attorney")


def opening(
    source: MissingReport | Disclosure,
    settings: CountySettings,
    now: datetime,
    prefix: str = "",
) -> dict[str, Any]:
    """The fields every record starts with, from a payload or a disclosure.

    Its id is the case id and the instant the officer learned of it (UTC):
    unique per case, and free of anything about the youth.
    """
    received = source.received_at.astimezone(UTC)
    return {
        "episode_id": f"{prefix}{source.case_id}-{received:%Y%m%dT%H%M%SZ}",
        "case_id": source.case_id,
        "officer_id": source.officer.id,
        "supervisor_id": source.supervisor.id,
        "received_at": source.received_at,
        "settings": settings,
        "started_at": now,
    }


def to_the_second(now: datetime) -> datetime:
    """How a clock's act is recorded: to the second, as people act.

    The clock itself compares with the exact time, so a wake-up a moment
    after its instant still acts; the record reads the instant's second.
    """
    return now.replace(microsecond=0)


class StepTracker:
    """Steps with clocks, items and receipts, over one record."""

    record: TrackedRecord

    # -- reading ---------------------------------------------------------

    @property
    def settings(self) -> CountySettings:
        return self.record.settings

    @property
    def ended(self) -> bool:
        return self.record.ended_at is not None

    def may_end(self) -> bool:
        """Whether the record ends once no step is open."""
        return True

    def overdue_steps(self) -> list[StepName]:
        return [s.name for s in self.record.steps.values() if s.state == State.OVERDUE]

    def escalated_steps(self) -> list[str]:
        """Steps the supervisor was told were overdue, in order, once each."""
        return list(dict.fromkeys(e.step.value for e in self.record.escalations))

    def dues(self) -> list[tuple[datetime, str]]:
        """Each open clock's due time and step."""
        return [(s.due, s.name.value) for s in self.record.steps.values() if s.is_open]

    def next_due(self) -> tuple[str, datetime] | None:
        """The open step that falls due first."""
        dues = self.dues()
        if not dues:
            return None
        due, name = min(dues)
        return name, due

    def wakeups(self) -> list[datetime]:
        """Every instant a step's clock will act."""
        times = []
        for step in self.record.steps.values():
            if not step.is_open:
                continue
            if step.remind_at is not None and not step.reminded:
                times.append(step.remind_at)
            if step.escalated_at is None:
                times.append(step.due)
        return times

    def next_wakeup(self) -> datetime | None:
        """The next instant a clock acts, or None when none will."""
        return None if self.ended else min(self.wakeups(), default=None)

    # -- clocks ----------------------------------------------------------

    def advance(self, now: datetime) -> None:
        """Act on every clock at or before ``now``, then end if all is final."""
        if self.ended:
            return
        for step in list(self.record.steps.values()):
            if step.is_open:
                self._step_clock(step, now)
        self.other_clocks(now)
        if self.may_end() and not any(s.is_open for s in self.record.steps.values()):
            self.end(now)

    def other_clocks(self, now: datetime) -> None:
        """Clocks that are not a step's own (monthly periods, birthdays)."""

    def end(self, now: datetime) -> None:
        self.record.ended_at = to_the_second(now)

    def _step_clock(self, step: StepRecord, now: datetime) -> None:
        # Recorded at the clock's own instant (or when the step opened, if
        # later), not at the moment the workflow woke for it.
        if step.remind_at is not None and not step.reminded and step.remind_at <= now:
            step.reminded = True
            if now < step.due:
                at = max(step.remind_at, step.opened_at)
                self.effects.notice(
                    "reminder", "officer", at, step=step.name, due=step.due
                )
        if step.due <= now and step.escalated_at is None:
            # At due an open step is overdue, and the supervisor is told once.
            at = max(step.due, step.opened_at)
            step.escalated_at = at
            step.state = State.OVERDUE
            for item in (step.items or {}).values():
                if item.state == State.PENDING:
                    item.state = State.OVERDUE
            self.record.escalations.append(Escalation(step=step.name, at=at))
            self.effects.notice(
                "escalation", "supervisor", at, step=step.name, due=step.due
            )
            self.effects.chrono(at, "step_overdue", step.name, state=State.OVERDUE)

    # -- opening ---------------------------------------------------------

    def open_step(
        self,
        name: StepName,
        trigger: datetime,
        now: datetime,
        items: dict[str, State] | None = None,
    ) -> None:
        """Open a step whose clock starts at ``trigger``.

        A step with items opens only if at least one item is to be acted on;
        one that opens already past due is escalated by the next ``advance``.
        """
        definition = STEPS[name]
        if items is not None and State.PENDING not in items.values():
            return
        due = clocks.due_time(definition.clock, trigger, self.settings)
        remind_at = clocks.reminder_time(definition.clock, due, self.settings)
        if remind_at is not None and remind_at < now:
            remind_at = None  # opened inside the lead: the task is the reminder
        mode = Mode.OFFICER
        if definition.done_by == "adapter":
            mode = mode_of(name, self.settings)
        step = StepRecord(
            name=name,
            mode=mode,
            trigger=trigger,
            opened_at=now,
            due=due,
            remind_at=remind_at,
        )
        if items is not None:
            step.items = {key: ItemRecord(state=state) for key, state in items.items()}
        self.record.steps[name] = step
        self.effects.chrono(
            now,
            "step_opened",
            name,
            state=State.PENDING,
            detail={
                "due": due.isoformat(),
                "mode": mode.value,
                "items": list(items or []),
            },
        )
        units: list[str | None] = [None]
        if items is not None:
            units = [key for key, state in items.items() if state == State.PENDING]
        for item in units:
            request = self.effects.request(name, item, due)
            if mode == Mode.AUTOMATIC:
                self.record.outbox.append(
                    PerformStep(request=request, requested_at=now)
                )
            else:
                self.record.outbox.append(OpenOfficerTask(request=request))

    def open_abuse_report(self, trigger: datetime, now: datetime) -> None:
        """§4.C: report to the LE agency with jurisdiction and the DA, both."""
        items = dict.fromkeys(ABUSE_RECIPIENTS, State.PENDING)
        self.open_step(StepName.ABUSE_REPORT, trigger, now, items)

    # -- completing ------------------------------------------------------

    def check_complete(self, action: CompleteStep, now: datetime) -> StepRecord:
        """Refuse a confirmation the protocol does not allow.

        Raises:
            Refused: naming the field and the rule.
        """
        self.check_not_ended()
        if STEPS[action.step].done_by == "own_action":
            raise Refused(
                f"step: {action.step} is done only by its own action "
                "(record_debrief or record_effort), not complete_step"
            )
        step = self.check_item(action.step, action.item)
        self.check_performed_at(action.performed_at)
        if action.step == StepName.LEAD_AGENCY_CONFIRMATION and not (
            action.reference and action.ncmec_reference
        ):
            raise Refused(
                "reference: lead_agency_confirmation needs the lead agency's LE "
                "report number (reference) and NCMEC case number (ncmec_reference)"
            )
        return step

    def complete(self, action: CompleteStep, now: datetime) -> StepRecord:
        """The officer confirms a step or item, judged on when performed."""
        step = self.check_complete(action, now)
        receipt = Receipt(
            method=action.method,
            reference=action.reference,
            ncmec_reference=action.ncmec_reference,
            performed_by=action.by or self.record.officer_id,
        )
        self.finish(step, action.item, action.performed_at or now, receipt, now)
        self.advance(now)
        return step

    def complete_automatically(
        self, request: StepRequest, receipt: Receipt, now: datetime
    ) -> None:
        """An adapter finished: done now, unless already settled by hand."""
        step = self.record.steps.get(request.step)
        if step is None or self.ended:
            return
        state = step.state
        if request.item is not None:
            item = (step.items or {}).get(request.item)
            state = item.state if item else State.NOT_APPLICABLE
        if state in OPEN_STATES:
            self.finish(step, request.item, now, receipt, now)
        self.advance(now)

    def check_attempt(self, action: RecordAttempt, now: datetime) -> StepRecord:
        self.check_not_ended()
        step = self.check_item(action.step, action.item)
        self.check_performed_at(action.performed_at)
        return step

    def record_attempt(self, action: RecordAttempt, now: datetime) -> StepRecord:
        """An attempt is kept beside the step and never completes it."""
        step = self.check_attempt(action, now)
        attempt = Attempt(
            method=action.method,
            item=action.item,
            notes=action.notes,
            performed_at=action.performed_at or now,
            recorded_at=now,
            by=action.by or self.record.officer_id,
        )
        step.attempts.append(attempt)
        self.effects.chrono(
            now,
            "attempt_recorded",
            step.name,
            action.item,
            step.state,
            detail=attempt.model_dump(mode="json"),
        )
        self.advance(now)
        return step

    def finish(
        self,
        step: StepRecord,
        item: str | None,
        performed_at: datetime,
        receipt: Receipt,
        now: datetime,
    ) -> None:
        """Mark a step or item done, on time or late, and follow its chain."""
        # On time means performed at or before due, whenever it is confirmed.
        state = State.DONE if performed_at <= step.due else State.DONE_LATE
        if step.items is None:
            step.state, step.done_at, step.receipt = state, performed_at, receipt
        else:
            assert item is not None
            step.items[item] = ItemRecord(
                state=state, done_at=performed_at, receipt=receipt
            )
            self._refresh(step)
        self.effects.chrono(
            now,
            "step_done",
            step.name,
            item,
            state,
            detail={
                "performed_at": performed_at.isoformat(),
                **receipt.model_dump(mode="json"),
            },
        )
        if step.state in DONE_STATES:
            self.after_done(step, now)

    def after_done(self, step: StepRecord, now: datetime) -> None:
        """Open what a done step leads to."""
        if step.name == StepName.ABUSE_REPORT:
            # PC 11166: a phone report is followed by a written one, due 36 h
            # after the information was received, not after the call.
            phoned = {
                key: State.PENDING
                for key, item in (step.items or {}).items()
                if item.receipt is not None and item.receipt.method == "phone"
            }
            self.open_step(StepName.ABUSE_WRITTEN_REPORT, step.trigger, now, phoned)

    def settle(
        self, at: datetime, now: datetime, applies: Callable[[StepRecord], bool]
    ) -> None:
        """Open steps end as not_required up to their due, missed after."""
        for step in list(self.record.steps.values()):
            if not step.is_open or not applies(step):
                continue
            # At the very instant of its due the event comes first: not
            # yet overdue, so not required.
            settled = State.NOT_REQUIRED if at <= step.due else State.MISSED
            if step.items is None:
                step.state = settled
            else:
                for key, item in step.items.items():
                    if item.state in OPEN_STATES:
                        step.items[key] = ItemRecord(state=settled)
                self._refresh(step)
            self.effects.chrono(now, "step_settled", step.name, state=step.state)

    def _refresh(self, step: StepRecord) -> None:
        """A step with items is open while any item is; else its items decide."""
        items = [
            item
            for item in (step.items or {}).values()
            if item.state != State.NOT_APPLICABLE
        ]
        if any(item.state in OPEN_STATES for item in items):
            return
        held = {item.state for item in items}
        step.state = next(state for state in ITEM_PRECEDENCE if state in held)
        step.done_at = max(
            (item.done_at for item in items if item.done_at is not None),
            default=None,
        )

    # -- checks ----------------------------------------------------------

    def check_not_ended(self) -> None:
        if self.ended:
            raise Refused("episode: has ended; no action is taken on it")

    def check_performed_at(
        self, at: datetime | None, field: str = "performed_at"
    ) -> None:
        if at is not None and at < self.record.received_at:
            raise Refused(f"{field}: must not be before received_at")

    def check_item(self, name: StepName, item: str | None) -> StepRecord:
        step = self.record.steps.get(name)
        if step is None:
            raise Refused(f"step: {name} has not opened in this episode")
        if step.items is None:
            if item is not None:
                raise Refused(f"item: {name} has no items")
            if not step.is_open:
                raise Refused(f"step: {name} is already {step.state}")
            return step
        known = ", ".join(step.items)
        if item is None:
            raise Refused(f"item: required for {name} (one of {known})")
        if item not in step.items:
            raise Refused(f"item: not an item of {name} (one of {known})")
        state = step.items[item].state
        if state == State.NOT_APPLICABLE:
            raise Refused(f"item: {item} is marked do not notify")
        if state not in OPEN_STATES:
            raise Refused(f"item: {item} of {name} is already {state}")
        return step

    @property
    def effects(self) -> SideEffects:
        """Where this tracker writes the side effects it decides."""
        return SideEffects(self.record)

    def record_refused_signal(self, signal: str, rule: str, now: datetime) -> None:
        """A signal cannot be refused to its sender: the chrono keeps it."""
        self.effects.chrono(
            now, "signal_refused", detail={"signal": signal, "rule": rule}
        )
