"""What every protocol workflow does around its rules.

It validates actions into refusals an Update caller can read, carries out
the side effects the rules queued, sleeps until the next clock, and keeps
the search attributes current. The rules themselves are a ``StepTracker``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    WorkflowAlreadyStartedError,
)
from temporalio.workflow import ParentClosePolicy

from workflows.actions import RecordAttempt
from workflows.disclosure import DisclosureInput, disclosure_id_for
from workflows.effects import (
    OPEN_OFFICER_TASK,
    PERFORM_STEP,
    RECORD_CHRONO,
    SEND_NOTICE,
    Receipt,
    StepRequest,
)
from workflows.payload import Strict
from workflows.records import (
    Effect,
    OpenOfficerTask,
    PerformStep,
    SendNotice,
    StartDisclosure,
    WriteChrono,
)
from workflows.refusal import Refused, explain
from workflows.tracker import StepTracker, to_the_second

# A clock acts two seconds after its instant, so that an action at the same
# instant is applied first (PROTOCOL.md: "the event comes first") even when
# it takes a moment to reach the workflow. What the clock records is judged
# at its instant, never at the moment it woke.
CLOCK_GRACE = timedelta(seconds=2)
# A time "in the future" is one later than the workflow's clock by more than
# the difference two machines' clocks may reasonably have.
CLOCK_SKEW = timedelta(minutes=1)
# Integrations fail for hours; a step's clock and escalation run on without
# them, and the side effect happens once the adapter recovers.
ADAPTER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)
ADAPTER_TIMEOUT = timedelta(seconds=60)

ActionT = TypeVar("ActionT", bound=Strict)


def now_to_the_second() -> datetime:
    """The workflow's time as people and adapters act: to the second.

    Dropping the fraction keeps an action sent at 14:10 from reading as
    14:10:00.002 in the record. Clocks use the exact time, so a wake-up
    always passes its instant.
    """
    return to_the_second(workflow.now())


def answered_at(effect: PerformStep) -> datetime:
    """When an automatic step counts as done: the moment it was asked, if
    the adapter answered within the clock's grace (so a replay gives the
    same times however busy the machine), else when the answer came."""
    now = now_to_the_second()
    asked = effect.requested_at
    if asked is not None and now - asked <= CLOCK_GRACE:
        return asked
    return now


def refusal(error: Exception) -> ApplicationError:
    """A refused action as the error an Update caller sees."""
    message = explain(error) if isinstance(error, ValidationError) else str(error)
    return ApplicationError(message, type="Refused", non_retryable=True)


def parse(model: type[ActionT], action: Any) -> ActionT:
    """Validate an action's input; times may not be in the future."""
    bound = workflow.now() + CLOCK_SKEW
    try:
        return model.model_validate(action, context={"now": bound})
    except ValidationError as error:
        raise refusal(error) from None


def check(
    model: type[ActionT], action: Any, rule: Callable[[ActionT, datetime], Any]
) -> None:
    """An Update validator: refuse before anything is written to history."""
    parsed = parse(model, action)
    try:
        rule(parsed, now_to_the_second())
    except Refused as error:
        raise refusal(error) from None


