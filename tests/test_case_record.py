"""The case record: owner-only, idempotent, and tasks that close themselves.

Every rule runs on both kinds of record, SQLite and PostgreSQL
(``tests/case_records.py``); only the file's own rules are SQLite's alone.
"""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from activities import PostgresCaseRecord, SqlCaseRecord, SqliteCaseRecord
from activities.errors import CaseRecordError, UnknownEpisode
from activities.schema import SCHEMA_VERSION, migrations
from workflows.effects import ChronoEntry, EpisodeOpened, Notice, StepRequest
from workflows.payload import MissingReport
from workflows.settings import CountySettings
from workflows.steps import StepName

RECEIVED_AT = datetime.fromisoformat("2027-03-12T23:40:00-08:00")
EPISODE_ID = "J-27-0412/1"


def payload(**changes: Any) -> dict[str, Any]:
    """A payload whose personal data is easy to spot in a log or an error."""
    data: dict[str, Any] = {
        "case_id": "J-27-0412",
        "received_at": RECEIVED_AT.isoformat(),
        "youth": {
            "id": "Y-1001",
            "first_name": "Zephyrine",
            "last_name": "Quillfeather",
            "date_of_birth": "2011-06-02",
        },
        "in_foster_care": True,
        "csec": {
            "status": "suspected",
            "indicators": ["controlled_or_groomed", "truancy"],
        },
        "last_seen": {
            "at": "2027-03-12T19:00:00-08:00",
            "place": "Thornbury Lane group home",
        },
        "primary_factors": ["argued with Mossgrove caregiver"],
        "law_enforcement_agency": {
            "name": "Santa Rosa Police Department",
            "ori": "CA0490200",
        },
        "officer": {
            "id": "po-117",
            "name": "Officer Brambleworth",
            "email": "brambleworth@probation.example",
        },
        "supervisor": {"id": "spo-9", "name": "Supervisor Vantongeren"},
        "parties": [
            {
                "id": "p1",
                "role": "parent",
                "name": "Parent Larkspurr",
                "email": "larkspurr@example.org",
            },
            {
                "id": "p2",
                "role": "attorney_of_record",
                "name": "Counsel Ashdown",
                "phone": "+1-707-555-0199",
            },
            {
                "id": "p3",
                "role": "parent",
                "name": "Parent Grimthorne",
                "address": "12 Cinderwell Road",
                "do_not_notify": True,
                "reason": "suspected of exploiting the youth",
            },
            {
                "id": "p4",
                "role": "caregiver",
                "name": "Caregiver Mossgrove",
                "address": "7 Hollowmere Court",
            },
            {"id": "p5", "role": "casa", "name": "Advocate Unreachable"},
        ],
    }
    data.update(changes)
    return data


def episode_opened(episode_id: str = EPISODE_ID, **changes: Any) -> EpisodeOpened:
    """What the workflow sends to ``open_case_record``."""
    return EpisodeOpened(
        episode_id=episode_id,
        report=MissingReport.model_validate(payload(**changes)),
        settings=CountySettings(),
        started_at=RECEIVED_AT + timedelta(minutes=5),
        idempotency_key=f"{episode_id}/case_record",
    )


def step_request(
    step: StepName, item: str | None = None, episode_id: str = EPISODE_ID
) -> StepRequest:
    """A request for a step, keyed as the workflow keys it."""
    return StepRequest(
        case_id="J-27-0412",
        episode_id=episode_id,
        step=step,
        item=item,
        due=RECEIVED_AT + timedelta(hours=24),
        officer_id="po-117",
        idempotency_key=f"{episode_id}/{step}/{item or '-'}/perform",
    )


def chrono_entry(
    key: str,
    step: StepName | None = None,
    item: str | None = None,
    state: str | None = None,
    event: str = "step_done",
    detail: dict[str, Any] | None = None,
    at: datetime = RECEIVED_AT + timedelta(hours=2),
) -> ChronoEntry:
    return ChronoEntry(
        case_id="J-27-0412",
        episode_id=EPISODE_ID,
        at=at,
        event=event,
        step=step,
        item=item,
        state=state,
        detail=detail or {},
        idempotency_key=f"{EPISODE_ID}/chrono/{key}",
    )


