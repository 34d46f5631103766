"""Keys on a real server: rotation both ways, and bad keys stop at once.

A key rotated out of the current place still opens the episodes it sealed;
a process that lacks the new key says so in one line; a worker that meets a
payload it cannot open stops instead of failing the same task for ever, and
the episode waits, unharmed, for a worker that holds the key. A missing,
short or malformed key stops the worker and the command line before they
touch a server.
"""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import structlog
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

import starter
import worker
from codec import KeyRing, UnreadablePayload, data_converter, new_key_line, parse_keys
from logs import configure_logging
from tests.helpers import free_port, wait_for_event
from tests.test_privacy import report
from workflows.missing_youth import EpisodeInput, MissingYouthWorkflow
from workflows.payload import validate_report
from workflows.search import workflow_id
from workflows.settings import CountySettings

OLD = new_key_line("k-2026")
NEW = new_key_line("k-2027")
BEFORE = parse_keys(OLD, "test")
ROTATED = parse_keys(f"{NEW}\n{OLD}", "test")


def client_with(
    env: WorkflowEnvironment, keys: KeyRing, watch: worker.PayloadWatch | None = None
) -> Client:
    """A client of the session's server that holds only ``keys``."""
    return Client(
        env.client.service_client,
        namespace=env.client.namespace,
        data_converter=data_converter(keys, on_unreadable=watch),
    )


async def start_episode(client: Client, task_queue: str) -> WorkflowHandle:
    case_id = f"J-KEY-{uuid.uuid4().hex[:6]}"
    payload = validate_report(report(case_id), datetime.now(UTC))
    return await client.start_workflow(
        MissingYouthWorkflow.run,
        EpisodeInput(report=payload, settings=CountySettings()),
        id=workflow_id(case_id),
        task_queue=task_queue,
    )


@pytest.fixture
def cli_env(dev_env, monkeypatch):
    """The command line pointed at the session's server."""
    monkeypatch.setenv(
        "TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host
    )
    monkeypatch.delenv("COUNTY_CONFIG", raising=False)
    return monkeypatch


@pytest.fixture
def worker_logs() -> Iterator[io.StringIO]:
    """Log lines kept off standard output; ``worker.main`` sets its own,
    and those are undone too."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    output = io.StringIO()
    configure_logging(json=True, stream=output)
    yield output
    structlog.reset_defaults()
    root.handlers[:], root.level = handlers, level


async def test_rotated_key_still_opens_the_episode_it_sealed_and_not_back(
    dev_env, cli_env, capsys, tmp_path, worker_logs
):
    task_queue = f"rotation-{uuid.uuid4().hex[:6]}"
    handle = await start_episode(client_with(dev_env, BEFORE), task_queue)
    case_id = handle.id.removeprefix("missing-youth-")
    rotated = client_with(dev_env, ROTATED)

    async with worker.build_worker(rotated, tmp_path / "record", task_queue=task_queue):
        cli_env.setenv("CSEC_KEYS", f"{NEW},{OLD}")
        effort = await starter.run(["effort", case_id, "--kind", "physical_check"])
        shown = await starter.run(["status", case_id])
        after = capsys.readouterr()
        cli_env.setenv("CSEC_KEYS", OLD)
        stale = await starter.run(["status", case_id])
        refused = capsys.readouterr()
    await handle.terminate()

    assert (effort, shown) == (0, 0) and case_id in after.out
    assert stale == 1 and refused.out == ""
    assert refused.err == (
        "a payload is sealed with key k-2027, which this process does not hold; "
        "add it to CSEC_KEYS_FILE (after the current key) and restart\n"
    )


async def test_worker_stops_on_a_payload_it_cannot_open_and_the_episode_waits(
    dev_env, tmp_path, worker_logs
):
    task_queue = f"unreadable-{uuid.uuid4().hex[:6]}"
    rotated = client_with(dev_env, ROTATED)
    handle = await start_episode(rotated, task_queue)
    watch = worker.PayloadWatch()
    stale = client_with(dev_env, BEFORE, watch)
    started = asyncio.get_running_loop().time()

    with pytest.raises(UnreadablePayload) as raised:
        await asyncio.wait_for(
            worker.serve(
                worker.build_worker(stale, tmp_path / "record", task_queue=task_queue),
                watch,
                asyncio.Event(),
            ),
            timeout=30,
        )
    stopped_after = asyncio.get_running_loop().time() - started
    waiting = await handle.describe()
    async with worker.build_worker(rotated, tmp_path / "record", task_queue=task_queue):
        await wait_for_event(handle, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
        status = await handle.query(MissingYouthWorkflow.status)
    await handle.terminate()

    assert raised.value.key_id == "k-2027"
    assert stopped_after < 10
    assert '"event": "payload_unreadable"' in worker_logs.getvalue()
    assert waiting.status == WorkflowExecutionStatus.RUNNING
    assert status.phase == "reporting"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "worker not started: no encryption key: set CSEC_KEYS_FILE"),
        (
            {"CSEC_KEYS": "k1:c2hvcnQ="},
            "worker not started: CSEC_KEYS entry 1: key k1 is 5 bytes; AES-256 "
            "needs 32",
        ),
        (
            {"CSEC_KEYS_FILE": "/nonexistent/keys"},
            "worker not started: CSEC_KEYS_FILE /nonexistent/keys: cannot be read",
        ),
    ],
)
def test_worker_without_a_usable_key_stops_before_it_connects(
    environ, message, monkeypatch, capsys, worker_logs
):
    monkeypatch.delenv("CSEC_KEYS", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    # Nothing listens there: a worker that got as far as connecting would
    # fail differently.
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")

    code = worker.main([])

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(message) and err.count("\n") == 1
    assert "c2hvcnQ" not in err


async def test_cli_without_a_usable_key_is_one_line_exit_2(cli_env, capsys):
    cli_env.setenv("CSEC_KEYS", "k1:c2hvcnQ=")

    code = await starter.run(["list"])

    assert (code, *capsys.readouterr()) == (
        2,
        "",
        "CSEC_KEYS entry 1: key k1 is 5 bytes; AES-256 needs 32\n",
    )
