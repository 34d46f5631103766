"""The bench's workers, seen from bench/run.py: their processes and counts.

Each worker runs in a ``WorkerProcess`` of its own (bench/worker_process.py),
counts the activities it finishes with ``ActivityCounter``, and reports the
count, which this side adds up in one ``Count``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from temporalio import client as temporal_client
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from bench.measures import rss_mib

ROOT = Path(__file__).resolve().parent.parent


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