@pytest.fixture
def record(open_record: Callable[[], SqlCaseRecord]) -> SqlCaseRecord:
    """A case record with one open episode, of each kind."""
    case_record = open_record()
    case_record.open_episode(episode_opened())
    return case_record


@pytest.fixture
def sqlite_record(tmp_path: Path) -> SqliteCaseRecord:
    """A SQLite case record with one open episode."""
    case_record = SqliteCaseRecord(tmp_path / "state" / "case_record.sqlite")
    case_record.open_episode(episode_opened())
    return case_record


def test_case_record_files_are_readable_by_the_owner_only(sqlite_record):
    record = sqlite_record
    # The WAL files exist only while a connection is open.
    with closing(sqlite3.connect(record.path)) as reader:
        reader.execute("SELECT count(*) FROM episodes").fetchone()
        record.record_chrono(chrono_entry("1", event="episode_opened"))
        files = [record.path, *record.path.parent.glob(f"{record.path.name}-*")]
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in files}

    assert modes == {
        "case_record.sqlite": 0o600,
        "case_record.sqlite-wal": 0o600,
        "case_record.sqlite-shm": 0o600,
    }
    assert stat.S_IMODE(record.path.parent.stat().st_mode) == 0o700


def test_case_record_is_in_write_ahead_log_mode(sqlite_record):
    with sqlite3.connect(sqlite_record.path) as connection:
        mode = connection.execute("PRAGMA journal_mode").fetchone()[0]

    assert mode == "wal"


def test_episode_row_holds_the_payload_and_settings(record):
    row = record.episode(EPISODE_ID)

    assert row is not None
    assert row["case_id"] == "J-27-0412"
    assert (row["youth_id"], row["officer_id"], row["supervisor_id"]) == (
        "Y-1001",
        "po-117",
        "spo-9",
    )
    assert row["received_at"] == "2027-03-13T07:40:00+00:00"
    assert row["report"]["youth"]["last_name"] == "Quillfeather"
    assert row["settings"]["debrief_hours"] == 72
    assert record.report(EPISODE_ID).youth.first_name == "Zephyrine"


def test_opening_an_episode_twice_keeps_the_first_row(record):
    record.open_episode(episode_opened(primary_factors=["changed"]))

    assert record.episode(EPISODE_ID)["report"]["primary_factors"] == [
        "argued with Mossgrove caregiver"
    ]


def test_submission_repeated_keeps_one_row_and_the_first_reference(record):
    request = step_request(StepName.LAW_ENFORCEMENT_REPORT)
    at = RECEIVED_AT + timedelta(hours=1)

    first = record.record_submission(request, "law_enforcement", "LE-1", {"n": 1}, at)
    again = record.record_submission(request, "law_enforcement", "LE-2", {"n": 2}, at)

    rows = record.submissions(EPISODE_ID)
    assert (first, again) == ("LE-1", "LE-1")
    assert [(row["reference"], row["body"]) for row in rows] == [("LE-1", {"n": 1})]


def test_chrono_entry_repeated_is_recorded_once(record):
    entry = chrono_entry("1", event="episode_opened")

    record.record_chrono(entry)
    record.record_chrono(entry)

    assert [row["event"] for row in record.chrono(EPISODE_ID)] == ["episode_opened"]


def test_final_state_in_the_chrono_closes_the_officer_task(record):
    record.open_task(step_request(StepName.LAW_ENFORCEMENT_REPORT), RECEIVED_AT)
    record.record_chrono(
        chrono_entry("1", StepName.LAW_ENFORCEMENT_REPORT, state="overdue")
    )
    assert len(record.open_tasks("po-117")) == 1

    record.record_chrono(
        chrono_entry("2", StepName.LAW_ENFORCEMENT_REPORT, state="done_late")
    )

    assert record.open_tasks("po-117") == []


