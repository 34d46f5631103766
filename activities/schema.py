"""The case record's tables: migrations in the repository, and stored rows.

Each database kind has its migrations in ``migrations/<dialect>/``, one
file per version (``0001_initial.sql``, ``0002_...``), the same numbers in
every dialect. ``migrate`` applies those newer than the record's
``schema_version`` in order, in one transaction, and records each. Rows
come back alike from every dialect: times as UTC ISO 8601 text, and each
``<name>_json`` column decoded to ``<name>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any, Protocol

from activities.errors import CaseRecordError

Row = dict[str, Any]

MIGRATIONS = files("activities") / "migrations"


class Cursor(Protocol):
    def fetchone(self) -> Mapping[str, Any] | None: ...

    def fetchall(self) -> Sequence[Mapping[str, Any]]: ...


class Connection(Protocol):
    """What the case record asks of a connection: SQL with ``?`` marks."""

    def execute(self, sql: str, parameters: tuple[Any, ...] = ..., /) -> Cursor: ...


def migrations(dialect: str) -> list[tuple[int, str]]:
    """The dialect's migrations, oldest first: (version, SQL script)."""
    scripts = [
        path for path in (MIGRATIONS / dialect).iterdir() if path.name.endswith(".sql")
    ]
    return [
        (int(path.name.split("_", 1)[0]), path.read_text(encoding="utf-8"))
        for path in sorted(scripts, key=lambda path: path.name)
    ]


# The version this code writes: the newest migration.
SCHEMA_VERSION = migrations("sqlite")[-1][0]


def migrate(
    connection: Connection, dialect: str, run_script: Callable[[str], object]
) -> None:
    """Bring the record's tables up to ``SCHEMA_VERSION``.

    The caller holds the database's lock for migrations and commits after.

    Args:
        connection: Inside the transaction that migrates.
        dialect: The folder of migrations to apply.
        run_script: Runs one migration's statements on that connection.

    Raises:
        CaseRecordError: The record was written by a newer schema.
    """
    connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
    )
    row = connection.execute(
        "SELECT max(version) AS version FROM schema_version"
    ).fetchone()
    found = 0 if row is None or row["version"] is None else row["version"]
    if found > SCHEMA_VERSION:
        raise CaseRecordError(
            f"case record schema version {found} is newer than this code's "
            f"({SCHEMA_VERSION})"
        )
    for version, script in migrations(dialect):
        if version > found:
            run_script(script)
            connection.execute(
                "INSERT INTO schema_version (version) VALUES (?)", (version,)
            )


def insert(connection: Connection, table: str, row: Row) -> None:
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
