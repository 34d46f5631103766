"""The protocol's rules over one episode, free of Temporal.

``Episode`` decides; it never performs. Each change it makes to the record is
paired with the side effects it asks for (tasks, adapter calls, messages,
chrono entries), queued in the record's outbox for the workflow to carry out.
Every method takes ``now``, so the same code runs in the workflow, in tests
and in the simulator.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from workflows import clocks
from workflows.actions import (
    Close,
    CompleteStep,
    Located,
    RecordAttempt,
    RecordDebrief,
    RecordEffort,
)
from workflows.categories import annual_categories
from workflows.effects import (
    EPISODE_ENDED,
    ChronoEntry,
    Notice,
    NoticeKind,
    Receipt,
    StepRequest,
)
from workflows.payload import CsecStatus, MissingReport
from workflows.records import (
    ITEM_PRECEDENCE,
    Attempt,
    Closure,
    DebriefRecord,
    Effort,
    EpisodeRecord,
    Escalation,
    ItemRecord,
    LocatedRecord,
    LocatePeriod,
    OpenOfficerTask,
    PerformStep,
    Phase,
    SendNotice,
    State,
    StepRecord,
    WriteChrono,
)
from workflows.refusal import Refused
from workflows.settings import CountySettings, Mode
from workflows.steps import (
    ABUSE_STEPS,
    STEPS,
    TWENTY_FOUR_HOUR_REPORTS,
    StepName,
    mode_of,
)

DONE_STATES = frozenset({State.DONE, State.DONE_LATE})
ABUSE_RECIPIENTS = ("law_enforcement", "district_attorney")
# Which missing report tells each agency of the absence, so that it is told
# of the return (§5.A-C).
AGENCY_TOLD_BY = {
    "law_enforcement": StepName.LAW_ENFORCEMENT_REPORT,
    "court": StepName.WARRANT_REQUEST,
    "ncmec": StepName.NCMEC_REPORT,
}


def episode_id_for(report: MissingReport) -> str:
    """Case id and the instant the information was received (UTC)."""
    received = report.received_at.astimezone(UTC)
    return f"{report.case_id}-{received:%Y%m%dT%H%M%SZ}"


class Episode:
    """One missing episode's rules, applied to its record."""

    def __init__(self, record: EpisodeRecord) -> None:
        self.record = record

    @classmethod
    def open(
        cls, report: MissingReport, settings: CountySettings, now: datetime
    ) -> Episode:
        """Start an episode from the case system's payload."""
        record = EpisodeRecord(
            episode_id=episode_id_for(report),
            report=report,
            settings=settings,
            started_at=now,
        )
        episode = cls(record)
        episode._begin(now)
        return episode

    # -- reading ---------------------------------------------------------

    @property
    def report(self) -> MissingReport:
        return self.record.report

    @property
    def settings(self) -> CountySettings:
        return self.record.settings

    @property
    def ended(self) -> bool:
        return self.record.ended_at is not None

    @property
    def still_missing(self) -> bool:
        return self.record.located is None and self.record.closure is None

    @property
    def phase(self) -> Phase:
        record = self.record
        if record.ended_at is not None:
            return Phase.CLOSED
        if self.report.handed_off:
            return Phase.HANDED_OFF
        if not self.still_missing:
            return Phase.RETURNED
        reporting = any(
            record.steps[name].state not in DONE_STATES
            for name in TWENTY_FOUR_HOUR_REPORTS
            if name in record.steps
        )
        return Phase.REPORTING if reporting else Phase.SEARCHING

    def overdue_steps(self) -> list[StepName]:
        return [
            step.name
            for step in self.record.steps.values()
            if step.state == State.OVERDUE
        ]

    def escalated_steps(self) -> list[str]:
        """Steps the supervisor was told were overdue, in order, once each."""
        names = dict.fromkeys(e.step.value for e in self.record.escalations)
        return list(names)

    def categories(self) -> list[str]:
        debrief = self.record.debrief
        exploited = debrief is not None and debrief.exploited_while_absent == "yes"
        return annual_categories(self.report, exploited)

    def next_due(self) -> tuple[str, datetime] | None:
        """The open step (or locate period) that falls due first."""
        dues: list[tuple[datetime, str]] = [
            (step.due, step.name.value)
            for step in self.record.steps.values()
            if step.is_open
        ]
        dues += [
            (period.ends, StepName.LOCATE_EFFORT.value)
            for period in self.open_periods()
        ]
        if not dues:
            return None
        due, name = min(dues)
        return name, due

    def open_periods(self) -> list[LocatePeriod]:
        if not self.still_missing or self.ended:
            return []
        return [period for period in self.record.periods if not period.judged]

    def next_wakeup(self) -> datetime | None:
        """The next instant a clock acts: a reminder, a due, a period end."""
        if self.ended:
            return None
        times: list[datetime] = []
        for step in self.record.steps.values():
            if not step.is_open:
                continue
            if step.remind_at is not None and not step.reminded:
                times.append(step.remind_at)
            if step.escalated_at is None:
                times.append(step.due)
        for period in self.open_periods():
            if not period.reminded:
                times.append(period.remind_at)
            times.append(period.ends)
        if self.record.birthday_at is not None and not self.record.birthday_noticed:
            times.append(self.record.birthday_at)
        return min(times, default=None)

    # -- clocks ----------------------------------------------------------

    def advance(self, now: datetime) -> None:
        """Act on every clock at or before ``now``, then end if all is final."""
        if self.ended:
            return
        for step in list(self.record.steps.values()):
            if step.is_open:
                self._step_clock(step, now)
        self._period_clocks(now)
        self._birthday_clock(now)
        self._end_if_final(now)

    def _step_clock(self, step: StepRecord, now: datetime) -> None:
        if step.remind_at is not None and not step.reminded and step.remind_at <= now:
            step.reminded = True
            if now < step.due:
                self._notice("reminder", "officer", now, step=step.name, due=step.due)
        if step.due <= now and step.escalated_at is None:
            # At due an open step is overdue, and the supervisor is told once.
            step.escalated_at = now
            step.state = State.OVERDUE
            for item in (step.items or {}).values():
                if item.state == State.PENDING:
                    item.state = State.OVERDUE
            self.record.escalations.append(Escalation(step=step.name, at=now))
            self._notice("escalation", "supervisor", now, step=step.name, due=step.due)
            self._chrono(now, "step_overdue", step.name, state=State.OVERDUE)

    def _period_clocks(self, now: datetime) -> None:
        for period in self.open_periods():
            if not period.reminded and period.remind_at <= now:
                period.reminded = True
                if now < period.ends and not self._effort_in(period):
                    self._notice(
                        "reminder", "officer", now, step=StepName.LOCATE_EFFORT,
                        period=period.number, due=period.ends,
                    )
            if period.ends <= now:
                self._judge(period, now)

    def _judge(self, period: LocatePeriod, now: datetime) -> None:
        # Judged at its end: compliant with at least one effort performed in
        # [starts, ends). The next period opens from this one's end.
        period.judged = True
        period.compliant = self._effort_in(period)
        item = f"period-{period.number}"
        if not period.compliant:
            period.escalated_at = now
            self.record.escalations.append(
                Escalation(step=StepName.LOCATE_EFFORT, period=period.number, at=now)
            )
            self._notice(
                "escalation", "supervisor", now, step=StepName.LOCATE_EFFORT,
                period=period.number, due=period.ends,
            )
        state = State.DONE if period.compliant else State.MISSED
        self._chrono(now, "locate_period_judged", StepName.LOCATE_EFFORT, item, state)
        self._open_period(period.number + 1, period.ends, now)

    def _birthday_clock(self, now: datetime) -> None:
        birthday = self.record.birthday_at
        if birthday is None or self.record.birthday_noticed or birthday > now:
            return
        # The court, LE and NCMEC need to hear: a missing young adult is
        # handled differently. A notice, never an escalation.
        self.record.birthday_noticed = True
        for recipient in ("officer", "supervisor"):
            self._notice("birthday", recipient, now, due=birthday)

    # -- the start -------------------------------------------------------

    def _begin(self, now: datetime) -> None:
        report = self.report
        received = report.received_at
        self._chrono(now, "episode_opened", detail={"phase": self.phase.value})
        if report.handed_off:
            # §5.D: the lead agency runs the runaway protocol; probation
            # confirms it reported, so neither agency assumes the other did.
            self._notice("hand_off", "liaison", now)
            self._open(StepName.LEAD_AGENCY_CONFIRMATION, received, now)
        else:
            self._open(StepName.LAW_ENFORCEMENT_REPORT, received, now)
            if not report.non_minor_dependent:
                self._open(StepName.WARRANT_REQUEST, received, now)
            parties = {
                party.id: State.NOT_APPLICABLE if party.do_not_notify else State.PENDING
                for party in report.parties
            }
            self._open(StepName.PARTY_NOTIFICATIONS, received, now, parties)
            self._open(StepName.NCMEC_REPORT, received, now)
            self._open(StepName.MISSING_DOCUMENTATION, received, now)
            self._open_period(1, received, now)
        csec = report.csec
        if csec.status in (CsecStatus.SUSPECTED, CsecStatus.CONFIRMED) and (
            csec.reported_at is None
        ):
            self._open_abuse_report(received, now)
        birthday = clocks.eighteenth_birthday(
            report.youth.date_of_birth.year,
            report.youth.date_of_birth.month,
            report.youth.date_of_birth.day,
            self.settings.zone,
        )
        if birthday > received:
            self.record.birthday_at = birthday
        self.advance(now)

    def _open_abuse_report(self, trigger: datetime, now: datetime) -> None:
        items = dict.fromkeys(ABUSE_RECIPIENTS, State.PENDING)
        self._open(StepName.ABUSE_REPORT, trigger, now, items)

    def _open(
        self,
        name: StepName,
        trigger: datetime,
        now: datetime,
        items: dict[str, State] | None = None,
    ) -> None:
        definition = STEPS[name]
        if items is not None and not any(s == State.PENDING for s in items.values()):
            return  # a step with no item to act on never opens
        due = clocks.due_time(definition.clock, trigger, self.settings)
        remind_at = clocks.reminder_time(definition.clock, due, self.settings)
        if remind_at is not None and remind_at < now:
            remind_at = None  # opened inside the lead: the task is the reminder
        mode = mode_of(name, self.settings) if definition.done_by == "adapter" else Mode.OFFICER
        step = StepRecord(
            name=name, mode=mode, trigger=trigger, opened_at=now, due=due,
            remind_at=remind_at,
        )
        if items is not None:
            step.items = {key: ItemRecord(state=state) for key, state in items.items()}
        self.record.steps[name] = step
        self._chrono(
            now, "step_opened", name, state=State.PENDING,
            detail={"due": due.isoformat(), "mode": mode.value, "items": list(items or [])},
        )
        units: list[str | None] = [None]
        if items is not None:
            units = [key for key, state in items.items() if state == State.PENDING]
        for item in units:
            request = self._request(step, item)
            if mode == Mode.AUTOMATIC:
                self.record.outbox.append(PerformStep(request=request))
            else:
                self.record.outbox.append(OpenOfficerTask(request=request))

    def _open_period(self, number: int, starts: datetime, now: datetime) -> None:
        ends = clocks.locate_period_end(self.report.received_at, number, self.settings)
        remind_at = clocks.add_calendar_days(
            ends, -self.settings.reminder_lead_days, self.settings.zone
        )
        self.record.periods.append(
            LocatePeriod(number=number, starts=starts, ends=ends, remind_at=max(remind_at, starts))
        )
        request = StepRequest(
            case_id=self.report.case_id, episode_id=self.record.episode_id,
            step=StepName.LOCATE_EFFORT, item=f"period-{number}", due=ends,
            officer_id=self.report.officer.id,
            idempotency_key=self._key(StepName.LOCATE_EFFORT, f"period-{number}", "task"),
        )
        self.record.outbox.append(OpenOfficerTask(request=request))

    # -- officer and supervisor actions ----------------------------------

    def check_complete(self, action: CompleteStep, now: datetime) -> StepRecord:
        """Refuse a confirmation the protocol does not allow.

        Raises:
            Refused: naming the field and the rule.
        """
        self._check_open_episode()
        name = action.step
        if STEPS[name].done_by == "own_action":
            raise Refused(
                f"step: {name} is done only by its own action "
                "(record_debrief or record_effort), not complete_step"
            )
        step = self._check_item(name, action.item)
        self._check_performed_at(action.performed_at)
        if name == StepName.LEAD_AGENCY_CONFIRMATION and not (
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
            performed_by=action.by or self.report.officer.id,
        )
        self._finish(step, action.item, action.performed_at or now, receipt, now)
        self.advance(now)
        return step

    def complete_automatically(
        self, request: StepRequest, receipt: Receipt, now: datetime
    ) -> None:
        """An adapter finished: done now, unless already settled by hand."""
        step = self.record.steps.get(request.step)
        if step is None or self.ended:
            return
        if request.item is None:
            still_open = step.is_open
        else:
            item = (step.items or {}).get(request.item)
            still_open = item is not None and item.state in (State.PENDING, State.OVERDUE)
        if still_open:
            self._finish(step, request.item, now, receipt, now)
        self.advance(now)

    def check_attempt(self, action: RecordAttempt, now: datetime) -> StepRecord:
        self._check_open_episode()
        step = self._check_item(action.step, action.item)
        self._check_performed_at(action.performed_at)
        return step

    def record_attempt(self, action: RecordAttempt, now: datetime) -> StepRecord:
        """An attempt is kept beside the step and never completes it."""
        step = self.check_attempt(action, now)
        attempt = Attempt(
            method=action.method, item=action.item, notes=action.notes,
            performed_at=action.performed_at or now, recorded_at=now,
            by=action.by or self.report.officer.id,
        )
        step.attempts.append(attempt)
        self._chrono(
            now, "attempt_recorded", step.name, action.item, step.state,
            detail=attempt.model_dump(mode="json"),
        )
        self.advance(now)
        return step

    def check_effort(self, action: RecordEffort, now: datetime) -> datetime:
        self._check_open_episode()
        if self.report.handed_off:
            raise Refused("kind: locate efforts belong to the lead agency in a handed-off episode")
        if self.record.closure is not None:
            raise Refused("kind: the episode was closed; the monthly search has stopped")
        performed_at = action.performed_at or now
        self._check_performed_at(performed_at)
        located = self.record.located
        if located is not None and performed_at >= located.located_at:
            raise Refused("performed_at: must be before the youth was located")
        return performed_at

    def record_effort(self, action: RecordEffort, now: datetime) -> LocatePeriod | None:
        """Count an effort for its period, even one already judged."""
        performed_at = self.check_effort(action, now)
        effort = Effort(
            kind=action.kind, notes=action.notes, performed_at=performed_at,
            recorded_at=now, by=action.by or self.report.officer.id,
        )
        self.record.efforts.append(effort)
        period = next(
            (p for p in self.record.periods if p.starts <= performed_at < p.ends), None
        )
        if period is not None and period.judged and not period.compliant:
            # A backdated effort makes its period compliant; the escalation
            # already sent stays in the record.
            period.compliant = True
        item = f"period-{period.number}" if period else None
        self._chrono(
            now, "effort_recorded", StepName.LOCATE_EFFORT, item, State.DONE,
            detail=effort.model_dump(mode="json"),
        )
        self.advance(now)
        return period

    def check_located(self, action: Located, now: datetime) -> datetime:
        self._check_open_episode()
        if self.record.located is not None:
            raise Refused("located: the youth was already located in this episode")
        if self.record.closure is not None:
            raise Refused("located: the episode was closed by a supervisor")
        located_at = action.located_at or now
        self._check_performed_at(located_at, field="located_at")
        return located_at

    def locate(self, action: Located, now: datetime) -> None:
        """The youth is found: settle what is open, open the return phase."""
        at = self.check_located(action, now)
        self.record.located = LocatedRecord(
            located_at=at, place=action.place, found_by=action.found_by,
            recorded_at=now, by=action.by or self.report.officer.id,
        )
        self._chrono(now, "located", detail=self.record.located.model_dump(mode="json"))
        self._settle(at, now, lambda step: STEPS[step.name].settled_when_found)
        self._drop_periods(at)
        if not self.report.handed_off:
            self._open_return_notifications(at, now)
            self._open(StepName.DEBRIEF, at, now)
        self.advance(now)

    def check_debrief(self, action: RecordDebrief, now: datetime) -> datetime:
        self._check_open_episode()
        if self.report.handed_off:
            raise Refused("debrief: the lead agency debriefs in a handed-off episode")
        located = self.record.located
        if located is None:
            raise Refused("debrief: the youth has not been located")
        if self.record.debrief is not None:
            raise Refused("debrief: already recorded for this episode")
        step = self.record.steps.get(StepName.DEBRIEF)
        if step is None or not step.is_open:
            raise Refused("debrief: the step is not open")
        held_at = action.performed_at or now
        self._check_performed_at(held_at)
        if held_at < located.located_at:
            raise Refused("performed_at: the debrief cannot be held before the youth was located")
        return held_at

    def record_debrief(self, action: RecordDebrief, now: datetime) -> None:
        """Record the debrief; open the CFT and abuse report it calls for."""
        held_at = self.check_debrief(action, now)
        located = self.record.located
        assert located is not None
        self.record.debrief = DebriefRecord(
            exploited_while_absent=action.exploited_while_absent,
            immediate_risk=action.immediate_risk, services=action.services,
            cft_applies=action.cft_applies, primary_factors=action.primary_factors,
            held_at=held_at, recorded_at=now, by=action.by or self.report.officer.id,
        )
        self._chrono(now, "debrief_recorded", detail=self.record.debrief.model_dump(mode="json"))
        receipt = Receipt(method="in_person", performed_by=self.record.debrief.by)
        self._finish(self.record.steps[StepName.DEBRIEF], None, held_at, receipt, now)
        exploited = action.exploited_while_absent == "yes"
        if action.cft_applies and (exploited or action.immediate_risk):
            self._open(StepName.CFT_MEETING, located.located_at, now)
        if exploited and StepName.ABUSE_REPORT not in self.record.steps:
            self._open_abuse_report(held_at, now)
        elif exploited:
            # Limitation: a finding after the episode's abuse report needs a
            # report of its own outside the episode; it is only recorded here.
            self._chrono(now, "abuse_disclosure_needs_own_report", StepName.ABUSE_REPORT)
        self.advance(now)

    def check_close(self, action: Close, now: datetime) -> None:
        self._check_open_episode()
        if self.record.closure is not None:
            raise Refused("close: the episode is already closed")
        if action.by == self.report.officer.id:
            raise Refused("by: a supervisor closes an episode, not the assigned officer")
        for name in ABUSE_STEPS:
            step = self.record.steps.get(name)
            if step is not None and step.is_open:
                raise Refused(f"close: {name} is open; that duty outlives the episode")

    def close(self, action: Close, now: datetime) -> None:
        """A supervisor ends the episode; whoever was told is told again."""
        self.check_close(action, now)
        self.record.closure = Closure(
            reason=action.reason, by=action.by, notes=action.notes, closed_at=now
        )
        self._chrono(now, "closed", detail=self.record.closure.model_dump(mode="json"))
        self._settle(now, now, lambda step: step.name not in ABUSE_STEPS)
        self._drop_periods(now)
        if not self.report.handed_off and StepName.RETURN_NOTIFICATIONS not in self.record.steps:
            self._open_return_notifications(now, now)
        self.advance(now)

    def record_refused_signal(self, signal: str, rule: str, now: datetime) -> None:
        """A signal cannot be refused to its sender: the chrono keeps it."""
        self._chrono(now, "signal_refused", detail={"signal": signal, "rule": rule})

    # -- shared mechanics ------------------------------------------------

    def _check_open_episode(self) -> None:
        if self.ended:
            raise Refused("episode: has ended; no action is taken on it")

    def _check_performed_at(self, at: datetime | None, field: str = "performed_at") -> None:
        if at is not None and at < self.report.received_at:
            raise Refused(f"{field}: must not be before received_at")

    def _check_item(self, name: StepName, item: str | None) -> StepRecord:
        step = self.record.steps.get(name)
        if step is None:
            raise Refused(f"step: {name} has not opened in this episode")
        if step.items is None:
            if item is not None:
                raise Refused(f"item: {name} has no items")
            if not step.is_open:
                raise Refused(f"step: {name} is already {step.state}")
            return step
        if item is None:
            raise Refused(f"item: required for {name} (one of {', '.join(step.items)})")
        if item not in step.items:
            raise Refused(f"item: not an item of {name} (one of {', '.join(step.items)})")
        state = step.items[item].state
        if state == State.NOT_APPLICABLE:
            raise Refused(f"item: {item} is marked do not notify")
        if state not in (State.PENDING, State.OVERDUE):
            raise Refused(f"item: {item} of {name} is already {state}")
        return step

    def _finish(
        self,
        step: StepRecord,
        item: str | None,
        performed_at: datetime,
        receipt: Receipt,
        now: datetime,
    ) -> None:
        # On time means performed at or before due, whenever it is confirmed.
        state = State.DONE if performed_at <= step.due else State.DONE_LATE
        if step.items is None:
            step.state, step.done_at, step.receipt = state, performed_at, receipt
        else:
            step.items[item or ""] = ItemRecord(state=state, done_at=performed_at, receipt=receipt)
            self._refresh(step)
        self._chrono(
            now, "step_done", step.name, item, state,
            detail={"performed_at": performed_at.isoformat(), **receipt.model_dump(mode="json")},
        )
        if not step.is_open:
            self._after_final(step, now)

    def _refresh(self, step: StepRecord) -> None:
        """A step with items is open while any item is; else its items decide."""
        items = [i for i in (step.items or {}).values() if i.state != State.NOT_APPLICABLE]
        if any(i.state in (State.PENDING, State.OVERDUE) for i in items):
            return
        held = {i.state for i in items}
        step.state = next(s for s in ITEM_PRECEDENCE if s in held)
        done = [i.done_at for i in items if i.done_at is not None]
        step.done_at = max(done, default=None)

    def _after_final(self, step: StepRecord, now: datetime) -> None:
        if step.state not in DONE_STATES:
            return
        if step.name == StepName.LAW_ENFORCEMENT_REPORT:
            # LE enters the youth in NCIC; the officer confirms the NIC number.
            assert step.done_at is not None
            self._open(StepName.NCIC_ENTRY_CONFIRMED, step.done_at, now)
        if step.name == StepName.ABUSE_REPORT:
            # PC 11166: a phone report is followed by a written one, due 36 h
            # after the information was received, not after the call.
            phoned = {
                key: State.PENDING
                for key, item in (step.items or {}).items()
                if item.receipt is not None and item.receipt.method == "phone"
            }
            self._open(StepName.ABUSE_WRITTEN_REPORT, step.trigger, now, phoned)

    def _settle(self, at: datetime, now: datetime, applies: Any) -> None:
        """Open steps end as not_required before their due, missed after."""
        for step in list(self.record.steps.values()):
            if not step.is_open or not applies(step):
                continue
            settled = State.NOT_REQUIRED if at < step.due else State.MISSED
            if step.items is None:
                step.state = settled
            else:
                for key, item in step.items.items():
                    if item.state in (State.PENDING, State.OVERDUE):
                        step.items[key] = ItemRecord(state=settled)
                self._refresh(step)
            self._chrono(now, "step_settled", step.name, state=step.state)

    def _drop_periods(self, at: datetime) -> None:
        # The running period is never judged, nor is one judged but ending
        # after the youth was found; their escalations stay in the record.
        kept = [p for p in self.record.periods if p.judged and p.ends <= at]
        for period in self.record.periods:
            if period not in kept and not period.judged:
                self._chrono(
                    at, "locate_period_dropped", StepName.LOCATE_EFFORT,
                    f"period-{period.number}", State.NOT_REQUIRED,
                )
        self.record.periods = kept

    def _open_return_notifications(self, at: datetime, now: datetime) -> None:
        steps = self.record.steps
        told: dict[str, State] = {}
        parties = steps.get(StepName.PARTY_NOTIFICATIONS)
        for key, item in ((parties.items or {}) if parties else {}).items():
            if item.state in DONE_STATES:
                told[key] = State.PENDING
        for agency, report_step in AGENCY_TOLD_BY.items():
            made = steps.get(report_step)
            if made is not None and made.state in DONE_STATES:
                told[agency] = State.PENDING
        self._open(StepName.RETURN_NOTIFICATIONS, at, now, told)

    def _end_if_final(self, now: datetime) -> None:
        if self.still_missing:
            return
        if any(step.is_open for step in self.record.steps.values()):
            return
        self.record.ended_at = now
        self._chrono(now, EPISODE_ENDED, detail={"categories": self.categories()})

    def _request(self, step: StepRecord, item: str | None) -> StepRequest:
        return StepRequest(
            case_id=self.report.case_id,
            episode_id=self.record.episode_id,
            step=step.name,
            item=item,
            due=step.due,
            officer_id=self.report.officer.id,
            idempotency_key=self._key(step.name, item, "perform"),
        )

    def _key(self, *parts: object) -> str:
        return "/".join([self.record.episode_id, *(str(p or "-") for p in parts)])

    def _notice(
        self,
        kind: NoticeKind,
        recipient: str,
        now: datetime,
        step: StepName | None = None,
        period: int | None = None,
        due: datetime | None = None,
    ) -> None:
        report = self.report
        recipient_id = {
            "officer": report.officer.id,
            "supervisor": report.supervisor.id,
            "liaison": "lead_agency_liaison",
        }[recipient]
        notice = Notice(
            case_id=report.case_id, episode_id=self.record.episode_id, kind=kind,
            recipient=recipient, recipient_id=recipient_id, step=step, period=period,
            due=due, at=now, idempotency_key=self._key(kind, recipient, step, period),
        )
        self.record.outbox.append(SendNotice(notice=notice))

    def _chrono(
        self,
        now: datetime,
        event: str,
        step: StepName | None = None,
        item: str | None = None,
        state: State | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.record.sequence += 1
        entry = ChronoEntry(
            case_id=self.report.case_id, episode_id=self.record.episode_id, at=now,
            event=event, step=step, item=item, state=state.value if state else None,
            detail=detail or {}, idempotency_key=self._key("chrono", self.record.sequence),
        )
        self.record.outbox.append(WriteChrono(entry=entry))

    def _effort_in(self, period: LocatePeriod) -> bool:
        return any(
            period.starts <= effort.performed_at < period.ends
            for effort in self.record.efforts
        )
