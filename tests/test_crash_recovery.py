"""Crashes: a worker killed amid side effects, a server killed amid clocks.

Both run on the real dev server and the real SQLite case record. A worker
is a process of its own (tests/worker_process.py), and the server is the
``temporal`` process that ``WorkflowEnvironment.start_local`` spawns; each
is ended with SIGKILL, so nothing gets to finish or flush.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import sys
import uuid
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from activities import SqliteCaseRecord
from codec import KEYS_ENV, KEYS_FILE_ENV, add_key, data_converter, read_key_file
from tests.exactly_once import automatic_steps_not_done, eventually, missing, repeated
from tests.exactly_once import rows as record_rows
from tests.helpers import ALL_AUTOMATIC, free_port, missing_report
from tests.worker_process import writes
from worker import build_worker, start_dev_server
from workflows.missing_youth import EpisodeInput, EpisodeStatus, MissingYouthWorkflow
from workflows.search import workflow_id
from workflows.settings import CountySettings
from workflows.steps import TWENTY_FOUR_HOUR_REPORTS

PROJECT = Path(__file__).parent.parent
# Every step an adapter can do, done by its adapter.
EPISODES = 6
# The first worker is killed once this many chrono entries are recorded, of
# about 25 per episode.
KILL_AT_CHRONO = 12


def sealing(folder: Path) -> tuple[Path, DataConverter]:
    """A key file of the test's own, and the converter that seals with it."""
    keys = folder / "keys"
    add_key(keys, "test-1")
    return keys, data_converter(read_key_file(keys))


class WorkerProcess:
    """tests/worker_process.py in a process of its own, with the test's keys.

    Its announced writes go to ``<name>.out``, its log to ``<name>.log``.
    """

    def __init__(
        self,
        folder: Path,
        name: str,
        *extra: str,
        address: str,
        task_queue: str,
        case_record: Path,
        keys: Path,
    ) -> None:
        self.out = folder / f"{name}.out"
        self.log = folder / f"{name}.log"
        environment = {
            key: value for key, value in os.environ.items() if key != KEYS_ENV
        }
        environment[KEYS_FILE_ENV] = str(keys)
        with self.out.open("wb") as out, self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.worker_process",
                    f"--address={address}",
                    f"--task-queue={task_queue}",
                    f"--case-record={case_record}",
                    *extra,
                ],
                cwd=PROJECT,
                env=environment,
                stdout=out,
                stderr=log,
            )

    def check_alive(self) -> None:
        assert self.process.poll() is None, self.log.read_text()[-4000:]

    def kill(self) -> None:
        """SIGKILL: no activity finishes, no completion is reported."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Whatever happened in the block, the process is gone after it.
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


async def statuses(handles: list[WorkflowHandle]) -> list[EpisodeStatus]:
    return [await handle.query(MissingYouthWorkflow.status) for handle in handles]


async def test_worker_killed_amid_side_effects_leaves_each_one_once(
    tmp_path: Path,
) -> None:
    # Received 25 hours ago: every 24-hour report and the abuse report are
    # overdue at the start, so each episode opens with escalations, tasks,
    # submissions and chrono entries all at once.
    received = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=25)
    suffix = uuid.uuid4().hex[:8]
    reports = [missing_report(f"K-{n}-{suffix}", received) for n in range(EPISODES)]
    settings = CountySettings(modes=ALL_AUTOMATIC)
    task_queue = f"crash-{suffix}"
    record = tmp_path / "case-record.sqlite3"
    SqliteCaseRecord(record)
    keys, converter = sealing(tmp_path)
    port = free_port()
    worker = functools.partial(
        WorkerProcess,
        tmp_path,
        address=f"127.0.0.1:{port}",
        task_queue=task_queue,
        case_record=record,
        keys=keys,
    )

    async with await start_dev_server(
        tmp_path / "server", port=port, ui=False, converter=converter
    ) as env:
        # Each activity is held a while after its side effect, so the kill
        # falls between side effects and the reports that they were done.
        with worker("worker-1", "--hold=0.2", "--max-activities=4") as first:
            handles = [
                await env.client.start_workflow(
                    MissingYouthWorkflow.run,
                    EpisodeInput(report=report, settings=settings),
                    id=workflow_id(report.case_id),
                    task_queue=task_queue,
                )
                for report in reports
            ]

            async def too_few_chrono_entries() -> list[str]:
                first.check_alive()
                written = len(record_rows(record, "chrono"))
                return [] if written >= KILL_AT_CHRONO else [f"{written} written"]

            assert await eventually(too_few_chrono_entries, 30, every=0.02) == []
            first.kill()
        at_kill = len(record_rows(record, "chrono"))

        with worker("worker-2") as second:

            async def anything_missing() -> list[str]:
                # Done: every automatic step, every side effect recorded,
                # and no activity left to retry, the killed ones included.
                second.check_alive()
                found = []
                for handle in handles:
                    status = await handle.query(MissingYouthWorkflow.status)
                    found += automatic_steps_not_done(status)
                    found += missing(record, status)
                    running = (await handle.describe()).raw_description
                    found += [
                        f"{a.activity_type.name} running"
                        for a in running.pending_activities
                    ]
                return found

            assert await eventually(anything_missing, timeout=40) == []
            final = await statuses(handles)
            histories = [await handle.fetch_history() for handle in handles]

    # The kill came amid the side effects: some were recorded, most not;
    # side effects the first worker had recorded were carried out again by
    # the second (its activity's completion was never reported), and the
    # record dropped each repeat.
    assert KILL_AT_CHRONO <= at_kill < sum(s.record.sequence for s in final)
    retried = [
        event
        for history in histories
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and event.activity_task_started_event_attributes.attempt > 1
    ]
    assert retried
    assert writes(first.out) & writes(second.out)
    for status in final:
        assert repeated(record, status) == []
        assert missing(record, status) == []
        assert set(status.escalated_steps) == {
            *(name.value for name in TWENTY_FOUR_HOUR_REPORTS),
            "missing_documentation",
            "abuse_report",
        }


def server_process(database: Path) -> int:
    """The id of the dev server this process started on ``database``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and str(database).encode() in command:
            return int(entry.name)
    raise LookupError(f"no dev server of this process on {database}")


