"""``MissingYouthWorkflow``: one durable workflow per missing episode.

The workflow keeps the clocks and carries out side effects; every decision
is made by ``Episode`` (workflows/episode.py). Officers act through Updates,
validated before they are accepted, so a refused action changes nothing and
never fails a workflow task. The case system may also send ``located`` as a
signal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ValidationError
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.actions import (
    Close,
    CompleteStep,
    Located,
    RecordAttempt,
    RecordDebrief,
    RecordEffort,
)
from workflows.effects import (
    OPEN_CASE_RECORD,
    OPEN_OFFICER_TASK,
    PERFORM_STEP,
    RECORD_CHRONO,
    SEND_NOTICE,
    EpisodeOpened,
    Receipt,
)
from workflows.episode import Episode
from workflows.payload import MissingReport, Strict
from workflows.records import (
    Effect,
    EpisodeRecord,
    OpenOfficerTask,
    PerformStep,
    SendNotice,
)
from workflows.refusal import Refused, explain
from workflows.search import (
    CASE_ID,
    EPISODE_PHASE,
    NEXT_DUE_AT,
    OFFICER_ID,
    OVERDUE,
)
from workflows.settings import CountySettings

# A clock acts a millisecond after its instant, so that an officer's action
# at the same instant is applied first (PROTOCOL.md: "the event comes first").
CLOCK_GRACE = timedelta(milliseconds=1)

# Integrations fail for hours; a step's clock and escalation run on without
# them, and the side effect happens once the adapter recovers.
ADAPTER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)
ADAPTER_TIMEOUT = timedelta(seconds=60)
# A time "in the future" is one later than the workflow's clock by more than
# the difference two machines' clocks may reasonably have.
CLOCK_SKEW = timedelta(minutes=1)

ActionT = TypeVar("ActionT", bound=Strict)


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
    record: EpisodeRecord


def refusal(error: Exception) -> ApplicationError:
    """A refused action as the error an Update caller sees."""
    message = explain(error) if isinstance(error, ValidationError) else str(error)
    return ApplicationError(message, type="Refused", non_retryable=True)


@workflow.defn
class MissingYouthWorkflow:
    """Runs the county's runaway protocol for one missing episode."""

    @workflow.init
    def __init__(self, input: EpisodeInput) -> None:
        if input.record is not None:
            self.episode = Episode(input.record)
        else:
            self.episode = Episode.open(input.report, input.settings, self._now())
        self._changed = True
        self._running = 0
        self._published: tuple[Any, ...] | None = None

    @workflow.run
    async def run(self, input: EpisodeInput) -> EpisodeStatus:
        if input.record is None:
            await self._open_case_record()
        while True:
            self._dispatch()
            self._publish()
            if self.episode.ended and self._running == 0:
                break
            if workflow.info().is_continue_as_new_suggested():
                await self._continue_as_new()
            self._changed = False
            await self._sleep_until(self.episode.next_wakeup())
            self.episode.advance(workflow.now())
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    # -- officer and supervisor actions ----------------------------------

    @workflow.update
    def complete_step(self, action: Any) -> str:
        """Confirm a step (or item) was performed; returns the step's state."""
        step = self._apply(CompleteStep, action, self.episode.complete)
        return step.state.value

    @complete_step.validator
    def _check_complete_step(self, action: Any) -> None:
        self._check(CompleteStep, action, self.episode.check_complete)

    @workflow.update
    def record_attempt(self, action: Any) -> str:
        """Record an attempt beside a step; it never completes the step."""
        step = self._apply(RecordAttempt, action, self.episode.record_attempt)
        return step.state.value

    @record_attempt.validator
    def _check_record_attempt(self, action: Any) -> None:
        self._check(RecordAttempt, action, self.episode.check_attempt)

    @workflow.update
    def record_effort(self, action: Any) -> int | None:
        """Record a locate effort; returns the number of its period."""
        period = self._apply(RecordEffort, action, self.episode.record_effort)
        return period.number if period else None

    @record_effort.validator
    def _check_record_effort(self, action: Any) -> None:
        self._check(RecordEffort, action, self.episode.check_effort)

    @workflow.update
    def confirm_located(self, action: Any) -> str:
        """The youth was located (the Update form of the ``located`` signal)."""
        self._apply(Located, action, self.episode.locate)
        return self.episode.phase.value

    @confirm_located.validator
    def _check_confirm_located(self, action: Any) -> None:
        self._check(Located, action, self.episode.check_located)

    @workflow.signal
    def located(self, action: Any) -> None:
        """The case system says the youth was located.

        A signal cannot be refused to its sender, so a bad one is written to
        the chrono as refused, with the rule, and changes nothing else.
        """
        try:
            self._apply(Located, action, self.episode.locate)
        except ApplicationError as error:
            self.episode.record_refused_signal("located", str(error), workflow.now())
            self._changed = True

    @workflow.update
    def record_debrief(self, action: Any) -> str:
        """Record the debrief held after the youth was located (§5.C)."""
        self._apply(RecordDebrief, action, self.episode.record_debrief)
        return self.episode.phase.value

    @record_debrief.validator
    def _check_record_debrief(self, action: Any) -> None:
        self._check(RecordDebrief, action, self.episode.check_debrief)

    @workflow.update
    def close(self, action: Any) -> str:
        """A supervisor closes the episode with a reason."""
        self._apply(Close, action, self.episode.close)
        return self.episode.phase.value

    @close.validator
    def _check_close(self, action: Any) -> None:
        self._check(Close, action, self.episode.check_close)

    @workflow.query
    def status(self) -> EpisodeStatus:
        """The whole state of the episode, and what is due and overdue."""
        episode = self.episode
        next_due = episode.next_due()
        return EpisodeStatus(
            case_id=episode.report.case_id,
            episode_id=episode.record.episode_id,
            phase=episode.phase.value,
            now=workflow.now(),
            next_due_step=next_due[0] if next_due else None,
            next_due_at=next_due[1] if next_due else None,
            overdue_steps=[s.value for s in episode.overdue_steps()],
            escalated_steps=episode.escalated_steps(),
            annual_categories=episode.categories(),
            record=episode.record,
        )

    # -- mechanics -------------------------------------------------------

    def _now(self) -> datetime:
        # People and adapters act to the second; dropping the fraction keeps
        # an action sent at 14:10 from reading as 14:10:00.002 in the record.
        # Clocks use the exact time, so a wake-up always passes its instant.
        return workflow.now().replace(microsecond=0)

    def _parse(self, model: type[ActionT], action: Any) -> ActionT:
        bound = workflow.now() + CLOCK_SKEW
        try:
            return model.model_validate(action, context={"now": bound})
        except ValidationError as error:
            raise refusal(error) from None

    def _check(
        self, model: type[ActionT], action: Any, check: Callable[[ActionT, datetime], Any]
    ) -> None:
        parsed = self._parse(model, action)
        try:
            check(parsed, self._now())
        except Refused as error:
            raise refusal(error) from None

    def _apply(
        self, model: type[ActionT], action: Any, apply: Callable[[ActionT, datetime], Any]
    ) -> Any:
        parsed = self._parse(model, action)
        try:
            result = apply(parsed, self._now())
        except Refused as error:
            raise refusal(error) from None
        self._changed = True
        return result

    async def _open_case_record(self) -> None:
        record = self.episode.record
        await workflow.execute_activity(
            OPEN_CASE_RECORD,
            EpisodeOpened(
                episode_id=record.episode_id,
                report=record.report,
                settings=record.settings,
                started_at=record.started_at,
                idempotency_key=f"{record.episode_id}/case_record",
            ),
            start_to_close_timeout=ADAPTER_TIMEOUT,
            retry_policy=ADAPTER_RETRY,
            summary="open case record",
        )

    def _dispatch(self) -> None:
        """Start an activity for each side effect decided since last time."""
        outbox = self.episode.record.outbox
        while outbox:
            effect = outbox.pop(0)
            self._running += 1
            asyncio.create_task(self._carry_out(effect))

    async def _carry_out(self, effect: Effect) -> None:
        try:
            if isinstance(effect, PerformStep):
                receipt = await self._activity(PERFORM_STEP, effect.request, Receipt)
                self.episode.complete_automatically(
                    effect.request, receipt, self._now()
                )
            elif isinstance(effect, OpenOfficerTask):
                await self._activity(OPEN_OFFICER_TASK, effect.request)
            elif isinstance(effect, SendNotice):
                await self._activity(SEND_NOTICE, effect.notice)
            else:
                await self._activity(RECORD_CHRONO, effect.entry)
        except ActivityError as error:
            # Only a non-retryable failure gets here; the step's clock and
            # escalation run on, and the failure is visible in the status.
            self.episode.record.failed_effects.append(
                f"{effect.kind}: {type(error.cause).__name__}"
            )
        finally:
            self._running -= 1
            self._changed = True

    async def _activity(
        self, name: str, argument: BaseModel, result_type: type | None = None
    ) -> Any:
        step = getattr(argument, "step", None)
        return await workflow.execute_activity(
            name,
            argument,
            result_type=result_type,
            start_to_close_timeout=ADAPTER_TIMEOUT,
            retry_policy=ADAPTER_RETRY,
            summary=f"{name} {step.value if step else ''}".strip(),
        )

    async def _sleep_until(self, wake: datetime | None) -> None:
        timeout = None
        if wake is not None:
            timeout = max(wake - workflow.now(), timedelta(0)) + CLOCK_GRACE
        try:
            await workflow.wait_condition(lambda: self._changed, timeout=timeout)
        except TimeoutError:
            pass

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
                CASE_ID.value_set(episode.report.case_id),
                OFFICER_ID.value_set(episode.report.officer.id),
                EPISODE_PHASE.value_set(episode.phase.value),
                NEXT_DUE_AT.value_set(due_at) if due_at else NEXT_DUE_AT.value_unset(),
                OVERDUE.value_set(overdue),
            ]
        )

    async def _continue_as_new(self) -> None:
        # Carry the whole record; let running side effects and handlers
        # finish first so that nothing is lost at the boundary.
        await workflow.wait_condition(
            lambda: self._running == 0 and workflow.all_handlers_finished()
        )
        self._dispatch()
        await workflow.wait_condition(lambda: self._running == 0)
        record = self.episode.record
        workflow.continue_as_new(
            EpisodeInput(report=record.report, settings=record.settings, record=record)
        )
