"""Bounded history: an episode continues as new without losing an action.

The dev server is told to suggest continue-as-new after 100 history events,
so a few hundred locate efforts cross several runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import WorkflowHandle

from tests.helpers import free_port
from worker import build_worker, start_dev_server
from workflows.missing_youth import EpisodeInput, MissingYouthWorkflow
from workflows.payload import validate_report
from workflows.search import TASK_QUEUE, workflow_id
from workflows.settings import CountySettings

SCENARIO = Path(__file__).parent / "scenarios" / "five-years-monthly-efforts.json"
EFFORTS = 240


async def test_efforts_across_continue_as_new_are_all_recorded(tmp_path: Path) -> None:
    env = await start_dev_server(
        tmp_path / "server",
        port=free_port(),
        ui=False,
        extra_args=[
            "--dynamic-config-value",
            "limit.historyCount.suggestContinueAsNew=100",
        ],
    )
    scenario = json.loads(SCENARIO.read_text())
    received = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    data = dict(scenario["report"], received_at=received.isoformat())
    report = validate_report(data, None)
    settings = CountySettings(modes=scenario["modes"])
    async with env, build_worker(env.client, tmp_path / "record.sqlite3"):
        handle: WorkflowHandle = await env.client.start_workflow(
            MissingYouthWorkflow.run,
            EpisodeInput(report=report, settings=settings),
            id=workflow_id(report.case_id),
            task_queue=TASK_QUEUE,
        )
        first_run = handle.first_execution_run_id or handle.result_run_id

        for number in range(EFFORTS):
            performed = received + timedelta(minutes=number + 1)
            await handle.execute_update(
                MissingYouthWorkflow.record_effort,
                {"kind": "followed_lead", "performed_at": performed.isoformat()},
            )
        status = await handle.query(MissingYouthWorkflow.status)
        latest = env.client.get_workflow_handle(workflow_id(report.case_id))
        current_run = (await latest.describe()).run_id

    assert len(status.record.efforts) == EFFORTS
    assert len({effort.performed_at for effort in status.record.efforts}) == EFFORTS
    assert current_run != first_run
    assert status.phase == "searching"
