"""``MissingYouthWorkflow``: one durable workflow per missing episode.

The workflow keeps the clocks and carries out side effects; every decision
is made by ``Episode`` (workflows/episode.py). Officers act through Updates,
validated before they are accepted, so a refused action changes nothing and
never fails a workflow task. The case system may also send ``located`` as a
signal.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel
from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.actions import (
    Close,
    CompleteStep,
    Located,
    RecordAttempt,
    RecordDebrief,
    RecordEffort,
)
from workflows.effects import OPEN_CASE_RECORD, EpisodeOpened
from workflows.episode import Episode
from workflows.payload import MissingReport
from workflows.records import EpisodeRecord
from workflows.runtime import EffectRunner, activity, check, now_to_the_second
from workflows.search import CASE_ID, EPISODE_PHASE, NEXT_DUE_AT, OFFICER_ID, OVERDUE
from workflows.settings import CountySettings


class EpisodeInput(BaseModel):
    """The workflow's input: the payload, or the record carried over."""

    report: MissingReport
    settings: CountySettings = CountySettings()
    record: EpisodeRecord | None = None


class EpisodeStatus(BaseModel):
    """What the ``status`` query returns: the record and what follows from it."""

    case_id: str
    episode_id: str
    phase: str
    now: AwareDatetime
    next_due_step: str | None
    next_due_at: AwareDatetime | None
    overdue_steps: list[str]
    escalated_steps: list[str]
    annual_categories: list[str]
    at_risk_by_indicators: bool
    # Side effects decided and not yet carried out, and the abuse reports
    # this episode started that are still open (a simulator waits on both).
    side_effects_running: int
    abuse_reports_running: list[str]
    record: EpisodeRecord


@workflow.defn
class MissingYouthWorkflow:
    """Runs the county's runaway protocol for one missing episode."""

    @workflow.init
    def __init__(self, input: EpisodeInput) -> None:
        if input.record is not None:
            self.episode = Episode(input.record)
        else:
            self.episode = Episode.open(
                input.report, input.settings, now_to_the_second()
            )
        self.runner = EffectRunner(self.episode)
        self._published: tuple[Any, ...] | None = None

    @workflow.run
    async def run(self, input: EpisodeInput) -> EpisodeStatus:
        if input.record is None:
            await self._open_case_record()
        while True:
            self.runner.dispatch()
            self._publish()
            if self.episode.ended and self.runner.idle:
                break
            if workflow.info().is_continue_as_new_suggested():
                await self._continue_as_new()
            await self.runner.sleep_until_next_clock()
        await self.runner.finish()
        return self.status()

    # -- officer and supervisor actions ----------------------------------

    @workflow.update
    def complete_step(self, action: Any) -> str:
        """Confirm a step (or item) was performed; returns the step's state."""
        step = self.runner.apply(CompleteStep, action, self.episode.complete)
        return str(step.state.value)

    @complete_step.validator
    def _check_complete_step(self, action: Any) -> None:
        check(CompleteStep, action, self.episode.check_complete)

    @workflow.update
    def record_attempt(self, action: Any) -> str:
        """Record an attempt beside a step; it never completes the step."""
        step = self.runner.apply(RecordAttempt, action, self.episode.record_attempt)
        return str(step.state.value)

    @record_attempt.validator
    def _check_record_attempt(self, action: Any) -> None:
        check(RecordAttempt, action, self.episode.check_attempt)

    @workflow.update
    def record_effort(self, action: Any) -> int | None:
        """Record a locate effort; returns the number of its period."""
        period = self.runner.apply(RecordEffort, action, self.episode.record_effort)
        return period.number if period else None

    @record_effort.validator
    def _check_record_effort(self, action: Any) -> None:
        check(RecordEffort, action, self.episode.check_effort)

    @workflow.update
    def confirm_located(self, action: Any) -> str:
        """The youth was located (the Update form of the ``located`` signal)."""
        self.runner.apply(Located, action, self.episode.locate)
        return self.episode.phase.value

    @confirm_located.validator
    def _check_confirm_located(self, action: Any) -> None:
        check(Located, action, self.episode.check_located)

    @workflow.signal
    def located(self, action: Any) -> None:
        """The case system says the youth was located.

        A signal cannot be refused to its sender, so a bad one is written to
        the chrono as refused, with the rule, and changes nothing else.
        """
        try:
            self.runner.apply(Located, action, self.episode.locate)
        except ApplicationError as error:
            self.episode.record_refused_signal(
                "located", str(error), now_to_the_second()
            )
            self.runner.changed = True

    @workflow.update
    def record_debrief(self, action: Any) -> str:
        """Record the debrief held after the youth was located (§5.C)."""
        self.runner.apply(RecordDebrief, action, self.episode.record_debrief)
        return self.episode.phase.value

    @record_debrief.validator
    def _check_record_debrief(self, action: Any) -> None:
        check(RecordDebrief, action, self.episode.check_debrief)

    @workflow.update
    def close(self, action: Any) -> str:
        """A supervisor closes the episode with a reason."""
        self.runner.apply(Close, action, self.episode.close)
        return self.episode.phase.value

    @close.validator
    def _check_close(self, action: Any) -> None:
        check(Close, action, self.episode.check_close)

    @workflow.query
    def status(self) -> EpisodeStatus:
        """The whole state of the episode, and what is due and overdue."""
        episode = self.episode
        next_due = episode.next_due()
        return EpisodeStatus(
            case_id=episode.record.case_id,
            episode_id=episode.record.episode_id,
            phase=episode.phase.value,
            now=workflow.now(),
            next_due_step=next_due[0] if next_due else None,
            next_due_at=next_due[1] if next_due else None,
            overdue_steps=[step.value for step in episode.overdue_steps()],
            escalated_steps=episode.escalated_steps(),
            annual_categories=episode.categories(),
            at_risk_by_indicators=episode.at_risk_by_indicators(),
            side_effects_running=self.runner.running + len(episode.record.outbox),
            abuse_reports_running=sorted(self.runner.children),
            record=episode.record,
        )

    # -- mechanics -------------------------------------------------------

    async def _open_case_record(self) -> None:
        record = self.episode.record
        opened = EpisodeOpened(
            episode_id=record.episode_id,
            report=record.report,
            settings=record.settings,
            started_at=record.started_at,
            idempotency_key=f"{record.episode_id}/case_record",
        )
        await activity(OPEN_CASE_RECORD, opened)

    def _publish(self) -> None:
        """Keep the search attributes current: ids, phase, next due, overdue."""
        episode = self.episode
        next_due = episode.next_due()
        due_at = next_due[1] if next_due else None
        overdue = bool(episode.overdue_steps())
        current = (episode.phase.value, due_at, overdue)
        if current == self._published:
            return
        self._published = current
        workflow.upsert_search_attributes(
            [
                CASE_ID.value_set(episode.record.case_id),
                OFFICER_ID.value_set(episode.record.officer_id),
                EPISODE_PHASE.value_set(episode.phase.value),
                NEXT_DUE_AT.value_set(due_at) if due_at else NEXT_DUE_AT.value_unset(),
                OVERDUE.value_set(overdue),
            ]
        )

    async def _continue_as_new(self) -> None:
        # Carry the whole record, its outbox included; let activities in
        # flight and handlers finish first so nothing is lost at the boundary.
        await self.runner.drain()
        record = self.episode.record
        workflow.continue_as_new(
            EpisodeInput(report=record.report, settings=record.settings, record=record)
        )
