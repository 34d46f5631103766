"""The worker's plumbing: the dev server it starts and the logs it writes."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime

import pytest
import structlog
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.worker import Worker

from logs import REDACTED, configure_logging, drop_personal_fields
from tests.helpers import (
    custom_search_attributes,
    free_port,
    indexed_value_types,
    wait_for_event,
)
from tests.trivial_workflow import WaitWorkflow
from worker import bin_path, start_dev_server
from workflows.search import CASE_ID, SEARCH_ATTRIBUTES


async def test_dev_server_runs_from_the_venv_binary_with_search_attributes(
    dev_env,
):
    # The SDK's download cache is elsewhere; the binary is the venv's own.
    assert bin_path("temporal").is_relative_to(sys.prefix)

    registered = await custom_search_attributes(dev_env.client)

    assert indexed_value_types(SEARCH_ATTRIBUTES).items() <= registered.items()


async def test_dev_server_store_is_in_write_ahead_log_mode(tmp_path):
    # Twice the workflows per second of the default journal (docs/benchmarks.md).
    env = await start_dev_server(tmp_path, port=free_port(), ui=False)
    await env.shutdown()

    with closing(sqlite3.connect(tmp_path / "temporal.sqlite")) as store:
        journal = store.execute("PRAGMA journal_mode").fetchone()[0]

    assert journal == "wal"


async def test_dev_server_keeps_an_open_workflow_across_a_restart(tmp_path):
    workflow_id = f"wait-{uuid.uuid4()}"
    task_queue = f"restart-{uuid.uuid4()}"

    env = await start_dev_server(tmp_path, port=free_port(), ui=False)
    try:
        async with Worker(env.client, task_queue=task_queue, workflows=[WaitWorkflow]):
            handle = await env.client.start_workflow(
                WaitWorkflow.run,
                30,
                id=workflow_id,
                task_queue=task_queue,
                search_attributes=TypedSearchAttributes(
                    [SearchAttributePair(CASE_ID, "case-restart")]
                ),
            )
            await wait_for_event(handle, EventType.EVENT_TYPE_TIMER_STARTED)
    finally:
        await env.shutdown()

    # Same database file: registering the attributes again must not fail.
    env = await start_dev_server(tmp_path, port=free_port(), ui=False)
    try:
        description = await env.client.get_workflow_handle(workflow_id).describe()
        registered = await custom_search_attributes(env.client)
    finally:
        await env.shutdown()

    assert description.status == WorkflowExecutionStatus.RUNNING
    assert description.typed_search_attributes.get(CASE_ID) == "case-restart"
    assert indexed_value_types(SEARCH_ATTRIBUTES).items() <= registered.items()


def test_personal_fields_are_redacted_and_ids_kept():
    event = drop_personal_fields(
        None,
        "info",
        {
            "event": "episode_opened",
            "case_id": "C-1",
            "first_name": "Ana",
            "date_of_birth": "2010-02-03",
            "detail": {"reason": "court order", "step": "debrief"},
        },
    )

    assert event == {
        "event": "episode_opened",
        "case_id": "C-1",
        "first_name": REDACTED,
        "date_of_birth": REDACTED,
        "detail": {"reason": REDACTED, "step": "debrief"},
    }


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Logging configured into a buffer for one test, then put back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    output = io.StringIO()
    configure_logging(json=True, stream=output)
    yield output
    structlog.reset_defaults()
    root.handlers[:], root.level = handlers, level


def test_log_lines_carry_no_personal_data(log_output):
    structlog.get_logger("test").info(
        "step_overdue", case_id="C-1", step="debrief", address="1 Main St"
    )
    logging.getLogger("temporalio.activity").warning(
        "notice_sent", extra={"email": "parent@example.org", "case_id": "C-1"}
    )

    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]

    assert [line["event"] for line in lines] == ["step_overdue", "notice_sent"]
    assert lines[0]["address"] == REDACTED
    assert lines[1]["email"] == REDACTED
    assert all(line["case_id"] == "C-1" for line in lines)
    assert "1 Main St" not in str(lines) and "example.org" not in str(lines)
    datetime.fromisoformat(lines[0]["timestamp"])