def test_final_item_closes_only_that_item_task(record):
    for party in ("p1", "p2"):
        record.open_task(step_request(StepName.PARTY_NOTIFICATIONS, party), RECEIVED_AT)

    record.record_chrono(
        chrono_entry("1", StepName.PARTY_NOTIFICATIONS, "p1", state="done")
    )

    assert [task["item"] for task in record.open_tasks()] == ["p2"]


def test_final_step_closes_the_tasks_of_all_its_items(record):
    for party in ("p1", "p2"):
        record.open_task(step_request(StepName.PARTY_NOTIFICATIONS, party), RECEIVED_AT)

    record.record_chrono(
        chrono_entry("1", StepName.PARTY_NOTIFICATIONS, state="not_required")
    )

    assert record.open_tasks() == []


def test_task_opened_after_its_final_state_was_recorded_opens_closed(record):
    record.record_chrono(chrono_entry("1", StepName.NCMEC_REPORT, state="done"))

    record.open_task(step_request(StepName.NCMEC_REPORT), RECEIVED_AT)

    assert record.open_tasks() == []


def test_open_tasks_are_one_officers_soonest_due_first(record):
    later = step_request(StepName.DEBRIEF).model_copy(
        update={"due": RECEIVED_AT + timedelta(days=3)}
    )
    other = step_request(StepName.CFT_MEETING).model_copy(
        update={"officer_id": "po-200"}
    )
    for request in (later, step_request(StepName.NCMEC_REPORT), other):
        record.open_task(request, RECEIVED_AT)

    assert [task["step"] for task in record.open_tasks("po-117")] == [
        "ncmec_report",
        "debrief",
    ]
    assert len(record.open_tasks()) == 3


def test_episode_ended_entry_records_the_end_and_final_state(record):
    ended_at = RECEIVED_AT + timedelta(days=4)
    record.record_chrono(
        chrono_entry(
            "9", event="episode_ended", detail={"categories": ["i"]}, at=ended_at
        )
    )

    row = record.episode(EPISODE_ID)
    assert row["ended_at"] == "2027-03-17T07:40:00+00:00"
    assert row["final_state"] == {"categories": ["i"]}


def escalation() -> Notice:
    """The supervisor's notice that the NCMEC report is overdue."""
    return Notice(
        case_id="J-27-0412",
        episode_id=EPISODE_ID,
        kind="escalation",
        recipient="supervisor",
        recipient_id="spo-9",
        step=StepName.NCMEC_REPORT,
        due=RECEIVED_AT + timedelta(hours=24),
        at=RECEIVED_AT + timedelta(hours=24),
        idempotency_key=f"{EPISODE_ID}/escalation/supervisor/ncmec_report/-",
    )


def test_notice_repeated_is_stored_once_and_sent_once(record):
    notice = escalation()

    assert record.record_notice(notice) is True
    record.mark_notice_sent(notice.idempotency_key, notice.at)

    assert record.record_notice(notice) is False
    assert len(record.notices(EPISODE_ID)) == 1


def test_time_without_utc_offset_is_refused(record):
    # The contract itself refuses it: nothing naive reaches the record.
    with pytest.raises(ValidationError, match="timezone"):
        chrono_entry("1", event="episode_opened", at=datetime(2027, 3, 13, 9))


def test_write_for_an_unknown_episode_is_a_non_retryable_error(record):
    entry = chrono_entry("1", event="episode_opened").model_copy(
        update={"episode_id": "J-27-9999/1"}
    )

    with pytest.raises(UnknownEpisode, match="J-27-9999/1") as raised:
        record.record_chrono(entry)

    assert isinstance(raised.value, ApplicationError)
    assert raised.value.non_retryable
    assert record.episode("J-27-9999/1") is None