async def server_gone(port: int) -> list[str]:
    """Nothing, once nothing listens on the port any more."""
    with socket.socket() as probe:
        listening = probe.connect_ex(("127.0.0.1", port)) == 0
    return ["the server still listens"] if listening else []


async def query(client: Client, case_id: str) -> EpisodeStatus:
    handle = client.get_workflow_handle(workflow_id(case_id))
    status: EpisodeStatus = await handle.query(MissingYouthWorkflow.status)
    return status


# Time for the server to die and start again before the reports fall due.
MARGIN = timedelta(seconds=8)


async def test_server_killed_mid_episode_keeps_state_and_timers(
    tmp_path: Path,
) -> None:
    # The four 24-hour reports fall due MARGIN after the start; the abuse
    # report (2 hours) is overdue at once and escalated before the crash.
    # The worker runs on through the crash and finds the new server itself.
    _, converter = sealing(tmp_path)
    case_id = f"S-{uuid.uuid4().hex[:8]}"
    task_queue = f"server-crash-{case_id}"
    record = tmp_path / "case-record.sqlite3"
    state_dir = tmp_path / "server"
    port = free_port()

    env = await start_dev_server(state_dir, port=port, ui=False, converter=converter)
    restarted: WorkflowEnvironment | None = None
    try:
        async with build_worker(env.client, record, task_queue=task_queue):
            received = datetime.now(UTC).replace(microsecond=0) + MARGIN
            received -= timedelta(hours=24)
            due = received + timedelta(hours=24)
            report = missing_report(case_id, received)
            await env.client.start_workflow(
                MissingYouthWorkflow.run,
                EpisodeInput(report=report),
                id=workflow_id(case_id),
                task_queue=task_queue,
            )

            async def unrecorded() -> list[str]:
                return missing(record, await query(env.client, case_id))

            assert await eventually(unrecorded, timeout=20) == []
            before = await query(env.client, case_id)

            os.kill(server_process(state_dir / "temporal.sqlite"), signal.SIGKILL)
            assert await eventually(lambda: server_gone(port), timeout=10) == []
            with suppress(Exception):
                await env.shutdown()
            restarted = await start_dev_server(
                state_dir, port=port, ui=False, converter=converter
            )
            after = await query(restarted.client, case_id)
            assert after.now < due, "the server took too long to start again"

            async def not_escalated() -> list[str]:
                status = await query(restarted.client, case_id)
                waiting = [
                    name.value
                    for name in TWENTY_FOUR_HOUR_REPORTS
                    if name.value not in status.escalated_steps
                ]
                return waiting + missing(record, status)

            timeout = (due - datetime.now(UTC)).total_seconds() + 30
            assert await eventually(not_escalated, timeout=timeout) == []
            final = await query(restarted.client, case_id)
    finally:
        with suppress(Exception):
            await env.shutdown()
        if restarted is not None:
            await restarted.shutdown()

    assert after.model_dump(exclude={"now"}) == before.model_dump(exclude={"now"})
    assert before.escalated_steps == ["abuse_report"]
    escalations = [(e.step.value, e.at) for e in final.record.escalations]
    assert escalations[0][0] == "abuse_report"
    assert sorted(step for step, _ in escalations[1:]) == sorted(
        name.value for name in TWENTY_FOUR_HOUR_REPORTS
    )
    # At due, by the workflow's clock: the timer survived the crash.
    assert all(due <= at < due + timedelta(seconds=10) for _, at in escalations[1:])
    assert repeated(record, final) == []
