"""The load: episodes and baseline workflows started, updated and counted.

``Bench`` starts workflows at most ``CONCURRENCY`` calls at a time, sends
each one Update right after its start, and waits until the activities they
ask for are done, as the workers' ``Count`` (bench/workers.py) adds them up.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.baseline import BASELINE_QUEUE, BaselineWorkflow
from bench.workers import Count
from tests.helpers import ALL_AUTOMATIC, missing_report
from workflows.missing_youth import EpisodeInput, MissingYouthWorkflow
from workflows.search import TASK_QUEUE, workflow_id
from workflows.settings import CountySettings

# Starts and Updates in flight at once, as a burst of officers and a case
# system would send them.
CONCURRENCY = 64


@dataclass
class Run:
    """One size of one kind: throughput and the latencies of its calls."""

    kind: str
    size: int
    seconds: float = 0.0
    starts: list[float] = field(default_factory=list)
    updates: list[float] = field(default_factory=list)
    complete: bool = True

    @property
    def per_second(self) -> float:
        return self.size / self.seconds

    @staticmethod
    def percentile(values: list[float], share: float) -> float:
        """The value below which ``share`` of ``values`` lie, in ms."""
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


class Bench:
    """Starts, updates and counts the workflows of one run."""

    def __init__(self, client: Client, plain: Client, counter: Count):
        self.client = client
        self.plain = plain
        self.counter = counter
        self.batches: list[int] = []
        self.per_episode = 0
        self.open_episodes = 0
        self.received = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)

    async def start_episode(self, case_id: str, run: Run | None) -> None:
        report = missing_report(case_id, self.received)
        started = time.perf_counter()
        handle = await self.client.start_workflow(
            MissingYouthWorkflow.run,
            EpisodeInput(report=report, settings=CountySettings(modes=ALL_AUTOMATIC)),
            id=workflow_id(case_id),
            task_queue=TASK_QUEUE,
        )
        if run:
            run.starts.append(time.perf_counter() - started)
        performed = self.received + timedelta(minutes=30)
        started = time.perf_counter()
        await handle.execute_update(
            MissingYouthWorkflow.record_effort,
            {"kind": "physical_check", "performed_at": performed.isoformat()},
        )
        if run:
            run.updates.append(time.perf_counter() - started)
        self.open_episodes += 1

    async def start_baseline(self, number: str, run: Run) -> None:
        started = time.perf_counter()
        handle = await self.plain.start_workflow(
            BaselineWorkflow.run,
            self.batches,
            id=f"baseline-{number}",
            task_queue=BASELINE_QUEUE,
        )
        run.starts.append(time.perf_counter() - started)
        started = time.perf_counter()
        await handle.execute_update(BaselineWorkflow.touch, "effort")
        run.updates.append(time.perf_counter() - started)

    async def probe(self) -> str:
        """One episode alone: its activities, in batches, from its history."""
        case_id = "B-PROBE-1"
        before = self.counter.done
        await self.counter.unless_gone(self.start_episode(case_id, None))
        handle = self.client.get_workflow_handle(workflow_id(case_id))
        # Done when no activity has finished for two seconds and none is pending.
        while True:
            seen = self.counter.done
            await asyncio.sleep(2)
            if self.counter.broken:
                raise RuntimeError(self.counter.broken)
            pending = (await handle.describe()).raw_description.pending_activities
            if self.counter.done == seen and not pending:
                break
        history = await handle.fetch_history()
        batches: dict[int, int] = defaultdict(int)
        task = 0
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                task = event.event_id
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                batches[task] += 1
        self.batches = [batches[key] for key in sorted(batches)]
        self.per_episode = sum(self.batches)
        if self.counter.done - before != self.per_episode:
            raise RuntimeError(
                f"the probe episode ran {self.counter.done - before} activities "
                f"but its history schedules {self.per_episode}"
            )
        return case_id

    async def drive(self, kind: str, size: int, timeout: float) -> Run:
        """Start ``size`` workflows, Update each, wait for every activity."""
        run = Run(kind, size)
        gate = asyncio.Semaphore(CONCURRENCY)
        target = self.counter.done + size * self.per_episode

        async def one(number: int) -> None:
            async with gate:
                if kind == "episode":
                    await self.start_episode(f"B-{size}-{number}", run)
                else:
                    await self.start_baseline(f"{size}-{number}", run)

        started = time.perf_counter()
        await self.counter.unless_gone(*(one(n) for n in range(size)))
        run.complete = await self.counter.reach(target, timeout)
        run.seconds = time.perf_counter() - started
        print(
            f"{kind} x{size}: {run.per_second:.1f}/s, start p50 "
            f"{Run.percentile(run.starts, 0.5):.0f} ms, update p50 "
            f"{Run.percentile(run.updates, 0.5):.0f} ms"
            + ("" if run.complete else " (timed out)"),
            flush=True,
        )
        return run

    async def open_up_to(self, total: int, timeout: float) -> None:
        """Open episodes until ``total`` are open, all through their phase."""
        more = total - self.open_episodes
        if more <= 0:
            return
        gate = asyncio.Semaphore(CONCURRENCY)
        target = self.counter.done + more * self.per_episode
        first = self.open_episodes

        async def one(number: int) -> None:
            async with gate:
                await self.start_episode(f"B-OPEN-{number}", None)

        await self.counter.unless_gone(*(one(n) for n in range(first, first + more)))
        await self.counter.reach(target, timeout)
