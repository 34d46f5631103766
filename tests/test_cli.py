"""The command line against a real dev server and an in-process worker.

Commands run in this process (``starter.run``) so that the worker shares the
event loop; each test uses its own case ids, since the server lives for the
whole session.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import shlex
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

import starter
from logs import configure_logging
from tests.helpers import free_port
from tests.test_payload import EXAMPLE, personal_values
from worker import build_worker
from workflows.missing_youth import MissingYouthWorkflow
from workflows.payload import shift_times
from workflows.search import workflow_id

SCENARIOS = Path(__file__).resolve().parents[2] / "shared" / "scenarios"
SCENARIO_FILES = sorted(SCENARIOS.glob("*.json")) if SCENARIOS.is_dir() else []
CASES: list[str] = []
ALL_AUTOMATIC = """
[county]
time_zone = "America/Los_Angeles"

[modes]
law_enforcement_report = "automatic"
warrant_request = "automatic"
party_notifications = "automatic"
ncmec_report = "automatic"
ncic_entry_confirmed = "automatic"
missing_documentation = "automatic"
return_notifications = "automatic"
"""


@pytest.fixture(autouse=True)
def worker_logs() -> Iterator[io.StringIO]:
    """The worker's log lines, kept out of the CLI's output; none a warning."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    output = io.StringIO()
    configure_logging(json=True, stream=output)
    yield output
    structlog.reset_defaults()
    root.handlers[:], root.level = handlers, level
    levels = [json.loads(line)["level"] for line in output.getvalue().splitlines()]
    assert set(levels) <= {"debug", "info"}, output.getvalue()


@pytest.fixture
def server(dev_env, monkeypatch):
    """The CLI pointed at the session's dev server."""
    address = dev_env.client.service_client.config.target_host
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)
    monkeypatch.setenv("TEMPORAL_NAMESPACE", dev_env.client.namespace)
    monkeypatch.delenv("COUNTY_CONFIG", raising=False)
    return dev_env


@pytest.fixture(scope="module")
async def case_record(dev_env, tmp_path_factory) -> AsyncIterator[Path]:
    """One case record for the module; its episodes end with it.

    An episode left open would wake a later worker whose case record never
    heard of it, so every case a test made is terminated at the end.
    """
    yield tmp_path_factory.mktemp("case_record") / "case_record.sqlite3"
    for case_id in CASES:
        try:
            await dev_env.client.get_workflow_handle(workflow_id(case_id)).terminate()
        except RPCError:
            pass  # it has ended already


@pytest.fixture
async def worker(server, case_record) -> AsyncIterator[None]:
    """The product's worker, running for the length of one test."""
    async with build_worker(server.client, case_record):
        yield


async def cli(capsys, command: str) -> tuple[int, str, str]:
    """Run one command line as typed; its exit code, stdout and stderr."""
    code = await starter.run(shlex.split(command))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def unique(case_id: str) -> str:
    """A case id no other test uses, remembered for the clean-up."""
    CASES.append(f"{case_id}-{uuid.uuid4().hex[:6]}")
    return CASES[-1]


