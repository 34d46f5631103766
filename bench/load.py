"""The load: episodes and baseline workflows started, updated and counted.

``Bench`` starts workflows at most ``CONCURRENCY`` calls at a time, sends
each one Update right after its start, and waits until the activities they
ask for are done. Each worker runs in a ``WorkerProcess`` of its own
(bench/worker_process.py), which counts them with ``ActivityCounter`` and
reports the count to this one.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio import client as temporal_client
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from bench.baseline import BaselineWorkflow
from bench.measures import rss_mib
from tests.helpers import ALL_AUTOMATIC, missing_report
from workflows.missing_youth import EpisodeInput, MissingYouthWorkflow
from workflows.search import TASK_QUEUE, workflow_id
from workflows.settings import CountySettings

ROOT = Path(__file__).resolve().parent.parent
BASELINE_QUEUE = "bench-baseline"
# Starts and Updates in flight at once, as a burst of officers and a case
# system would send them.
CONCURRENCY = 64


class Count:
    """Activities finished so far, and a wait for a number of them."""

    def __init__(self) -> None:
        self.done = 0
        self.changed = asyncio.Event()
        self.broken = ""
        self.gone = asyncio.Event()

    def add(self, finished: int) -> None:
        self.done += finished
        self.changed.set()

    def fail(self, why: str) -> None:
        """No more will finish: a worker has gone."""
        self.broken = why
        self.changed.set()
        self.gone.set()

    async def unless_gone(self, *calls: Awaitable[None]) -> None:
        """Await ``calls``; an Update waits for ever on a dead worker, so
        stop them all if a worker goes.

        Raises:
            RuntimeError: a worker went away.
        """
        work = asyncio.gather(*calls)
        gone = asyncio.ensure_future(self.gone.wait())
        try:
            await asyncio.wait([work, gone], return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            if not work.done():
                # Let the calls finish cancelling before the run stops.
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
        if work.cancelled():
            raise RuntimeError(self.broken)
        work.result()

    async def reach(self, target: int, timeout: float) -> bool:
        """Wait until ``target`` activities are done; false on timeout.

        Raises:
            RuntimeError: a worker went away, so they never will be.
        """
        deadline = time.monotonic() + timeout
        while self.done < target:
            if self.broken:
                raise RuntimeError(self.broken)
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self.changed.wait(), min(left, 1.0))
            except TimeoutError:
                pass
        return True


class ActivityCounter(Count, temporal_client.Interceptor, Interceptor):
    """Counts the activities that this process's workers finish; given to
    the client, it reaches the workers built on it."""

    def intercept_activity(
        self, next: ActivityInboundInterceptor
    ) -> ActivityInboundInterceptor:
        counter = self

        class Counting(ActivityInboundInterceptor):
            async def execute_activity(self, input: ExecuteActivityInput) -> Any:
                try:
                    return await super().execute_activity(input)
                finally:
                    counter.add(1)

        return Counting(next)


class WorkerProcess:
    """A bench/worker_process.py child: one worker, its count, its memory."""

    def __init__(self, kind: str, process: asyncio.subprocess.Process, count: Count):
        self.kind = kind
        self.process = process
        self.count = count
        self.stopping = False
        self.cache = 0
        self.figures: dict[str, Any] = {}
        self._said = 0
        self._ready = asyncio.get_running_loop().create_future()
        self._reading = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls, kind: str, address: str, record: Path, count: Count
    ) -> WorkerProcess:
        """Start the ``kind`` worker and wait until it polls."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.worker_process",
            kind,
            address,
            str(record),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            # Its figures come as one line, longer than the default 64 KiB
            # when the SDK warned of many kinds of things.
            limit=2**24,
            # Ctrl-C reaches the script, which stops the workers in order.
            start_new_session=True,
        )
        child = cls(kind, process, count)
        await child._ready
        return child

    async def _read(self) -> None:
        assert self.process.stdout
        async for line in self.process.stdout:
            # Read to the end whatever comes: a reader that stops leaves
            # the pipe to fill, and the worker blocks on its next line.
            try:
                self._heard(line.decode().strip())
            except ValueError as error:
                self.count.fail(f"the {self.kind} worker said {line[:80]!r}: {error}")
        ended = await self.process.wait()
        why = f"the {self.kind} worker process ended with status {ended}"
        if not self._ready.done():
            self._ready.set_exception(RuntimeError(f"{why} before polling"))
        elif not self.stopping:
            self.count.fail(why)

    def _heard(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        if word == "ready":
            self.cache = int(rest)
            self._ready.set_result(None)
        elif word == "done":
            self.count.add(int(rest) - self._said)
            self._said = int(rest)
        elif word == "figures":
            self.figures = json.loads(rest)
        else:
            raise ValueError("not a line of bench/worker_process.py's")

    def rss_mib(self) -> float:
        """The worker process's resident memory.

        Raises:
            RuntimeError: the process has ended.
        """
        try:
            return rss_mib(self.process.pid)
        except FileNotFoundError:
            raise RuntimeError(f"the {self.kind} worker process has ended") from None

    async def stop(self) -> dict[str, Any]:
        """Close its input, wait for it to stop; its GC and SDK figures."""
        assert self.process.stdin
        self.stopping = True
        self.process.stdin.close()
        await self.process.wait()
        await self._reading
        return self.figures


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
