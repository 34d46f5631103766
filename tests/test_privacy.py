"""Nothing about a youth in plain text: the Temporal store, logs and errors.

An episode full of distinctive names, numbers, places and notes runs through
the command line on a dev server of its own. Then every value is searched
for in the server's SQLite files (each table's rows, and the raw bytes of
every file once the server has stopped), in what visibility answers, in every
log line and in everything the command line printed: none is found. Without
the codec the same search finds the name, so the zero means something.
"""

from __future__ import annotations

import io
import json
import logging
import shlex
import shutil
import sqlite3
import stat
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

import starter
from codec import KeyRing, data_converter
from logs import configure_logging
from tests.helpers import free_port
from worker import build_worker, start_dev_server
from workflows.missing_youth import EpisodeInput, MissingYouthWorkflow
from workflows.payload import shift_times, validate_report
from workflows.search import workflow_id
from workflows.settings import CountySettings

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# Each value appears nowhere else: a hit can only be a leak.
YOUTH = {"first_name": "Zephyrine", "last_name": "Quillfeather-Ossory"}
BIRTH_DATE = "2010-02-17"
PARTIES = [
    {"name": "Ottoline Brackenshire", "email": "ottoline.brackenshire@example.org"},
    {"name": "Counsel Fennimore Tolliver", "phone": "+1-707-555-0163"},
    {
        "name": "Parent Wendeline Marrowgate",
        "address": "4188 Hollowmere Crescent, Fernvale",
        "reason": "suspected of harbouring the youth at Quarrystone",
    },
    {"name": "Advocate Isolde Penhallow", "phone": "+1-707-555-0178"},
]
LAST_SEEN = "Marrowbank ferry terminal, 77 Wickerlight Row"
FACTOR = "met Tobias Grindlewood online"
OFFICER = "Officer Perpetua Lindqvist"
ATTEMPT = "voicemail for Fennimore about Brackenshire Farm"
EFFORT = "checked Juniper Hollow skate park"
PLACE = "Veldmoor Greyhound depot"
FOUND_BY = "Deputy Caspian Ardmore"
DEBRIEF = "recruited by Sable Merriweather"
PERSONAL = [
    *YOUTH.values(),
    BIRTH_DATE,
    *(value for party in PARTIES for value in party.values()),
    LAST_SEEN,
    FACTOR,
    OFFICER,
    ATTEMPT,
    EFFORT,
    PLACE,
    FOUND_BY,
    DEBRIEF,
]


def report(case_id: str) -> dict[str, Any]:
    """The example payload received a minute ago, made of the values above."""
    payload = json.loads((EXAMPLES / "payload.json").read_text())
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    payload = shift_times(payload, now - datetime.fromisoformat(payload["received_at"]))
    payload["case_id"] = case_id
    payload["youth"].update(YOUTH, date_of_birth=BIRTH_DATE)
    payload["last_seen"]["place"] = LAST_SEEN
    payload["primary_factors"] = [FACTOR]
    payload["officer"]["name"] = OFFICER
    for party, values in zip(payload["parties"], PARTIES, strict=True):
        for key in ("email", "phone", "address"):
            party.pop(key, None)
        party.update(values)
    return dict(payload)


def disclosure(case_id: str) -> dict[str, Any]:
    payload = json.loads((EXAMPLES / "disclosure.json").read_text())
    payload["case_id"] = case_id
    payload["received_at"] = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    payload["youth"].update(YOUTH, date_of_birth=BIRTH_DATE)
    payload["officer"]["name"] = OFFICER
    return dict(payload)


def hits(blob: bytes | str) -> list[str]:
    """The personal values found in ``blob``."""
    text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    return [value for value in PERSONAL if value in text]


