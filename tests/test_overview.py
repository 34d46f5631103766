"""The caseload overview and officer tasks against a real dev server.

One small caseload for the module: an episode received two days ago (its
24-hour reports overdue), a fresh one with a locate effort, one of another
officer in the same unit, and one that has ended. The worker runs for the
whole module so that every status query is answered.
"""

from __future__ import annotations

import asyncio
import json
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import caseload
import starter
from activities import SqliteCaseRecord
from officer_tasks import officer_tasks
from tests.test_payload import personal_values
from tests.year_of_episodes import Year, report, write_year
from workflows.effects import Notice, StepRequest
from workflows.steps import StepName


@pytest.fixture
def server(dev_env, monkeypatch):
    monkeypatch.setenv(
        "TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host
    )
    monkeypatch.setenv("TEMPORAL_NAMESPACE", dev_env.client.namespace)
    monkeypatch.delenv("COUNTY_CONFIG", raising=False)
    return dev_env


async def cli(capsys, command: str) -> tuple[int, str, str]:
    code = await starter.run(shlex.split(command))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def overview_json(
    capsys, caseload_record: Path, options: str, count: int
) -> list[dict[str, Any]]:
    """``overview --json`` until it lists ``count`` rows: visibility lags."""
    async with asyncio.timeout(15):
        while True:
            code, out, err = await cli(
                capsys, f"overview --json --case-record {caseload_record} {options}"
            )
            assert (code, err) == (0, "")
            rows = json.loads(out)
            if len(rows) == count:
                return list(rows)
            await asyncio.sleep(0.2)


async def test_overview_lists_only_open_episodes_overdue_first(
    server, open_caseload, capsys, caseload_record
):
    unit = open_caseload["episodes"].supervisor

    rows = await overview_json(capsys, caseload_record, f"--unit {unit}", 3)

    cases = [row["case_id"] for row in rows]
    assert open_caseload["ended"].case_id not in cases
    assert cases[0] == open_caseload["late"].case_id
    assert set(cases) == {
        open_caseload["late"].case_id,
        open_caseload["fresh"].case_id,
        open_caseload["other"].case_id,
    }


async def test_overview_matches_each_episodes_status(
    server, open_caseload, capsys, caseload_record
):
    rows = await overview_json(
        capsys, caseload_record, f"--unit {open_caseload['episodes'].supervisor}", 3
    )

    for row in rows:
        status = open_caseload["statuses"][row["case_id"]]
        assert row["steps_from"] == "status"
        assert row["episode_id"] == status.episode_id
        assert row["phase"] == status.phase
        assert row["next_due_step"] == status.next_due_step
        assert datetime.fromisoformat(row["next_due_at"]) == status.next_due_at
        assert row["overdue_steps"] == status.overdue_steps
        assert row["overdue"] == bool(status.overdue_steps)
        assert row["officer_id"] == status.record.officer_id
        assert row["unit"] == status.record.supervisor_id


async def test_overview_reads_the_same_steps_from_the_record_without_a_worker(
    server, open_caseload, caseload_record, monkeypatch
):
    async def no_answer(client, case_id):
        return None

    monkeypatch.setattr(caseload, "episode_status", no_answer)
    filters = caseload.Filters(unit=open_caseload["episodes"].supervisor)

    async with asyncio.timeout(15):
        while (
            len(
                rows := await caseload.overview(
                    server.client,
                    SqliteCaseRecord(caseload_record),
                    filters,
                    datetime.now(UTC),
                )
            )
            != 3
        ):
            await asyncio.sleep(0.2)

    for row in rows:
        status = open_caseload["statuses"][row.case_id]
        assert row.steps_from == "record"
        assert row.phase == status.phase
        assert row.next_due_step == status.next_due_step
        assert row.next_due_at == status.next_due_at
        assert sorted(row.overdue_steps) == sorted(status.overdue_steps)


async def test_overview_filters_by_officer_unit_and_overdue(
    server, open_caseload, capsys, caseload_record
):
    unit = open_caseload["episodes"].supervisor
    officer = open_caseload["episodes"].officer

    mine = await overview_json(capsys, caseload_record, f"--officer {officer}", 2)
    overdue = await overview_json(
        capsys, caseload_record, f"--unit {unit} --overdue", 1
    )
    nobody = await overview_json(capsys, caseload_record, "--unit spo-nobody", 0)

    assert {row["case_id"] for row in mine} == {
        open_caseload["late"].case_id,
        open_caseload["fresh"].case_id,
    }
    assert [row["case_id"] for row in overdue] == [open_caseload["late"].case_id]
    assert overdue[0]["overdue_steps"] == [
        "law_enforcement_report",
        "warrant_request",
        "party_notifications",
        "ncmec_report",
    ]
    assert nobody == []