def received(payload: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The payload with every time moved so that it was received ``at``."""
    delta = at - datetime.fromisoformat(payload["received_at"])
    return shift_times(payload, delta)


def payload_file(
    folder: Path, ago: timedelta = timedelta(0), **changes: Any
) -> tuple[Path, dict[str, Any]]:
    """The example payload with a fresh case id, received ``ago``."""
    payload = json.loads(EXAMPLE.read_text())
    payload = received(payload, datetime.now(UTC).replace(microsecond=0) - ago)
    payload["case_id"] = unique("J-26-0412")
    payload.update(changes)
    path = folder / f"{payload['case_id']}.json"
    path.write_text(json.dumps(payload))
    return path, payload


async def started(capsys, folder: Path, options: str = "", **kwargs: Any) -> str:
    path, payload = payload_file(folder, **kwargs)
    code, _, err = await cli(capsys, f"start {options} {path}")
    assert (code, err) == (0, "")
    return str(payload["case_id"])


async def status_json(capsys, case_id: str) -> dict[str, Any]:
    code, out, _ = await cli(capsys, f"status {case_id} --json")
    assert code == 0
    return dict(json.loads(out))


async def poll_list(capsys, options: str, until: Any) -> list[dict[str, Any]]:
    """``list --json`` until ``until(rows)``: visibility lags a little."""
    async with asyncio.timeout(15):
        while True:
            code, out, _ = await cli(capsys, f"list --json {options}")
            assert code == 0
            rows = json.loads(out)
            if until(rows):
                return list(rows)
            await asyncio.sleep(0.2)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda path: path.stem)
async def test_every_shared_scenario_report_starts_an_episode(
    path, worker, capsys, tmp_path
):
    report = json.loads(path.read_text())["report"]
    report = received(report, datetime.now(UTC).replace(microsecond=0))
    report["case_id"] = unique(report["case_id"])
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps(report))

    code, out, err = await cli(capsys, f"start {payload}")
    status = await status_json(capsys, report["case_id"])

    assert (code, err) == (0, "")
    assert report["case_id"] in out
    assert status["phase"] in ("reporting", "handed_off")
    assert status["record"]["report"] == {
        "case_id": report["case_id"],
        "youth_id": report["youth"]["id"],
    }


async def test_second_start_while_the_episode_is_open_is_refused(
    worker, capsys, tmp_path
):
    path, payload = payload_file(tmp_path)
    first = await cli(capsys, f"start {path}")

    code, out, err = await cli(capsys, f"start {path}")

    assert first[0] == 0
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert f"case {payload['case_id']} already has an open episode" in err


async def test_new_episode_after_the_last_one_ended_is_allowed(
    server, worker, capsys, tmp_path
):
    config = tmp_path / "county.toml"
    config.write_text(ALL_AUTOMATIC)
    path, payload = payload_file(tmp_path, ago=timedelta(minutes=10))
    case_id = payload["case_id"]
    assert (await cli(capsys, f"start --config {config} {path}"))[0] == 0

    code, out, err = await cli(
        capsys, f"close {case_id} --reason erroneous_report --by spo-9"
    )
    handle = server.client.get_workflow_handle_for(
        MissingYouthWorkflow.run, workflow_id(case_id)
    )
    first = await asyncio.wait_for(handle.result(), timeout=15)
    repeated = await cli(capsys, f"start {path}")
    again = received(payload, datetime.now(UTC).replace(microsecond=0))
    path.write_text(json.dumps(again))
    restarted = await cli(capsys, f"start {path}")
    description = await handle.describe()
    second = await status_json(capsys, case_id)

    assert (code, err) == (0, "") and "closed" in out
    assert first.phase == "closed"
    assert repeated[0] == 1
    assert repeated[2].startswith(f"refused: episode {first.episode_id} was already")
    assert restarted[0] == 0, restarted[2]
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert second["episode_id"] != first.episode_id


async def test_action_on_an_ended_episode_is_refused(server, worker, capsys, tmp_path):
    config = tmp_path / "county.toml"
    config.write_text(ALL_AUTOMATIC)
    case_id = await started(capsys, tmp_path, f"--config {config}")
    await cli(capsys, f"close {case_id} --reason transferred --by spo-9")
    await server.client.get_workflow_handle(workflow_id(case_id)).result()

    code, _, err = await cli(capsys, f"effort {case_id} --kind physical_check")

    assert code == 1
    assert (
        err == f"refused: the last episode of case {case_id} has ended; "
        "no action is taken on it\n"
    )


async def test_refused_action_prints_one_line_and_exits_1(worker, capsys, tmp_path):
    case_id = await started(capsys, tmp_path)

    code, out, err = await cli(
        capsys, f"complete-step {case_id} --step cft_meeting --method phone"
    )
    do_not_notify = await cli(
        capsys,
        f"complete-step {case_id} --step party_notifications --item p3 --method phone",
    )

    assert (code, out) == (1, "")
    assert err == "refused: step: cft_meeting has not opened in this episode\n"
    assert do_not_notify == (1, "", "refused: item: p3 is marked do not notify\n")


async def test_officer_actions_reach_the_episode(worker, capsys, tmp_path):
    case_id = await started(capsys, tmp_path, ago=timedelta(hours=2))
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()

    results = [
        await cli(capsys, command.format(case=case_id, at=an_hour_ago))
        for command in (
            "complete-step {case} --step law_enforcement_report --method phone"
            " --reference SRPD-26-1 --performed-at {at}",
            "attempt {case} --step party_notifications --item p2 --method phone"
            " --notes voicemail",
            "effort {case} --kind caregiver_inquiry --by po-118",
            "located {case} --place \"a friend's home\" --found-by 'Santa Rosa PD'",
            "debrief {case} --exploited no --no-immediate-risk --no-cft-applies"
            " --service medical --factor 'conflict with caregiver'",
        )
    ]
    record = (await status_json(capsys, case_id))["record"]

    assert [code for code, _, _ in results] == [0] * 5, results
    law_enforcement = record["steps"]["law_enforcement_report"]
    assert law_enforcement["receipt"]["reference"] == "SRPD-26-1"
    done_at = datetime.fromisoformat(law_enforcement["done_at"])
    assert abs(done_at - datetime.fromisoformat(an_hour_ago)) < timedelta(seconds=1)
    assert len(record["steps"]["party_notifications"]["attempts"]) == 1
    assert record["efforts"][0]["by"] == "po-118"
    assert record["located"] is not None
    assert record["debrief"]["services"] == ["medical"]
    assert record["debrief"]["immediate_risk"] is False


async def test_status_is_readable_and_its_json_carries_only_ids(
    worker, capsys, tmp_path, worker_logs
):
    path, payload = payload_file(tmp_path, ago=timedelta(minutes=30))
    case_id = payload["case_id"]
    await cli(capsys, f"start {path}")
    await cli(
        capsys,
        f"complete-step {case_id} --step law_enforcement_report --method phone"
        " --reference SRPD-26-04417",
    )

    code, readable, _ = await cli(capsys, f"status {case_id}")
    status = await status_json(capsys, case_id)
    personal = personal_values(payload)

    assert code == 0
    assert f"case      {case_id}" in readable
    assert "phase     reporting" in readable
    line = next(x for x in readable.splitlines() if x.startswith("law_enforcement"))
    assert line.split()[1] == "done"
    assert " PST" in line or " PDT" in line
    assert "  p3  " in readable and "not_applicable" in readable
    assert status["record"]["report"] == {
        "case_id": case_id,
        "youth_id": payload["youth"]["id"],
    }
    assert status["record"]["steps"]["law_enforcement_report"]["state"] == "done"
    for text in (readable, json.dumps(status), worker_logs.getvalue()):
        assert not [value for value in personal if value in text]


async def test_list_overdue_shows_only_overdue_episodes(worker, capsys, tmp_path):
    # Received 25 hours ago: the 24-hour reports open already overdue.
    late = await started(capsys, tmp_path, ago=timedelta(hours=25))
    officer = unique("po")
    path, payload = payload_file(tmp_path)
    payload["officer"]["id"] = officer
    path.write_text(json.dumps(payload))
    assert (await cli(capsys, f"start {path}"))[0] == 0
    fresh = payload["case_id"]

    overdue = await poll_list(
        capsys, "--overdue", lambda rows: late in [r["case_id"] for r in rows]
    )
    mine = await poll_list(
        capsys, f"--officer {officer}", lambda rows: rows and rows[0]["phase"]
    )
    code, readable, _ = await cli(capsys, "list --overdue")

    assert fresh not in [row["case_id"] for row in overdue]
    assert all(row["overdue"] for row in overdue)
    assert [row["case_id"] for row in mine] == [fresh]
    assert mine[0]["officer_id"] == officer and mine[0]["next_due_at"]
    assert code == 0
    row = next(x for x in readable.splitlines() if x.startswith(late))
    assert "OVERDUE" in row and "reporting" in row


async def test_malformed_payload_file_gives_one_line_exit_2(server, capsys, tmp_path):
    path, payload = payload_file(tmp_path)
    del payload["officer"]
    path.write_text(json.dumps(payload))

    code, out, err = await cli(capsys, f"start {path}")

    assert (code, out) == (2, "")
    assert err == "payload refused: officer: is required\n"


async def test_bad_json_and_bad_times_are_one_line_exit_2(server, capsys, tmp_path):
    path = tmp_path / "payload.json"
    path.write_text('{"case_id": ')

    bad_json = await cli(capsys, f"start {path}")
    naive = await cli(
        capsys, "effort J-1 --kind other --performed-at 2026-12-01T10:00:00"
    )

    assert bad_json[0] == 2 and bad_json[2].startswith("payload: not valid JSON")
    assert naive[0] == 2 and "--performed-at: must carry a UTC offset" in naive[2]
    assert bad_json[2].count("\n") == naive[2].count("\n") == 1


async def test_county_config_errors_name_the_key(server, capsys, tmp_path):
    path, _ = payload_file(tmp_path)
    config = tmp_path / "county.toml"
    errors = []
    for text in (
        '[modes]\ndebrief = "automatic"\n',
        '[modes]\nlaw_enforcement_report = "sometimes"\n',
        '[county]\ntime_zone = "Mars/Olympus_Mons"\n',
        "[county]\ndebrief_days = 3\n",
        "[counties]\n",
    ):
        config.write_text(text)
        errors.append(await cli(capsys, f"start --config {config} {path}"))

    assert [code for code, _, _ in errors] == [2] * 5
    assert "modes.debrief: cannot be automatic" in errors[0][2]
    assert "modes.law_enforcement_report: must be" in errors[1][2]
    assert "county.time_zone: must be an IANA time zone name" in errors[2][2]
    assert "county.debrief_days: is not a known field" in errors[3][2]
    assert "counties: is not a known table" in errors[4][2]


async def test_case_without_an_episode_is_one_line_exit_1(server, capsys):
    case_id = unique("J-00-0000")

    status = await cli(capsys, f"status {case_id}")
    action = await cli(capsys, f"located {case_id} --place x --found-by y")

    assert status == (1, "", f"case {case_id} has no episode\n")
    assert action == status


async def test_unreachable_server_is_one_line(monkeypatch, capsys):
    address = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)

    result = await cli(capsys, "list")

    assert result == (1, "", f"cannot reach Temporal at {address}\n")


@pytest.mark.skipif(not SCENARIO_FILES, reason="no shared scenarios folder")
async def test_simulate_checks_a_scenario_and_prints_its_outcome(capsys):
    baseline = SCENARIOS / "baseline-all-on-time.json"

    checked = await cli(capsys, f"simulate --check {baseline}")
    code, out, _ = await cli(capsys, f"simulate --json {baseline}")
    outcome = json.loads(out)

    assert checked[0] == 0, checked
    assert "start  episode J-27-0101" in checked[1]
    assert "baseline-all-on-time.json: as expected" in checked[1]
    assert code == 0 and outcome["phase"] == "closed"
    assert outcome["steps"]["law_enforcement_report"]["state"] == "done"


async def test_simulate_refuses_a_broken_file_whole_exit_2(capsys, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"title": "no report"}')

    code, out, err = await cli(capsys, f"simulate {broken}")

    assert (code, out) == (2, "")
    assert err.startswith("broken.json: ") and err.count("\n") == 1


async def test_simulate_refuses_a_received_at_without_offset_exit_2(capsys, tmp_path):
    own = Path(__file__).parent / "scenarios" / "fall-back-report-on-time.json"
    scenario = json.loads(own.read_text())
    scenario.pop("start_at", None)
    scenario["report"]["received_at"] = "2027-04-13T14:10:00"
    naive = tmp_path / "naive.json"
    naive.write_text(json.dumps(scenario))

    code, out, err = await cli(capsys, f"simulate --check {naive}")

    assert (code, out) == (2, "")
    assert err == "naive.json: report.received_at: required, with a UTC offset\n"


async def test_disclosure_outside_an_episode_is_reported_to_le_and_da(
    capsys, server, worker, tmp_path
) -> None:
    disclosure = json.loads((EXAMPLE.parent / "disclosure.json").read_text())
    disclosure["case_id"] = case_id = unique("J-DISC")
    disclosure["received_at"] = (
        datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    ).isoformat()
    path = tmp_path / "disclosure.json"
    path.write_text(json.dumps(disclosure))

    code, out, err = await cli(capsys, f"disclose {path} --json")
    report_id = json.loads(out)["abuse_report"]
    again = await cli(capsys, f"disclose {path}")
    phoned = await cli(
        capsys,
        f"complete-step {case_id} --abuse-report {report_id} --step abuse_report "
        "--item law_enforcement --method phone --reference SRPD-1",
    )
    shown = await cli(capsys, f"status {case_id} --abuse-report {report_id} --json")

    assert (code, err) == (0, "")
    assert again[0] == 1 and again[2].startswith("refused: this disclosure")
    assert phoned[:2] == (0, "abuse_report: now pending\n")
    steps = json.loads(shown[1])["record"]["steps"]
    assert steps["abuse_report"]["items"]["law_enforcement"]["state"] == "done"
    assert steps["abuse_report"]["items"]["district_attorney"]["state"] == "pending"
    assert "Fictional" not in shown[1]
    # An abuse report left open would outlive the session's worker.
    await server.client.get_workflow_handle(report_id).terminate()