def scan_files(folder: Path, scratch: Path) -> dict[str, list[str]]:
    """Every personal value in every file under ``folder``: raw bytes, and
    each row of each table of the SQLite databases (read from a copy in
    ``scratch``, as opening one may replay its write-ahead log)."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if raw := hits(path.read_bytes()):
            found[path.name] = raw
    shutil.copytree(folder, scratch)
    for path in sorted(scratch.glob("*.sqlite")):
        with closing(sqlite3.connect(path)) as db:
            tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            for (table,) in tables.fetchall():
                for row in db.execute(f'SELECT * FROM "{table}"'):
                    cells = b"".join(
                        cell if isinstance(cell, bytes) else str(cell).encode()
                        for cell in row
                    )
                    if row_hits := hits(cells):
                        found[f"{path.name}:{table}"] = row_hits
    return found


def rows(folder: Path, table: str) -> int:
    """How many rows a table held: proof the scan had something to read."""
    with closing(sqlite3.connect(folder / "temporal.sqlite")) as db:
        return int(db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every log line, ours and the SDK's, at debug level, as rendered."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    output = io.StringIO()
    configure_logging(json=True, level=logging.DEBUG, stream=output)
    yield output
    structlog.reset_defaults()
    root.handlers[:], root.level = handlers, level


async def test_episode_leaves_no_personal_data_in_temporal_logs_or_errors(
    session_keys: KeyRing, tmp_path, capfd, log_lines, monkeypatch
):
    case_id = f"J-PRIV-{uuid.uuid4().hex[:6]}"
    folder = tmp_path / "server"
    env = await start_dev_server(
        folder, port=free_port(), ui=False, converter=data_converter(session_keys)
    )
    monkeypatch.setenv("TEMPORAL_ADDRESS", env.client.service_client.config.target_host)
    monkeypatch.delenv("COUNTY_CONFIG", raising=False)
    (tmp_path / "payload.json").write_text(json.dumps(report(case_id)))
    (tmp_path / "disclosure.json").write_text(json.dumps(disclosure(case_id)))
    broken = {**report(case_id), "parties": [{**PARTIES[0], "role": "neighbour"}]}
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    printed: list[str] = []

    async def cli(command: str) -> int:
        code = await starter.run(shlex.split(command))
        out, err = capfd.readouterr()
        # Status is the officer's own view of the record: notes are shown.
        printed.extend((err,) if command.startswith("status") else (out, err))
        return code

    record = tmp_path / "case_record.sqlite3"
    async with build_worker(env.client, record):
        codes = [
            await cli(f"start {tmp_path / 'payload.json'}"),
            await cli(f"start {tmp_path / 'broken.json'}"),
            await cli(
                f"attempt {case_id} --step party_notifications --item p2 "
                f"--method phone --notes {shlex.quote(ATTEMPT)}"
            ),
            await cli(
                f"attempt {case_id} --step cft_meeting --method phone "
                f"--notes {shlex.quote(ATTEMPT)}"
            ),
            await cli(
                f"effort {case_id} --kind physical_check --notes {shlex.quote(EFFORT)}"
            ),
            # The supervisors' views, names off (their default).
            await cli(f"overview --case-record {record}"),
            await cli(f"tasks --json --case-record {record}"),
            await cli(f"annual-report {datetime.now(UTC).year} --case-record {record}"),
            await cli(
                f"located {case_id} --place {shlex.quote(PLACE)} "
                f"--found-by {shlex.quote(FOUND_BY)}"
            ),
            await cli(
                f"debrief {case_id} --exploited no --no-immediate-risk "
                f"--no-cft-applies --factor {shlex.quote(DEBRIEF)}"
            ),
            await cli(f"status {case_id} --json"),
            await cli(f"disclose {tmp_path / 'disclosure.json'} --json"),
        ]
        handle = env.client.get_workflow_handle_for(
            MissingYouthWorkflow.run, workflow_id(case_id)
        )
        ended = await handle.result()
        visible = [
            execution
            async for execution in env.client.list_workflows(f"CaseId = '{case_id}'")
        ]
        for execution in visible:
            if execution.workflow_type == "AbuseReportWorkflow":
                await env.client.get_workflow_handle(execution.id).terminate()
        described = await handle.describe()
    await env.shutdown()
    printed.append(capfd.readouterr().err)

    # Started, refused payload, attempt, refused attempt, then all done;
    # the debrief (no exploitation, no CFT) closes the episode.
    assert codes == [0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert ended.phase == "closed"
    assert {e.workflow_type for e in visible} >= {"MissingYouthWorkflow"}
    assert [hits(e.raw_info.SerializeToString()) for e in visible] == [[]] * len(
        visible
    )
    assert hits(described.raw_description.SerializeToString()) == []
    assert hits("".join(printed)) == []
    assert log_lines.getvalue().count("\n") > 20
    assert hits(log_lines.getvalue()) == []
    assert scan_files(folder, tmp_path / "copy") == {}
    assert rows(tmp_path / "copy", "history_node") > 20
    assert rows(tmp_path / "copy", "executions_visibility") >= 2
    # The case record is where the names belong: its owner alone reads it.
    assert hits(record.read_bytes()) or hits(
        b"".join(p.read_bytes() for p in tmp_path.glob("case_record.sqlite3*"))
    )
    for path in tmp_path.glob("case_record.sqlite3*"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path.name


async def test_without_the_codec_the_scan_finds_the_name(tmp_path):
    folder = tmp_path / "server"
    env = await start_dev_server(
        folder, port=free_port(), ui=False, converter=pydantic_data_converter
    )
    plain = Client(
        env.client.service_client,
        namespace=env.client.namespace,
        data_converter=pydantic_data_converter,
    )
    case_id = f"J-PLAIN-{uuid.uuid4().hex[:6]}"
    payload = validate_report(report(case_id), datetime.now(UTC))

    # No worker: the start alone writes the input to the history.
    await plain.start_workflow(
        MissingYouthWorkflow.run,
        EpisodeInput(report=payload, settings=CountySettings()),
        id=workflow_id(case_id),
        task_queue=f"nobody-{case_id}",
    )
    await env.shutdown()

    found = scan_files(folder, tmp_path / "copy")

    assert any(YOUTH["last_name"] in values for values in found.values()), found
