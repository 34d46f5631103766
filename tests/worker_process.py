"""A worker in a process of its own, so that a test can SIGKILL it.

``python -m tests.worker_process --address HOST:PORT --task-queue Q
--case-record FILE`` runs the episode workflows and the product's
activities on the default adapters, like ``worker.py``, with two test
settings:

- Each activity announces on standard output that its side effect is done
  (``writes`` reads them back), and ``--hold`` holds it that many
  seconds more before it returns, so that a kill lands between a side
  effect and the report that it was done: the retry must find it there.
- Activities are scheduled with a start-to-close timeout of
  ``ACTIVITY_TIMEOUT`` instead of the product's minute, and the worker's
  sticky queue hands its workflow tasks on after ``STICKY_TIMEOUT``
  instead of the SDK's ten seconds, so that a killed worker's work is taken
  up in seconds. Both decide only when a retry comes, not whether a side
  effect is repeated.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.worker import (
    Interceptor,
    StartActivityInput,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)
from temporalio.workflow import ActivityHandle

from activities import AdapterConfig, ProtocolActivities
from activities.config import build_adapters
from logs import configure_logging
from worker import connect
from workflows import effects
from workflows.abuse_report import AbuseReportWorkflow
from workflows.effects import ChronoEntry, EpisodeOpened, Notice, Receipt, StepRequest
from workflows.missing_youth import MissingYouthWorkflow
from workflows.sandbox import workflow_runner

ACTIVITY_TIMEOUT = timedelta(seconds=5)
STICKY_TIMEOUT = timedelta(seconds=2)
WROTE = "wrote"


class WatchedActivities:
    """The product's activities, each announced and held once it is done.

    When an activity's side effect is done, ``wrote <activity> <idempotency
    key>`` is printed on standard output and the activity waits ``delay``
    before it returns, so that a test can tell which side effects a killed
    worker had made without reporting them.
    """

    def __init__(self, inner: ProtocolActivities, delay: float) -> None:
        self.inner = inner
        self.delay = delay

    async def _done(self, name: str, key: str) -> None:
        print(f"{WROTE} {name} {key}", flush=True)
        await asyncio.sleep(self.delay)

    @activity.defn(name=effects.OPEN_CASE_RECORD)
    async def open_case_record(self, opened: EpisodeOpened) -> None:
        await self.inner.open_case_record(opened)
        await self._done(effects.OPEN_CASE_RECORD, opened.idempotency_key)

    @activity.defn(name=effects.PERFORM_STEP)
    async def perform_step(self, request: StepRequest) -> Receipt:
        receipt = await self.inner.perform_step(request)
        await self._done(effects.PERFORM_STEP, request.idempotency_key)
        return receipt

    @activity.defn(name=effects.OPEN_OFFICER_TASK)
    async def open_officer_task(self, request: StepRequest) -> None:
        await self.inner.open_officer_task(request)
        await self._done(effects.OPEN_OFFICER_TASK, request.idempotency_key)

    @activity.defn(name=effects.SEND_NOTICE)
    async def send_notice(self, notice: Notice) -> None:
        await self.inner.send_notice(notice)
        await self._done(effects.SEND_NOTICE, notice.idempotency_key)

    @activity.defn(name=effects.RECORD_CHRONO)
    async def record_chrono(self, entry: ChronoEntry) -> None:
        await self.inner.record_chrono(entry)
        await self._done(effects.RECORD_CHRONO, entry.idempotency_key)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.open_case_record,
            self.perform_step,
            self.open_officer_task,
            self.send_notice,
            self.record_chrono,
        ]


def writes(log: Path) -> set[tuple[str, str]]:
    """The (activity, idempotency key) of each side effect a worker announced."""
    found = set()
    for line in log.read_text().splitlines():
        if line.startswith(f"{WROTE} "):
            _, name, key = line.split(" ", 2)
            found.add((name, key))
    return found


class _ShortTimeoutOutbound(WorkflowOutboundInterceptor):
    def start_activity(self, input: StartActivityInput) -> ActivityHandle[Any]:
        input.start_to_close_timeout = ACTIVITY_TIMEOUT
        return super().start_activity(input)


class _ShortTimeoutInbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_ShortTimeoutOutbound(outbound))


class ShortActivityTimeouts(Interceptor):
    """Schedules every activity with ``ACTIVITY_TIMEOUT``."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _ShortTimeoutInbound


async def run(args: argparse.Namespace) -> None:
    client = await connect(args.address, "default")
    adapters = build_adapters(AdapterConfig(case_record_path=args.case_record))
    activities = WatchedActivities(ProtocolActivities(adapters), args.hold)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with Worker(
        client,
        task_queue=args.task_queue,
        workflows=[MissingYouthWorkflow, AbuseReportWorkflow],
        activities=activities.all(),
        workflow_runner=workflow_runner(),
        interceptors=[ShortActivityTimeouts()],
        max_concurrent_activities=args.max_activities,
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
    ):
        print("worker_started", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--case-record", type=Path, required=True)
    parser.add_argument("--hold", type=float, default=0.0)
    parser.add_argument("--max-activities", type=int, default=100)
    args = parser.parse_args(argv)
    configure_logging(json=True, stream=sys.stderr)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