class EffectRunner:
    """Carries out a tracker's side effects and wakes it for its clocks."""

    def __init__(self, tracker: StepTracker) -> None:
        self.tracker = tracker
        self.changed = True
        # Activities in flight, and abuse reports started and not yet done.
        self.running = 0
        self.children: set[str] = set()

    @property
    def idle(self) -> bool:
        """No side effect decided and not yet done (an abuse report it
        started runs on its own clocks, and is not counted)."""
        return self.running == 0 and not self.tracker.record.outbox

    def apply(
        self,
        model: type[ActionT],
        action: Any,
        rule: Callable[[ActionT, datetime], Any],
    ) -> Any:
        """Apply an accepted action; a refusal fails only the Update."""
        parsed = parse(model, action)
        try:
            result = rule(parsed, now_to_the_second())
        except Refused as error:
            raise refusal(error) from None
        self.changed = True
        return result

    def dispatch(self) -> None:
        """Start an activity for each side effect decided since last time."""
        outbox = self.tracker.record.outbox
        while outbox:
            effect = outbox.pop(0)
            self.running += 1
            asyncio.create_task(self._carry_out(effect))

    async def sleep_until_next_clock(self) -> None:
        """Wait for an action, a finished side effect, or the next clock."""
        self.changed = False
        wake = self.tracker.next_wakeup()
        timeout = None
        if wake is not None:
            timeout = max(wake - workflow.now(), timedelta(0)) + CLOCK_GRACE
        try:
            await workflow.wait_condition(lambda: self.changed, timeout=timeout)
        except TimeoutError:
            pass
        self.tracker.advance(workflow.now())

    async def drain(self) -> None:
        """Let activities in flight and handlers finish.

        Side effects decided but not yet started stay in the record's
        outbox, which continue-as-new carries to the next run.
        """
        await workflow.wait_condition(
            lambda: self.running == 0 and workflow.all_handlers_finished()
        )

    async def finish(self) -> None:
        """Before the workflow ends: side effects, abuse reports, handlers."""
        await workflow.wait_condition(
            lambda: self.idle and not self.children and workflow.all_handlers_finished()
        )

    async def _carry_out(self, effect: Effect) -> None:
        try:
            if isinstance(effect, PerformStep):
                receipt = await activity(PERFORM_STEP, effect.request, Receipt)
                self.tracker.complete_automatically(
                    effect.request, receipt, answered_at(effect)
                )
            elif isinstance(effect, OpenOfficerTask):
                await activity(OPEN_OFFICER_TASK, effect.request)
            elif isinstance(effect, SendNotice):
                await activity(SEND_NOTICE, effect.notice)
            elif isinstance(effect, WriteChrono):
                await activity(RECORD_CHRONO, effect.entry)
            else:
                await self._start_disclosure(effect)
        except (
            ActivityError,
            ChildWorkflowError,
            WorkflowAlreadyStartedError,
        ) as error:
            # Only a non-retryable failure gets here; the step's clock and
            # escalation run on, and the failure is visible in the status.
            cause = getattr(error, "cause", None) or error
            self._failed(effect, cause)
        finally:
            self.running -= 1
            self.changed = True

    def _failed(self, effect: Effect, cause: BaseException) -> None:
        kind = getattr(cause, "type", None) or type(cause).__name__
        where = ""
        if isinstance(effect, PerformStep):
            request = effect.request
            where = f" {request.step.value}" + (
                f" {request.item}" if request.item else ""
            )
            if kind == "RefusedByRecipient" and workflow.patched(
                "refusal-is-an-attempt-2026-12"
            ):
                self._record_refusal(request, cause)
        self.tracker.record.failed_effects.append(f"{effect.kind}{where}: {kind}")

    def _record_refusal(self, request: StepRequest, cause: BaseException) -> None:
        # A bounce or a refusal is an attempt, never a completion: the step
        # stays open, escalates at due, and the officer sees why.
        details = getattr(cause, "details", None) or [{}]
        method = details[0].get("method", "electronic") if details else "electronic"
        attempt = RecordAttempt(
            step=request.step,
            item=request.item,
            method=method,
            notes=str(getattr(cause, "message", "refused by the recipient"))[:2000],
            by="adapter",
        )
        try:
            self.tracker.record_attempt(attempt, now_to_the_second())
        except Refused:
            pass  # settled or ended meanwhile: nothing left to try

    async def _start_disclosure(self, effect: StartDisclosure) -> None:
        # By name: the disclosure's workflow module imports this one. The
        # episode's workflow waits for the report it started, so the duty is
        # never left behind when the episode ends.
        child_id = disclosure_id_for(effect.disclosure)
        self.children.add(child_id)
        self.running -= 1  # its own clocks, not an in-flight side effect
        try:
            await workflow.execute_child_workflow(
                "AbuseReportWorkflow",
                DisclosureInput(
                    disclosure=effect.disclosure, settings=self.tracker.settings
                ),
                id=child_id,
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        finally:
            self.running += 1
            self.children.discard(child_id)


async def activity(
    name: str, argument: BaseModel, result_type: type | None = None
) -> Any:
    """Run one side effect, retried until its adapter answers.

    No ``summary``: it is one more payload per activity for the codec to
    seal and the SDK to visit (docs/benchmarks.md), and sealed it showed
    nothing in the Web UI without the codec server anyway; the step is in
    the status and the chrono.
    """
    return await workflow.execute_activity(
        name,
        argument,
        result_type=result_type,
        start_to_close_timeout=ADAPTER_TIMEOUT,
        retry_policy=ADAPTER_RETRY,
    )
