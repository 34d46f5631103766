"""A workflow that only waits, to test the server rather than the protocol."""

from datetime import timedelta

from temporalio import workflow


@workflow.defn
class WaitWorkflow:
    """Sleeps on one long durable timer, then returns."""

    @workflow.run
    async def run(self, days: int) -> str:
        await workflow.sleep(timedelta(days=days))
        return "woke"
