"""A small caseload on the session's dev server, for the supervisors' views.

Episodes start as ``starter.py start`` starts them, from the example payload
with fresh case, officer and supervisor ids; every one is terminated when
the module that made it ends. ``open_caseload`` is one caseload per module: an
episode received two days ago (its 24-hour reports overdue), a fresh one
with a locate effort, one of another officer in the same unit, and one that
has ended; its worker runs for the whole module, so every status query is
answered.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError

from worker import build_worker
from workflows.missing_youth import EpisodeInput, EpisodeStatus, MissingYouthWorkflow
from workflows.payload import MissingReport, received_recently, validate_report
from workflows.search import CASE_ID, OFFICER_ID, TASK_QUEUE, workflow_id
from workflows.settings import CountySettings

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "payload.json"
AUTOMATIC = CountySettings(
    modes={
        step: "automatic"
        for step in (
            "law_enforcement_report",
            "warrant_request",
            "party_notifications",
            "ncmec_report",
            "ncic_entry_confirmed",
            "return_notifications",
        )
    }
)


def short_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@dataclass
class Caseload:
    """The episodes one test module started, and its staff ids."""

    client: Client
    officer: str = field(default_factory=lambda: short_id("po"))
    supervisor: str = field(default_factory=lambda: short_id("spo"))
    cases: list[str] = field(default_factory=list)

    async def start(
        self,
        ago: timedelta = timedelta(0),
        settings: CountySettings | None = None,
        officer: str | None = None,
    ) -> MissingReport:
        """Open an episode received ``ago``; its case id is new."""
        data: dict[str, Any] = json.loads(EXAMPLE.read_text())
        data = received_recently(data, ago)
        data["case_id"] = short_id("J-27")
        data["officer"]["id"] = officer or self.officer
        data["supervisor"]["id"] = self.supervisor
        report = validate_report(data, datetime.now(UTC))
        self.cases.append(report.case_id)
        await self.client.start_workflow(
            MissingYouthWorkflow.run,
            EpisodeInput(report=report, settings=settings or CountySettings()),
            id=workflow_id(report.case_id),
            task_queue=TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CASE_ID, report.case_id),
                    SearchAttributePair(OFFICER_ID, report.officer.id),
                ]
            ),
        )
        return report

    async def act(self, case_id: str, update: Any, action: dict[str, Any]) -> Any:
        handle = self.client.get_workflow_handle(workflow_id(case_id))
        return await handle.execute_update(update, action)

    async def settled(self, case_id: str) -> EpisodeStatus:
        """The status once every side effect decided so far was carried out."""
        handle = self.client.get_workflow_handle(workflow_id(case_id))
        async with asyncio.timeout(20):
            while True:
                status: EpisodeStatus = await handle.query(MissingYouthWorkflow.status)
                if status.side_effects_running == 0:
                    return status
                await asyncio.sleep(0.1)

    async def end(self) -> None:
        for case_id in self.cases:
            try:
                await self.client.get_workflow_handle(workflow_id(case_id)).terminate()
            except RPCError:
                pass  # it has ended already


@pytest.fixture(scope="module")
def caseload_record(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("overview") / "case_record"


@pytest.fixture(scope="module")
async def open_caseload(dev_env, caseload_record) -> AsyncIterator[dict[str, Any]]:
    """The module's caseload, its worker running until the module ends."""
    episodes = Caseload(dev_env.client)
    async with build_worker(dev_env.client, caseload_record):
        late = await episodes.start(ago=timedelta(days=2))
        fresh = await episodes.start()
        other = await episodes.start(officer=short_id("po"))
        ended = await episodes.start(ago=timedelta(minutes=10), settings=AUTOMATIC)
        await episodes.act(
            fresh.case_id,
            MissingYouthWorkflow.record_effort,
            {"kind": "physical_check", "notes": "checked a fictional park"},
        )
        await episodes.settled(ended.case_id)
        await episodes.act(
            ended.case_id,
            MissingYouthWorkflow.confirm_located,
            {"place": "a fictional station", "found_by": "a fictional deputy"},
        )
        await episodes.act(
            ended.case_id,
            MissingYouthWorkflow.record_debrief,
            {
                "exploited_while_absent": "no",
                "immediate_risk": False,
                "cft_applies": False,
            },
        )
        statuses = {
            report.case_id: await episodes.settled(report.case_id)
            for report in (late, fresh, other, ended)
        }
        yield {
            "episodes": episodes,
            "late": late,
            "fresh": fresh,
            "other": other,
            "ended": ended,
            "statuses": statuses,
        }
    await episodes.end()
