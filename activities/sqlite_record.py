"""The case record in one SQLite file, on this machine: the default.

The file is readable by its owner only, since it holds the youth's data,
and in WAL mode, so that the command line reads while the worker writes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from activities.case_record import SqlCaseRecord
from activities.schema import migrate

# Two threads creating one file would race on its schema_version row.
_CREATING = threading.Lock()


class SqliteCaseRecord(SqlCaseRecord):
    """The case record in one SQLite file, safe to share between threads.

    SQLite serialises writers itself, and WAL lets readers go on meanwhile.
    Each thread keeps one connection open for the record's lifetime: closing
    the last connection to a WAL file checkpoints it, and paying that on
    every activity was a sixth of the worker's time (docs/benchmarks.md).

    Args:
        path: The database file; created owner-only (0600) if missing.

    Raises:
        CaseRecordError: The file was written by a newer schema.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        with _CREATING:
            create(self.path)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, one transaction: committed, or rolled back.

        A call made inside another on the same thread joins the outer
        transaction rather than committing it halfway.
        """
        local = self._local
        if getattr(local, "connection", None) is None:
            connection = sqlite3.connect(self.path, timeout=30)
            connection.row_factory = sqlite3.Row
            # Closed with the thread's storage, when the thread or the record goes.
            local.connection, local.depth = connection, 0
        connection = local.connection
        if local.depth:
            yield connection
            return
        local.depth = 1
        try:
            with connection:
                yield connection
        finally:
            local.depth = 0


def create(path: Path) -> None:
    """Create the file owner-only (0600), in WAL mode, its tables migrated."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Create the file ourselves so that it is never readable by others, not
    # even for the moment before a chmod; SQLite gives its -wal and -shm
    # files the same mode as the database.
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)
    # No implicit transactions: the migration takes the write lock first,
    # so that two processes opening a new file apply it once.
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.row_factory = sqlite3.Row
    with closing(connection):
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("BEGIN IMMEDIATE")
        try:
            migrate(connection, "sqlite", lambda script: run_script(connection, script))
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def run_script(connection: sqlite3.Connection, script: str) -> None:
    """Run a migration's statements inside the caller's transaction.

    ``executescript`` would commit first, so each statement runs alone.
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            connection.execute(statement)
            statement = ""
