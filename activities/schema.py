"""The case record's file: its tables, in one place, and how rows are stored.

Columns named ``*_json`` hold JSON text; times are UTC ISO 8601 text, so
that they sort as text. A change to the tables raises ``SCHEMA_VERSION``
and says, here, how an older file is brought up to date.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from activities.errors import CaseRecordError

Row = dict[str, Any]

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS episodes (
    episode_id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    youth_id TEXT NOT NULL,
    officer_id TEXT NOT NULL,
    supervisor_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    started_at TEXT NOT NULL,
    report_json TEXT NOT NULL,
    settings_json TEXT NOT NULL,
    ended_at TEXT,
    final_state_json TEXT
);
CREATE INDEX IF NOT EXISTS episodes_case ON episodes (case_id);
CREATE TABLE IF NOT EXISTS chrono (
    id INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL,
    episode_id TEXT NOT NULL REFERENCES episodes (episode_id),
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    step TEXT,
    item TEXT,
    state TEXT,
    detail_json TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS chrono_episode ON chrono (episode_id, id);
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    episode_id TEXT NOT NULL REFERENCES episodes (episode_id),
    step TEXT NOT NULL,
    item TEXT,
    officer_id TEXT NOT NULL,
    due TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX IF NOT EXISTS tasks_open ON tasks (officer_id, closed_at, due);
CREATE TABLE IF NOT EXISTS notices (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    episode_id TEXT NOT NULL REFERENCES episodes (episode_id),
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    step TEXT,
    item TEXT,
    period INTEGER,
    due TEXT,
    at TEXT NOT NULL,
    sent_at TEXT
);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    episode_id TEXT NOT NULL REFERENCES episodes (episode_id),
    integration TEXT NOT NULL,
    step TEXT NOT NULL,
    item TEXT,
    reference TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    body_json TEXT NOT NULL
);
"""


def create(path: Path) -> None:
    """Create the record's file owner-only (0600), in WAL mode, with tables.

    Raises:
        CaseRecordError: The file was written by a newer schema.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Create the file ourselves so that it is never readable by others, not
    # even for the moment before a chmod; SQLite gives its -wal and -shm
    # files the same mode as the database.
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)
    connection = sqlite3.connect(path, timeout=30)
    try:
        # WAL lets the command line read while the worker writes.
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(SCHEMA)
        with connection:
            _check_version(connection)
    finally:
        connection.close()


def _check_version(connection: sqlite3.Connection) -> None:
    found = connection.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    if found is None:
        connection.execute(
            "INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,)
        )
    elif found > SCHEMA_VERSION:
        raise CaseRecordError(
            f"case record schema version {found} is newer than this code's "
            f"({SCHEMA_VERSION})"
        )


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """One connection, one transaction: committed, or rolled back."""
    connection = sqlite3.connect(path, timeout=30)
    connection.row_factory = sqlite3.Row
    with closing(connection), connection:
        yield connection


def insert(connection: sqlite3.Connection, table: str, row: Row) -> None:
    """Insert a row unless its key is taken: a repeat changes nothing."""
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    connection.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING",
        tuple(row.values()),
    )


def stored_time(at: datetime) -> str:
    """A time as stored: UTC, ISO 8601.

    Raises:
        CaseRecordError: The time has no UTC offset.
    """
    if at.tzinfo is None:
        # A time without an offset could be any of 24 instants (PROTOCOL.md).
        raise CaseRecordError("a time without a UTC offset cannot be recorded")
    return at.astimezone(UTC).isoformat()


def stored_json(value: Any) -> str:
    """A ``*_json`` column's text; times and the like become strings."""
    return json.dumps(value, default=str)


def decoded(row: Row) -> Row:
    """Replace each ``<name>_json`` column by ``<name>``, decoded."""
    for column in [name for name in row if name.endswith("_json")]:
        text = row.pop(column)
        row[column.removesuffix("_json")] = None if text is None else json.loads(text)
    return row
