"""The case record on a PostgreSQL server, for a county that runs one.

Every statement is ``SqlCaseRecord``'s, shared with SQLite: this module
connects, turns its ``?`` marks into psycopg's, and reads timestamptz and
jsonb columns back as the SQLite record stores them, so that both records
answer with the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg.types.datetime import TimestamptzLoader
from psycopg.types.string import TextLoader

from activities.case_record import SqlCaseRecord
from activities.schema import migrate

# Holds off a second worker's migration until the first one's is committed.
MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(hashtext('case_record migration'))"


class PostgresCaseRecord(SqlCaseRecord):
    """The case record in a PostgreSQL database, its tables migrated.

    Args:
        url: A libpq connection string or ``postgresql://`` URL; it may
            carry the password, and is never logged.

    Raises:
        CaseRecordError: The database was written by a newer schema.
        psycopg.OperationalError: The server cannot be reached.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        with self._session() as session:
            session.execute(MIGRATION_LOCK)
            migrate(Marks(session), "postgres", session.execute)

    @contextmanager
    def connect(self) -> Iterator[Marks]:
        """One connection, one transaction: committed, or rolled back."""
        with self._session() as session:
            yield Marks(session)

    def _session(self) -> psycopg.Connection[DictRow]:
        # Limitation: a connection per call, no pool; an episode makes a few
        # dozen calls, each paying one connect (about 5 ms on loopback).
        session = psycopg.connect(self._url, row_factory=dict_row, connect_timeout=10)
        session.adapters.register_loader("timestamptz", UtcText)
        session.adapters.register_loader("jsonb", TextLoader)
        return session


class Marks:
    """A psycopg connection that takes the ``?`` marks SQLite takes.

    The shared statements hold no ``?`` or ``%`` of their own, so each ``?``
    is a parameter.
    """

    def __init__(self, session: psycopg.Connection[DictRow]) -> None:
        self.session = session

    def execute(
        self, sql: str, parameters: tuple[Any, ...] = ()
    ) -> psycopg.Cursor[DictRow]:
        return self.session.execute(sql.replace("?", "%s"), parameters)


class UtcText(TimestamptzLoader):
    """A timestamptz as the SQLite record stores a time: UTC ISO 8601 text."""

    def load(self, data: Any) -> str:  # type: ignore[override]
        return super().load(data).astimezone(UTC).isoformat()