def test_record_written_by_a_newer_schema_is_refused(record, open_record):
    with record.connect() as connection:
        connection.execute(
            "UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,)
        )

    with pytest.raises(CaseRecordError, match="newer"):
        open_record()


def test_every_kind_of_record_has_the_same_migrations():
    versions = {
        dialect: [version for version, _ in migrations(dialect)]
        for dialect in ("sqlite", "postgres")
    }

    assert versions["sqlite"] == versions["postgres"]
    assert versions["sqlite"] == list(range(1, SCHEMA_VERSION + 1))


def test_record_opened_by_many_workers_at_once_is_migrated_once(open_record):
    with ThreadPoolExecutor(max_workers=4) as pool:
        records = list(pool.map(lambda _: open_record(), range(4)))

    with records[0].connect() as connection:
        rows = connection.execute("SELECT version FROM schema_version").fetchall()
    assert [row["version"] for row in rows] == list(range(1, SCHEMA_VERSION + 1))


def test_sqlite_and_postgres_records_answer_with_the_same_rows(
    sqlite_record, postgres_url
):
    # The same writes on both; their rows must read the same, ids and all.
    postgres = PostgresCaseRecord(postgres_url)
    postgres.open_episode(episode_opened())
    for record in (sqlite_record, postgres):
        record.open_task(step_request(StepName.NCMEC_REPORT), RECEIVED_AT)
        record.record_chrono(
            chrono_entry(
                "1",
                StepName.LAW_ENFORCEMENT_REPORT,
                state="done",
                detail={"reference": "N-1", "at": RECEIVED_AT},
                at=RECEIVED_AT + timedelta(microseconds=1500),
            )
        )
        record.record_submission(
            step_request(StepName.LAW_ENFORCEMENT_REPORT),
            "law_enforcement",
            "LE-1",
            {"n": [1]},
            RECEIVED_AT,
        )
        record.record_notice(escalation())

    def rows(record: SqlCaseRecord) -> list[Any]:
        return [
            record.episode(EPISODE_ID),
            record.chrono(EPISODE_ID),
            record.open_tasks(),
            record.notices(EPISODE_ID),
            record.submissions(EPISODE_ID),
        ]

    assert rows(postgres) == rows(sqlite_record)


def test_same_submission_from_many_threads_is_recorded_once(record):
    request = step_request(StepName.NCMEC_REPORT)

    def submit(attempt: int) -> str:
        return record.record_submission(
            request, "ncmec", f"NCMEC-{attempt}", {}, RECEIVED_AT
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        references = set(pool.map(submit, range(32)))

    assert len(references) == 1
    assert len(record.submissions(EPISODE_ID)) == 1


def test_a_thread_keeps_its_own_connection_to_the_sqlite_record(sqlite_record):
    with sqlite_record.connect() as first:
        pass
    with sqlite_record.connect() as again:
        pass

    def in_another_thread():
        with sqlite_record.connect() as connection:
            return connection

    with ThreadPoolExecutor(max_workers=1) as pool:
        other = pool.submit(in_another_thread).result()

    assert again is first
    assert other is not first


def test_failed_write_leaves_nothing_and_the_next_write_lands(sqlite_record):
    with pytest.raises(RuntimeError), sqlite_record.connect() as connection:
        connection.execute("UPDATE episodes SET officer_id = 'po-broken'")
        raise RuntimeError("the adapter failed after the write")
    sqlite_record.record_chrono(chrono_entry("1", event="episode_opened"))

    assert sqlite_record.episode(EPISODE_ID)["officer_id"] != "po-broken"
    assert len(sqlite_record.chrono(EPISODE_ID)) == 1


def test_a_write_inside_another_commits_only_with_the_outer_one(sqlite_record):
    with pytest.raises(RuntimeError), sqlite_record.connect():
        sqlite_record.record_chrono(chrono_entry("1", event="episode_opened"))
        raise RuntimeError("the outer write failed")

    assert sqlite_record.chrono(EPISODE_ID) == []
