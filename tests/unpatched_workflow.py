"""A release that changed the episode's command order without a patch.

It opens officer tasks before the case record, so a saved history's first
activity no longer matches: replay must fail.
"""

from __future__ import annotations

from temporalio import workflow

from workflows.missing_youth import EpisodeInput, EpisodeStatus, MissingYouthWorkflow


@workflow.defn(name="MissingYouthWorkflow")
class UnpatchedMissingYouthWorkflow(MissingYouthWorkflow):
    @workflow.run
    async def run(self, input: EpisodeInput) -> EpisodeStatus:
        self.runner.dispatch()
        return await super().run(input)
