"""A catalogue of malformed actions: each refused, naming the field and the
rule, changing nothing, and never failing a workflow task.

Runs on the time-skipping server against one open episode; the history is
read at the end for any workflow task that failed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import AdapterConfig, build_activities
from workflows.abuse_report import AbuseReportWorkflow
from workflows.missing_youth import EpisodeInput, MissingYouthWorkflow
from workflows.payload import validate_report
from workflows.sandbox import workflow_runner
from workflows.settings import CountySettings

SCENARIO = Path(__file__).parent / "scenarios" / "refused-actions.json"
LONG = "x" * 5000
MEGABYTES = "y" * (3 * 1024 * 1024)

# (update, input, a word the refusal must contain). Times are filled in
# relative to the server's clock where they say FUTURE or BEFORE.
CATALOGUE: list[tuple[str, Any, str]] = [
    ("complete_step", {"step": "arrest", "method": "phone"}, "step"),
    ("complete_step", {"step": "law_enforcement_report", "method": "fax"}, "method"),
    ("complete_step", {"step": "law_enforcement_report"}, "method"),
    ("complete_step", {"step": "party_notifications", "method": "phone"}, "item"),
    (
        "complete_step",
        {"step": "party_notifications", "method": "phone", "item": "p9"},
        "item",
    ),
    (
        "complete_step",
        {"step": "party_notifications", "method": "phone", "item": "p2"},
        "do not notify",
    ),
    (
        "complete_step",
        {"step": "ncmec_report", "method": "phone", "item": "p1"},
        "item",
    ),
    ("complete_step", {"step": "debrief", "method": "in_person"}, "own action"),
    ("complete_step", {"step": "cft_meeting", "method": "in_person"}, "has not opened"),
    (
        "complete_step",
        {"step": "ncmec_report", "method": "phone", "performed_at": "FUTURE"},
        "future",
    ),
    (
        "complete_step",
        {"step": "ncmec_report", "method": "phone", "performed_at": "BEFORE"},
        "received_at",
    ),
    (
        "complete_step",
        {
            "step": "ncmec_report",
            "method": "phone",
            "performed_at": "2027-06-10T09:00:00",
        },
        "performed_at",
    ),
    (
        "complete_step",
        {"step": "ncmec_report", "method": "phone", "performed_at": 12345},
        "performed_at",
    ),
    (
        "complete_step",
        {"step": "ncmec_report", "method": "phone", "reference": ""},
        "reference",
    ),
    (
        "complete_step",
        {"step": "ncmec_report", "method": "phone", "reference": LONG},
        "reference",
    ),
    ("complete_step", {"step": "ncmec_report", "method": "phone", "by": ""}, "by"),
    ("complete_step", {"step": "ncmec_report", "method": "phone", "badge": 7}, "badge"),
    ("complete_step", {"step": ["ncmec_report"], "method": "phone"}, "step"),
    ("complete_step", {"step": "ncmec_report\u202e", "method": "phone"}, "step"),
    ("complete_step", "ncmec_report", "dictionary"),
    ("complete_step", None, "dictionary"),
    ("complete_step", [1, 2, 3], "dictionary"),
    ("record_attempt", {"step": "debrief", "method": "phone"}, "has not opened"),
    (
        "record_attempt",
        {"step": "ncmec_report", "method": "phone", "notes": LONG},
        "notes",
    ),
    (
        "record_attempt",
        {"step": "ncmec_report", "method": "phone", "notes": MEGABYTES},
        "notes",
    ),
    ("record_effort", {"kind": "prayer"}, "kind"),
    ("record_effort", {"kind": "other"}, "notes"),
    ("record_effort", {"kind": "physical_check", "notes": "   "}, "notes"),
    (
        "record_effort",
        {"kind": "physical_check", "performed_at": "BEFORE"},
        "received_at",
    ),
    ("record_effort", {"kind": "physical_check", "performed_at": "FUTURE"}, "future"),
    (
        "record_debrief",
        {"exploited_while_absent": "no", "immediate_risk": False, "cft_applies": False},
        "not been located",
    ),
    (
        "record_debrief",
        {
            "exploited_while_absent": "maybe",
            "immediate_risk": False,
            "cft_applies": False,
        },
        "exploited_while_absent",
    ),
    ("confirm_located", {"place": "", "found_by": "x"}, "place"),
    (
        "confirm_located",
        {"place": "park", "found_by": "x", "located_at": "BEFORE"},
        "received_at",
    ),
    ("close", {"reason": "erroneous_report"}, "by"),
    ("close", {"reason": "whim", "by": "spo-9"}, "reason"),
    ("close", {"reason": "other", "by": "po-117"}, "supervisor"),
]


@pytest.fixture
async def episode(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> AsyncIterator[WorkflowHandle]:
    """One open episode, received an hour ago on the server's clock."""
    client = time_skipping_env.client
    now = await time_skipping_env.get_current_time()
    data = json.loads(SCENARIO.read_text())["report"]
    data["received_at"] = (now - timedelta(hours=1)).isoformat()
    data["last_seen"]["at"] = data["received_at"]
    data["case_id"] = "BAD-INPUT"
    report = validate_report(data, now)
    activities = build_activities(AdapterConfig(case_record_path=tmp_path / "r.db"))
    async with Worker(
        client,
        task_queue="bad-input",
        workflows=[MissingYouthWorkflow, AbuseReportWorkflow],
        activities=activities,
        workflow_runner=workflow_runner(),
    ):
        handle = await client.start_workflow(
            MissingYouthWorkflow.run,
            EpisodeInput(report=report, settings=CountySettings()),
            id="bad-input-episode",
            task_queue="bad-input",
        )
        yield handle
        await handle.terminate()