async def test_overview_shows_names_only_when_asked(
    server, open_caseload, capsys, caseload_record
):
    unit = open_caseload["episodes"].supervisor
    await overview_json(capsys, caseload_record, f"--unit {unit}", 3)
    payload = json.loads(open_caseload["late"].model_dump_json())
    personal = personal_values(payload)

    plain = await cli(capsys, f"overview --unit {unit} --case-record {caseload_record}")
    as_json = await cli(
        capsys, f"overview --json --unit {unit} --case-record {caseload_record}"
    )
    named = await cli(
        capsys, f"overview --names --unit {unit} --case-record {caseload_record}"
    )

    for output in (plain[1], as_json[1]):
        assert not [value for value in personal if value in output]
        assert open_caseload["late"].youth.id in output
    assert "Sample Fictional-Youth" in named[1]
    assert all(row["youth_name"] is None for row in json.loads(as_json[1]))


async def test_overview_shows_days_missing_and_the_last_locate_effort(
    server, open_caseload, capsys, caseload_record
):
    rows = await overview_json(
        capsys, caseload_record, f"--unit {open_caseload['episodes'].supervisor}", 3
    )
    by_case = {row["case_id"]: row for row in rows}

    late, fresh = (
        by_case[open_caseload["late"].case_id],
        by_case[open_caseload["fresh"].case_id],
    )
    assert late["days_missing"] == 2 and fresh["days_missing"] == 0
    assert late["last_effort_at"] is None
    assert fresh["last_effort_kind"] == "physical_check"
    effort = datetime.fromisoformat(fresh["last_effort_at"])
    assert datetime.now(UTC) - effort < timedelta(minutes=5)
    unit = open_caseload["episodes"].supervisor
    readable = await cli(
        capsys, f"overview --case-record {caseload_record} --unit {unit}"
    )
    assert readable[1].splitlines()[1].startswith(open_caseload["late"].case_id)


async def test_tasks_lists_each_officers_open_steps_overdue_ones_marked(
    server, open_caseload, capsys, caseload_record
):
    officer = open_caseload["episodes"].officer

    code, out, err = await cli(
        capsys, f"tasks --officer {officer} --json --case-record {caseload_record}"
    )
    readable = await cli(
        capsys, f"tasks --officer {officer} --case-record {caseload_record}"
    )

    assert (code, err) == (0, "")
    tasks = json.loads(out)
    late = [t for t in tasks if t["case_id"] == open_caseload["late"].case_id]
    fresh = [t for t in tasks if t["case_id"] == open_caseload["fresh"].case_id]
    assert {t["step"] for t in late} == {
        "law_enforcement_report",
        "warrant_request",
        "party_notifications",
        "ncmec_report",
        "locate_effort",
    }
    # One task per party told; the parent marked do not notify has none.
    assert sorted(t["item"] for t in late if t["step"] == "party_notifications") == [
        "p1",
        "p2",
        "p4",
    ]
    assert all(t["overdue"] for t in late if t["step"] != "locate_effort")
    assert not any(t["overdue"] for t in fresh)
    assert {t["officer_id"] for t in tasks} == {officer}
    assert "OVERDUE" in readable[1]


def test_a_reminder_is_shown_beside_the_task_it_reminds(tmp_path) -> None:
    record = SqliteCaseRecord(tmp_path / "case_record")

    youth = report("Y-1", "2027-03-01 10:00")
    write_year(record, Year(reports=[youth]))
    episode_id = record.episodes(youth.case_id)[0]["episode_id"]
    due = youth.received_at + timedelta(hours=24)
    for item in ("p1", "p2"):
        record.open_task(
            StepRequest(
                case_id=youth.case_id,
                episode_id=episode_id,
                step=StepName.PARTY_NOTIFICATIONS,
                item=item,
                due=due,
                officer_id="po-117",
                idempotency_key=f"{episode_id}/task/{item}",
            ),
            youth.received_at,
        )
    reminded = due - timedelta(hours=6)
    record.record_notice(
        Notice(
            case_id=youth.case_id,
            episode_id=episode_id,
            kind="reminder",
            recipient="officer",
            recipient_id="po-117",
            step=StepName.PARTY_NOTIFICATIONS,
            due=due,
            at=reminded,
            idempotency_key=f"{episode_id}/reminder",
        )
    )

    found = officer_tasks(record, reminded, "po-117")

    assert [(t.item, t.reminded_at, t.overdue) for t in found] == [
        ("p1", reminded, False),
        ("p2", reminded, False),
    ]
