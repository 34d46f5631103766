"""The bare baseline: what Temporal itself does with an episode's shape.

``BaselineWorkflow`` schedules the same number of no-op activities as an
episode does in its 24-hour phase, in the same batches (one batch per
workflow task), takes one Update, then waits on a long timer as an open
episode does. bench/run.py counts the batches from a real episode's history.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow

BASELINE_QUEUE = "bench-baseline"


@activity.defn
async def noop() -> None:
    """Does nothing: the engine's cost of one activity, and no more."""


@workflow.defn
class BaselineWorkflow:
    """Runs ``batches`` of no-op activities, then waits for thirty days."""

    def __init__(self) -> None:
        self.updates = 0

    @workflow.run
    async def run(self, batches: list[int]) -> int:
        for size in batches:
            await asyncio.gather(
                *(
                    workflow.execute_activity(
                        noop, start_to_close_timeout=timedelta(seconds=30)
                    )
                    for _ in range(size)
                )
            )
        await workflow.sleep(timedelta(days=30))
        return self.updates

    @workflow.update
    def touch(self, note: str) -> int:
        """The officer's Update, reduced to a counter."""
        self.updates += 1
        return self.updates
