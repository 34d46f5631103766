"""The annual State report (§4.D) from a case record holding a year.

The year of ``tests/year_of_episodes.py`` is written into each kind of case
record through its own API; the counts, the command line, the workflow that
sends them and the Schedule that starts it are checked against it.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import uuid
from datetime import UTC, datetime, timedelta

from structlog.testing import capture_logs
from temporalio.client import WorkflowExecutionStatus
from temporalio.worker import Worker

import starter
from activities import AdapterConfig, SqliteCaseRecord, build_activities
from activities.annual_report import count_year
from activities.report_record import annual_reports
from tests.year_of_episodes import COUNTY, EXPECTED, EXPECTED_YOUTHS, YEAR, write_year
from worker import build_worker
from workflows.annual_report import (
    SCHEDULE_ID,
    AnnualReportInput,
    AnnualReportWorkflow,
)
from workflows.sandbox import workflow_runner


async def cli(capsys, command: str) -> tuple[int, str, str]:
    code = await starter.run(shlex.split(command))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_year_of_recorded_episodes_gives_the_six_counts(open_record) -> None:
    record = open_record()
    write_year(record)

    found = count_year(open_record(), YEAR, COUNTY)

    assert found.counts == EXPECTED
    assert found.youths == EXPECTED_YOUTHS


async def test_annual_report_command_prints_text_csv_and_json(capsys, tmp_path):
    path = tmp_path / "case_record"
    write_year(SqliteCaseRecord(path))

    text = await cli(capsys, f"annual-report {YEAR} --case-record {path}")
    csv = await cli(capsys, f"annual-report {YEAR} --csv --case-record {path}")
    as_json = await cli(capsys, f"annual-report {YEAR} --json --case-record {path}")

    assert text[0] == csv[0] == as_json[0] == 0
    assert "youths classified: 14" in text[1]
    assert "   i      6  youths in foster care at risk, not victims" in text[1]
    lines = csv[1].splitlines()
    assert lines[0] == "year,category,description,count"
    assert [line.rsplit(",", 1)[1] for line in lines[1:]] == [
        str(EXPECTED[key]) for key in ("i", "ii", "iii", "iv", "v", "vi")
    ]
    assert json.loads(as_json[1])["counts"] == EXPECTED


async def test_annual_report_of_a_bad_year_is_refused_exit_2(capsys, tmp_path):
    code, out, err = await cli(capsys, "annual-report 27")

    assert (code, out) == (2, "")
    assert "must be a year" in err


async def test_annual_report_workflow_sends_the_counts_once(
    time_skipping_env, tmp_path
):
    path = tmp_path / "case_record"
    write_year(SqliteCaseRecord(path))
    queue = f"annual-{uuid.uuid4().hex[:6]}"
    activities = build_activities(AdapterConfig(case_record_path=path))
    client = time_skipping_env.client
    async with Worker(
        client,
        task_queue=queue,
        workflows=[AnnualReportWorkflow],
        activities=activities,
        activity_executor=None,
        workflow_runner=workflow_runner(),
    ):
        with capture_logs() as logs:
            for run in range(2):
                report = await client.execute_workflow(
                    AnnualReportWorkflow.run,
                    AnnualReportInput(recipient_id="spo-9", year=YEAR),
                    id=f"annual-report-test-{run}-{queue}",
                    task_queue=queue,
                )

    assert report.counts == EXPECTED
    rows = annual_reports(SqliteCaseRecord(path))
    assert len(rows) == 1 and rows[0]["sent_at"] is not None
    assert rows[0]["recipient_id"] == "spo-9" and rows[0]["year"] == YEAR
    sent = [log for log in logs if log["event"] == "annual_report_ready"]
    assert len(sent) == 1
    assert sent[0]["counts"] == EXPECTED and sent[0]["recipient_id"] == "spo-9"


async def test_schedule_sends_last_years_report_every_15_january_at_8_county_time(
    dev_env, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv(
        "TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host
    )
    monkeypatch.setenv("TEMPORAL_NAMESPACE", dev_env.client.namespace)
    monkeypatch.delenv("COUNTY_CONFIG", raising=False)
    path = tmp_path / "case_record"
    client = dev_env.client

    code, out, err = await cli(capsys, "schedule-annual-report --to spo-9 --json")
    again = await cli(capsys, "schedule-annual-report --to spo-7")
    handle = client.get_schedule_handle(SCHEDULE_ID)
    try:
        description = await handle.describe()
        async with build_worker(client, path):
            await handle.trigger()
            async with asyncio.timeout(30):
                while not annual_reports(SqliteCaseRecord(path)):
                    await asyncio.sleep(0.2)
            rows = annual_reports(SqliteCaseRecord(path))
            runs = [
                execution
                async for execution in client.list_workflows(
                    "WorkflowType = 'AnnualReportWorkflow'"
                )
            ]
    finally:
        await handle.delete()

    assert (code, err) == (0, "")
    assert again[0] == 0 and "spo-7" in again[1]
    next_run = datetime.fromisoformat(json.loads(out)["next_run_at"])
    local = next_run.astimezone(COUNTY)
    assert (local.month, local.day, local.hour, local.minute) == (1, 15, 8, 0)
    upcoming = [t.astimezone(COUNTY) for t in description.info.next_action_times]
    assert all((t.month, t.day, t.hour) == (1, 15, 8) for t in upcoming)
    # Triggered now, it reports the year before this one, to the recipient
    # the second command set.
    last_year = datetime.now(UTC).astimezone(COUNTY).year - 1
    assert [(row["year"], row["recipient_id"]) for row in rows] == [
        (last_year, "spo-7")
    ]
    assert rows[0]["sent_at"] is not None
    assert runs and runs[0].status in (
        WorkflowExecutionStatus.RUNNING,
        WorkflowExecutionStatus.COMPLETED,
    )
    assert next_run - datetime.now(UTC) < timedelta(days=366)


async def test_annual_report_refuses_a_case_record_that_does_not_exist(
    capsys, tmp_path
) -> None:
    import shlex

    import starter

    missing = tmp_path / "typo" / "case_record"

    code = await starter.run(shlex.split(f"annual-report 2027 --case-record {missing}"))
    err = capsys.readouterr().err

    assert code == 2
    assert err.startswith("case_record.path: no case record at")
    assert not missing.parent.exists()
