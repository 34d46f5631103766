"""One missing episode's rules: the runaway protocol of PROTOCOL.md.

What is particular to a missing youth lives here: which steps open at the
start, the monthly locate periods, located, the debrief, a supervisor's close
and the 18th birthday. The clocks themselves run on ``StepTracker``.
"""

from __future__ import annotations

from datetime import datetime

from workflows import clocks
from workflows.actions import Close, Located, RecordDebrief, RecordEffort
from workflows.categories import annual_categories, meets_at_risk_rule
from workflows.effects import EPISODE_ENDED, Receipt, StepRequest
from workflows.payload import CsecStatus, Disclosure, MissingReport
from workflows.records import (
    Closure,
    DebriefRecord,
    Effort,
    EpisodeRecord,
    Escalation,
    LocatedRecord,
    LocatePeriod,
    OpenOfficerTask,
    Phase,
    StartDisclosure,
    State,
    StepRecord,
)
from workflows.refusal import Refused
from workflows.settings import CountySettings
from workflows.steps import ABUSE_STEPS, STEPS, TWENTY_FOUR_HOUR_REPORTS, StepName
from workflows.tracker import DONE_STATES, StepTracker, opening

# Which missing report tells each agency of the absence, so that it is told
# of the return (§5.A-C).
AGENCY_TOLD_BY = {
    "law_enforcement": StepName.LAW_ENFORCEMENT_REPORT,
    "court": StepName.WARRANT_REQUEST,
    "ncmec": StepName.NCMEC_REPORT,
}


# A close settles every open step but these: the abuse reports (a close is
# refused while they are open) and the return notifications.
KEPT_OPEN_BY_A_CLOSE = (*ABUSE_STEPS, StepName.RETURN_NOTIFICATIONS)


def episode_id_for(report: MissingReport) -> str:
    """Case id and the instant the information was received (UTC)."""
    return str(opening(report, CountySettings(), report.received_at)["episode_id"])


