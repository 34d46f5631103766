"""``AbuseReportWorkflow``: a child abuse report made outside any episode.

Started by ``starter.py disclose`` for a disclosure at intake or a home
visit, or by an episode whose debrief finds exploitation after its own abuse
report was final. Same steps, clocks, reminders and escalation as inside an
episode; it ends when every recipient has been told.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel
from temporalio import workflow

from workflows.actions import CompleteStep, RecordAttempt
from workflows.disclosure import AbuseDisclosure, DisclosureInput
from workflows.effects import OPEN_CASE_RECORD, EpisodeOpened
from workflows.records import DisclosureRecord
from workflows.runtime import EffectRunner, activity, check, now_to_the_second
from workflows.search import CASE_ID, EPISODE_PHASE, OFFICER_ID


class DisclosureStatus(BaseModel):
    case_id: str
    episode_id: str
    phase: str
    now: AwareDatetime
    overdue_steps: list[str]
    escalated_steps: list[str]
    side_effects_running: int
    record: DisclosureRecord


@workflow.defn
class AbuseReportWorkflow:
    """Reports known or suspected exploitation to LE and the DA (§4.C)."""

    @workflow.init
    def __init__(self, input: DisclosureInput) -> None:
        self.tracker = AbuseDisclosure.open(
            input.disclosure, input.settings, now_to_the_second()
        )
        self.runner = EffectRunner(self.tracker)

    @workflow.run
    async def run(self, input: DisclosureInput) -> DisclosureStatus:
        record = self.tracker.record
        workflow.upsert_search_attributes(
            [
                CASE_ID.value_set(record.case_id),
                OFFICER_ID.value_set(record.officer_id),
                EPISODE_PHASE.value_set("abuse_report"),
            ]
        )
        opened = EpisodeOpened(
            episode_id=record.episode_id,
            report=record.disclosure,
            settings=record.settings,
            started_at=record.started_at,
            idempotency_key=f"{record.episode_id}/case_record",
        )
        await activity(OPEN_CASE_RECORD, opened)
        while not (self.tracker.ended and self.runner.idle):
            self.runner.dispatch()
            if self.tracker.ended:
                await self.runner.drain()
                continue
            await self.runner.sleep_until_next_clock()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    @workflow.update
    def complete_step(self, action: Any) -> str:
        """Confirm a recipient was told; returns the step's state."""
        step = self.runner.apply(CompleteStep, action, self.tracker.complete)
        return str(step.state.value)

    @complete_step.validator
    def _check_complete_step(self, action: Any) -> None:
        check(CompleteStep, action, self.tracker.check_complete)

    @workflow.update
    def record_attempt(self, action: Any) -> str:
        """Record an attempt that did not reach the recipient."""
        step = self.runner.apply(RecordAttempt, action, self.tracker.record_attempt)
        return str(step.state.value)

    @record_attempt.validator
    def _check_record_attempt(self, action: Any) -> None:
        check(RecordAttempt, action, self.tracker.check_attempt)

    @workflow.query
    def status(self) -> DisclosureStatus:
        """The abuse report's steps, what is overdue and who was told."""
        record = self.tracker.record
        return DisclosureStatus(
            case_id=record.case_id,
            episode_id=record.episode_id,
            phase=self.tracker.phase,
            now=workflow.now(),
            overdue_steps=[step.value for step in self.tracker.overdue_steps()],
            escalated_steps=self.tracker.escalated_steps(),
            side_effects_running=self.runner.running + len(record.outbox),
            record=record,
        )