async def settled(episode: WorkflowHandle) -> Any:
    """The status once the automatic documentation step has been recorded."""
    for _ in range(100):
        status = await episode.query(MissingYouthWorkflow.status)
        documented = status.record.steps.get("missing_documentation")
        if documented and documented.state == "done" and not status.record.outbox:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError("the episode never settled")


def times(value: Any, received: str, future: str) -> Any:
    if isinstance(value, dict):
        return {k: times(v, received, future) for k, v in value.items()}
    return (
        {"BEFORE": received, "FUTURE": future}.get(value, value)
        if isinstance(value, str)
        else value
    )


async def test_malformed_actions_are_refused_and_change_nothing(
    time_skipping_env: WorkflowEnvironment, episode: WorkflowHandle
) -> None:
    before = await settled(episode)
    received = before.record.received_at
    early = (received - timedelta(days=1)).isoformat()
    future = (before.now + timedelta(days=2)).isoformat()

    refusals = []
    for update, action, word in CATALOGUE:
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await episode.execute_update(update, times(action, early, future))
        message = refused.value.cause.message  # type: ignore[union-attr]
        refusals.append((update, word, message))
    after = await episode.query(MissingYouthWorkflow.status)
    history = await episode.fetch_history()

    assert len(CATALOGUE) >= 30
    for update, word, message in refusals:
        assert word.lower() in message.lower(), (update, message)
        assert LONG not in message and MEGABYTES[:100] not in message
    ignored = {"now", "next_due_at", "next_due_step", "side_effects_running"}
    assert after.model_dump(exclude=ignored) == before.model_dump(exclude=ignored)
    failed = [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]
    assert failed == []


async def test_bad_located_signal_is_recorded_as_refused_and_changes_nothing(
    episode: WorkflowHandle,
) -> None:
    before = await settled(episode)

    for bad in ({"place": "", "found_by": "x"}, "found", None, {"place": "park"}):
        await episode.signal(MissingYouthWorkflow.located, bad)
    after = await episode.query(MissingYouthWorkflow.status)
    history = await episode.fetch_history()

    assert after.record.located is None
    assert after.phase == before.phase
    assert after.record.steps == before.record.steps
    assert after.record.sequence == before.record.sequence + 4
    failed = [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]
    assert failed == []