class Episode(StepTracker):
    """One missing episode's rules, applied to its record."""

    def __init__(self, record: EpisodeRecord) -> None:
        self.record: EpisodeRecord = record

    @classmethod
    def open(
        cls, report: MissingReport, settings: CountySettings, now: datetime
    ) -> Episode:
        """Start an episode from the case system's payload."""
        record = EpisodeRecord(**opening(report, settings, now), report=report)
        episode = cls(record)
        episode._begin(now)
        return episode

    # -- reading ---------------------------------------------------------

    @property
    def report(self) -> MissingReport:
        return self.record.report

    @property
    def still_missing(self) -> bool:
        return self.record.located is None and self.record.closure is None

    def may_end(self) -> bool:
        # Found or closed, and every step final; the monthly clock never
        # holds an episode open.
        return not self.still_missing

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

    def at_risk_by_indicators(self) -> bool:
        """§1.C on the indicators given, whatever the case's status says."""
        return meets_at_risk_rule(self.report.csec.indicators)

    def categories(self) -> list[str]:
        debrief = self.record.debrief
        exploited = debrief is not None and debrief.exploited_while_absent == "yes"
        return annual_categories(self.report, exploited)

    def open_periods(self) -> list[LocatePeriod]:
        if not self.still_missing or self.ended:
            return []
        return [period for period in self.record.periods if not period.judged]

    def dues(self) -> list[tuple[datetime, str]]:
        periods = [(p.ends, StepName.LOCATE_EFFORT.value) for p in self.open_periods()]
        return super().dues() + periods

    def wakeups(self) -> list[datetime]:
        times = super().wakeups()
        for period in self.open_periods():
            times += [period.ends] + ([] if period.reminded else [period.remind_at])
        if self.record.birthday_at is not None and not self.record.birthday_noticed:
            times.append(self.record.birthday_at)
        return times

    # -- the start -------------------------------------------------------

    def _begin(self, now: datetime) -> None:
        report = self.report
        received = report.received_at
        self.effects.chrono(now, "episode_opened", detail={"phase": self.phase.value})
        if report.handed_off:
            # §5.D: the lead agency runs the runaway protocol; probation
            # confirms it reported, so neither agency assumes the other did.
            self.effects.notice("hand_off", "liaison", now)
            self.open_step(StepName.LEAD_AGENCY_CONFIRMATION, received, now)
        else:
            self.open_step(StepName.LAW_ENFORCEMENT_REPORT, received, now)
            if not report.non_minor_dependent:
                self.open_step(StepName.WARRANT_REQUEST, received, now)
            parties = {
                party.id: State.NOT_APPLICABLE if party.do_not_notify else State.PENDING
                for party in report.parties
            }
            self.open_step(StepName.PARTY_NOTIFICATIONS, received, now, parties)
            self.open_step(StepName.NCMEC_REPORT, received, now)
            self.open_step(StepName.MISSING_DOCUMENTATION, received, now)
            self._open_period(1, received)
        csec = report.csec
        suspected = csec.status in (CsecStatus.SUSPECTED, CsecStatus.CONFIRMED)
        if suspected and csec.reported_at is None:
            self.open_abuse_report(received, now)
        birth = report.youth.date_of_birth
        birthday = clocks.eighteenth_birthday(
            birth.year, birth.month, birth.day, self.settings.zone
        )
        if birthday > received:
            self.record.birthday_at = birthday
        self.advance(now)

    def after_done(self, step: StepRecord, now: datetime) -> None:
        if step.name == StepName.LAW_ENFORCEMENT_REPORT:
            # LE enters the youth in NCIC; the officer confirms the NIC number.
            assert step.done_at is not None
            self.open_step(StepName.NCIC_ENTRY_CONFIRMED, step.done_at, now)
        super().after_done(step, now)

    def end(self, now: datetime) -> None:
        super().end(now)
        self.effects.chrono(
            now, EPISODE_ENDED, detail={"categories": self.categories()}
        )

    # -- monthly locate periods and the birthday -------------------------

    def other_clocks(self, now: datetime) -> None:
        for period in self.open_periods():
            if not period.reminded and period.remind_at <= now:
                period.reminded = True
                if now < period.ends and not self._effort_in(period):
                    self.effects.notice(
                        "reminder",
                        "officer",
                        period.remind_at,
                        step=StepName.LOCATE_EFFORT,
                        period=period.number,
                        due=period.ends,
                    )
            if period.ends <= now:
                self._judge(period, period.ends)
        self._birthday_clock(now)

    def _open_period(self, number: int, starts: datetime) -> None:
        ends = clocks.locate_period_end(self.report.received_at, number, self.settings)
        remind_at = clocks.add_calendar_days(
            ends, -self.settings.reminder_lead_days, self.settings.zone
        )
        period = LocatePeriod(
            number=number, starts=starts, ends=ends, remind_at=max(remind_at, starts)
        )
        self.record.periods.append(period)
        request = StepRequest(
            case_id=self.record.case_id,
            episode_id=self.record.episode_id,
            step=StepName.LOCATE_EFFORT,
            item=f"period-{number}",
            due=ends,
            officer_id=self.record.officer_id,
            idempotency_key=self.effects.key(
                StepName.LOCATE_EFFORT, f"period-{number}"
            ),
        )
        self.record.outbox.append(OpenOfficerTask(request=request))

    def _judge(self, period: LocatePeriod, now: datetime) -> None:
        # Judged at its end: compliant with at least one effort performed in
        # [starts, ends). The next period opens from this one's end.
        period.judged = True
        period.compliant = self._effort_in(period)
        if not period.compliant:
            period.escalated_at = now
            self.record.escalations.append(
                Escalation(step=StepName.LOCATE_EFFORT, period=period.number, at=now)
            )
            self.effects.notice(
                "escalation",
                "supervisor",
                now,
                step=StepName.LOCATE_EFFORT,
                period=period.number,
                due=period.ends,
            )
        state = State.DONE if period.compliant else State.MISSED
        item = f"period-{period.number}"
        self.effects.chrono(
            now, "locate_period_judged", StepName.LOCATE_EFFORT, item, state
        )
        self._open_period(period.number + 1, period.ends)

    def _effort_in(self, period: LocatePeriod) -> bool:
        return any(
            period.starts <= effort.performed_at < period.ends
            for effort in self.record.efforts
        )

    def _drop_periods(self, at: datetime, now: datetime) -> None:
        # The running period is never judged, nor is one judged but ending
        # after the youth was found; their escalations stay in the record.
        kept = [p for p in self.record.periods if p.judged and p.ends <= at]
        for period in self.record.periods:
            if period not in kept and not period.judged:
                item = f"period-{period.number}"
                self.effects.chrono(
                    now,
                    "locate_period_dropped",
                    StepName.LOCATE_EFFORT,
                    item,
                    State.NOT_REQUIRED,
                )
        self.record.periods = kept

    def _birthday_clock(self, now: datetime) -> None:
        birthday = self.record.birthday_at
        if birthday is None or self.record.birthday_noticed or birthday > now:
            return
        # The court, LE and NCMEC need to hear: a missing young adult is
        # handled differently. A notice, never an escalation.
        self.record.birthday_noticed = True
        for recipient in ("officer", "supervisor"):
            self.effects.notice("birthday", recipient, birthday, due=birthday)

    # -- officer and supervisor actions ----------------------------------

    def check_effort(self, action: RecordEffort, now: datetime) -> datetime:
        self.check_not_ended()
        if self.report.handed_off:
            raise Refused(
                "kind: locate efforts belong to the lead agency in a handed-off episode"
            )
        if self.record.closure is not None:
            raise Refused("kind: the episode was closed; the monthly search stopped")
        performed_at = action.performed_at or now
        self.check_performed_at(performed_at)
        located = self.record.located
        if located is not None and performed_at >= located.located_at:
            raise Refused("performed_at: must be before the youth was located")
        return performed_at

    def record_effort(self, action: RecordEffort, now: datetime) -> LocatePeriod | None:
        """Count an effort for its period, even one already judged."""
        performed_at = self.check_effort(action, now)
        effort = Effort(
            kind=action.kind,
            notes=action.notes,
            performed_at=performed_at,
            recorded_at=now,
            by=action.by or self.record.officer_id,
        )
        self.record.efforts.append(effort)
        period = next(
            (p for p in self.record.periods if p.starts <= performed_at < p.ends),
            None,
        )
        if period is not None and period.judged and not period.compliant:
            # A backdated effort makes its period compliant; the escalation
            # already sent stays in the record.
            period.compliant = True
        item = f"period-{period.number}" if period else None
        self.effects.chrono(
            now,
            "effort_recorded",
            StepName.LOCATE_EFFORT,
            item,
            State.DONE,
            detail=effort.model_dump(mode="json"),
        )
        self.advance(now)
        return period

    def check_located(self, action: Located, now: datetime) -> datetime:
        self.check_not_ended()
        if self.record.located is not None:
            raise Refused("located: the youth was already located in this episode")
        if self.record.closure is not None:
            raise Refused("located: the episode was closed by a supervisor")
        located_at = action.located_at or now
        self.check_performed_at(located_at, field="located_at")
        return located_at

    def locate(self, action: Located, now: datetime) -> None:
        """The youth is found: settle what is open, open the return phase."""
        at = self.check_located(action, now)
        located = LocatedRecord(
            located_at=at,
            place=action.place,
            found_by=action.found_by,
            recorded_at=now,
            by=action.by or self.record.officer_id,
        )
        self.record.located = located
        self.effects.chrono(now, "located", detail=located.model_dump(mode="json"))
        self.settle(at, now, lambda step: STEPS[step.name].settled_when_found)
        self._drop_periods(at, now)
        if not self.report.handed_off:
            self._open_return_notifications(at, now)
            self.open_step(StepName.DEBRIEF, at, now)
        self.advance(now)

    def check_debrief(self, action: RecordDebrief, now: datetime) -> datetime:
        self.check_not_ended()
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
        self.check_performed_at(held_at)
        if held_at < located.located_at:
            raise Refused(
                "performed_at: the debrief cannot be held before the youth was located"
            )
        return held_at

    def record_debrief(self, action: RecordDebrief, now: datetime) -> None:
        """Record the debrief; open the CFT and abuse report it calls for."""
        held_at = self.check_debrief(action, now)
        located = self.record.located
        assert located is not None
        debrief = DebriefRecord(
            exploited_while_absent=action.exploited_while_absent,
            immediate_risk=action.immediate_risk,
            services=action.services,
            cft_applies=action.cft_applies,
            primary_factors=action.primary_factors,
            held_at=held_at,
            recorded_at=now,
            by=action.by or self.record.officer_id,
        )
        self.record.debrief = debrief
        self.effects.chrono(
            now, "debrief_recorded", detail=debrief.model_dump(mode="json")
        )
        receipt = Receipt(method="in_person", performed_by=debrief.by)
        self.finish(self.record.steps[StepName.DEBRIEF], None, held_at, receipt, now)
        exploited = action.exploited_while_absent == "yes"
        if action.cft_applies and (exploited or action.immediate_risk):
            self.open_step(StepName.CFT_MEETING, located.located_at, now)
        if exploited:
            self._report_finding(held_at, now)
        self.advance(now)

    def _report_finding(self, held_at: datetime, now: datetime) -> None:
        # One abuse report per episode: a finding after it is final starts a
        # report of its own, outside the episode, with the same clocks.
        report = self.record.steps.get(StepName.ABUSE_REPORT)
        if report is None:
            self.open_abuse_report(held_at, now)
        elif not report.is_open:
            disclosure = Disclosure(
                case_id=self.report.case_id,
                received_at=held_at,
                youth=self.report.youth,
                law_enforcement_agency=self.report.law_enforcement_agency,
                officer=self.report.officer,
                supervisor=self.report.supervisor,
                context="debrief",
            )
            self.record.outbox.append(StartDisclosure(disclosure=disclosure))

    def check_close(self, action: Close, now: datetime) -> datetime:
        self.check_not_ended()
        if self.record.closure is not None:
            raise Refused("close: the episode is already closed")
        if action.by != self.record.supervisor_id:
            raise Refused("by: only the episode's supervisor (supervisor.id) closes it")
        closed_at = action.closed_at or now
        self.check_performed_at(closed_at, field="closed_at")
        located = self.record.located
        if located is not None and closed_at < located.located_at:
            raise Refused("closed_at: must not be before the youth was located")
        for name in ABUSE_STEPS:
            step = self.record.steps.get(name)
            if step is not None and step.is_open:
                raise Refused(f"close: {name} is open; that duty outlives the episode")
        return closed_at

    def close(self, action: Close, now: datetime) -> None:
        """A supervisor ends the episode; whoever was told is told again.

        Open steps settle as at located, except the return notifications:
        a warrant must be recalled and an NCMEC case closed even after an
        erroneous report, so the episode ends once those are final.
        """
        at = self.check_close(action, now)
        closure = Closure(
            reason=action.reason, by=action.by, notes=action.notes, closed_at=at
        )
        self.record.closure = closure
        self.effects.chrono(now, "closed", detail=closure.model_dump(mode="json"))
        self.settle(at, now, lambda step: step.name not in KEPT_OPEN_BY_A_CLOSE)
        self._drop_periods(at, now)
        told_before = StepName.RETURN_NOTIFICATIONS in self.record.steps
        if not self.report.handed_off and not told_before:
            self._open_return_notifications(at, now)
        self.advance(now)

    def _open_return_notifications(self, at: datetime, now: datetime) -> None:
        # Everyone told of the absence is told of the return: parties
        # notified, LE if reported to, the court to recall the warrant, NCMEC.
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
        self.open_step(StepName.RETURN_NOTIFICATIONS, at, now, told)
