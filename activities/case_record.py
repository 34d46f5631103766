"""The durable case record: what happened, in SQL tables, for any database.

The record is where personal data belongs: the payload, the documentation,
what went to each agency. Every write carries the idempotency key of the
request that made it, so a retried activity finds its first result instead
of writing twice. ``SqlCaseRecord`` holds every statement, written once in
the SQL that SQLite and PostgreSQL share; ``sqlite_record`` and
``postgres_record`` only connect and migrate.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from activities.errors import CaseRecordError, UnknownEpisode
from activities.schema import (
    Connection,
    Row,
    decoded,
    insert,
    stored_json,
    stored_time,
)
from workflows.effects import (
    EPISODE_ENDED,
    FINAL_STATES,
    ChronoEntry,
    EpisodeOpened,
    Notice,
    StepRequest,
)
from workflows.payload import Disclosure, MissingReport
from workflows.refusal import explain

# What opened a record: a missing episode's payload or a disclosure.
REPORT: TypeAdapter[MissingReport | Disclosure] = TypeAdapter(
    MissingReport | Disclosure
)


class SqlCaseRecord:
    """The case record's reads and writes, on a connection a subclass opens.

    Each call opens its own connection and transaction, committed when the
    call returns, so the record is safe to share between threads and no
    connection crosses one.
    """

    def connect(self) -> AbstractContextManager[Connection]:
        """One connection, one transaction: committed, or rolled back."""
        raise NotImplementedError

    @staticmethod
    def _require_episode(connection: Connection, episode_id: str) -> None:
        found = connection.execute(
            "SELECT 1 FROM episodes WHERE episode_id = ?", (episode_id,)
        ).fetchone()
        if found is None:
            raise UnknownEpisode(episode_id)

    def open_episode(self, opened: EpisodeOpened) -> None:
        """Store the payload and settings that start an episode."""
        report = opened.report
        with self.connect() as connection:
            insert(
                connection,
                "episodes",
                {
                    "episode_id": opened.episode_id,
                    "idempotency_key": opened.idempotency_key,
                    "case_id": report.case_id,
                    "youth_id": report.youth.id,
                    "officer_id": report.officer.id,
                    "supervisor_id": report.supervisor.id,
                    "received_at": stored_time(report.received_at),
                    "started_at": stored_time(opened.started_at),
                    "report_json": report.model_dump_json(),
                    "settings_json": opened.settings.model_dump_json(),
                },
            )

    def report(self, episode_id: str) -> MissingReport | Disclosure:
        """The payload that opened an episode (or a disclosure).

        Raises:
            UnknownEpisode: No episode has that id.
            CaseRecordError: The stored payload no longer validates.
        """
        with self.connect() as connection:
            row = connection.execute(
                "SELECT report_json FROM episodes WHERE episode_id = ?",
                (episode_id,),
            ).fetchone()
        if row is None:
            raise UnknownEpisode(episode_id)
        try:
            return REPORT.validate_json(row["report_json"])
        except ValidationError as error:
            # explain() leaves the values out: they are the youth's data.
            raise CaseRecordError(
                f"episode {episode_id}: stored payload is invalid: {explain(error)}"
            ) from None

    def record_chrono(self, entry: ChronoEntry) -> None:
        """Add a line to the chrono; a final state closes the officer's task.

        A final state given for a whole step closes the tasks of its items
        too: a step is final only once none of its items is open.
        """
        at = stored_time(entry.at)
        with self.connect() as connection:
            self._require_episode(connection, entry.episode_id)
            insert(
                connection,
                "chrono",
                {
                    "case_id": entry.case_id,
                    "episode_id": entry.episode_id,
                    "at": at,
                    "event": entry.event,
                    "step": entry.step,
                    "item": entry.item,
                    "state": entry.state,
                    "detail_json": stored_json(entry.detail),
                    "idempotency_key": entry.idempotency_key,
                },
            )
            if entry.step is not None and entry.state in FINAL_STATES:
                connection.execute(
                    "UPDATE tasks SET closed_at = ? WHERE episode_id = ?"
                    " AND step = ? AND (CAST(? AS TEXT) IS NULL OR item = ?)"
                    " AND closed_at IS NULL",
                    (at, entry.episode_id, entry.step, entry.item, entry.item),
                )
            if entry.event == EPISODE_ENDED:
                connection.execute(
                    "UPDATE episodes SET ended_at = ?, final_state_json = ?"
                    " WHERE episode_id = ? AND ended_at IS NULL",
                    (at, stored_json(entry.detail), entry.episode_id),
                )

    def open_task(self, request: StepRequest, opened_at: datetime) -> None:
        """Put a step (or item) on the officer's list until it is final.

        If the chrono already holds its final state (activities ran out of
        order), the task opens closed, so it never lingers on the list.
        """
        with self.connect() as connection:
            self._require_episode(connection, request.episode_id)
            # Write first, then read the chrono: the write takes the
            # database's write lock, so a final state recorded by another
            # activity at the same moment is either seen here or closes
            # this task itself; never neither.
            insert(
                connection,
                "tasks",
                {
                    "idempotency_key": request.idempotency_key,
                    "case_id": request.case_id,
                    "episode_id": request.episode_id,
                    "step": request.step,
                    "item": request.item,
                    "officer_id": request.officer_id,
                    "due": stored_time(request.due),
                    "opened_at": stored_time(opened_at),
                    "closed_at": None,
                },
            )
            finals = ", ".join("?" * len(FINAL_STATES))
            connection.execute(
                "UPDATE tasks SET closed_at = (SELECT min(at) FROM chrono"
                " WHERE episode_id = ? AND step = ? AND (item IS NULL OR item = ?)"
                f" AND state IN ({finals}))"
                " WHERE idempotency_key = ? AND closed_at IS NULL",
                (
                    request.episode_id,
                    request.step,
                    request.item,
                    *FINAL_STATES,
                    request.idempotency_key,
                ),
            )

    def record_notice(self, notice: Notice) -> bool:
        """Store a staff notice; True while it has not been sent."""
        with self.connect() as connection:
            self._require_episode(connection, notice.episode_id)
            insert(
                connection,
                "notices",
                {
                    "idempotency_key": notice.idempotency_key,
                    "case_id": notice.case_id,
                    "episode_id": notice.episode_id,
                    "kind": notice.kind,
                    "recipient": notice.recipient,
                    "recipient_id": notice.recipient_id,
                    "step": notice.step,
                    "item": notice.item,
                    "period": notice.period,
                    "due": None if notice.due is None else stored_time(notice.due),
                    "at": stored_time(notice.at),
                },
            )
            row = connection.execute(
                "SELECT sent_at FROM notices WHERE idempotency_key = ?",
                (notice.idempotency_key,),
            ).fetchone()
        return row is None or row["sent_at"] is None

    def mark_notice_sent(self, idempotency_key: str, sent_at: datetime) -> None:
        """Record that a notice went out, so that a retry does not resend it."""
        with self.connect() as connection:
            connection.execute(
                "UPDATE notices SET sent_at = ? WHERE idempotency_key = ?"
                " AND sent_at IS NULL",
                (stored_time(sent_at), idempotency_key),
            )

    def record_submission(
        self,
        request: StepRequest,
        integration: str,
        reference: str,
        body: dict[str, Any],
        submitted_at: datetime,
    ) -> str:
        """Store what went to an outside agency; returns the first reference."""
        with self.connect() as connection:
            self._require_episode(connection, request.episode_id)
            insert(
                connection,
                "submissions",
                {
                    "idempotency_key": request.idempotency_key,
                    "case_id": request.case_id,
                    "episode_id": request.episode_id,
                    "integration": integration,
                    "step": request.step,
                    "item": request.item,
                    "reference": reference,
                    "submitted_at": stored_time(submitted_at),
                    "body_json": stored_json(body),
                },
            )
            row = connection.execute(
                "SELECT reference FROM submissions WHERE idempotency_key = ?",
                (request.idempotency_key,),
            ).fetchone()
        if row is None:
            raise CaseRecordError(f"submission {request.idempotency_key}: not stored")
        first: str = row["reference"]
        return first

    # Reads, for the command line, the adapters and the tests.

    def _rows(self, sql: str, *args: Any) -> list[Row]:
        with self.connect() as connection:
            rows = connection.execute(sql, args).fetchall()
        return [decoded(dict(row)) for row in rows]

    def episode(self, episode_id: str) -> Row | None:
        """The episode's row, JSON columns decoded; None if there is none."""
        rows = self._rows("SELECT * FROM episodes WHERE episode_id = ?", episode_id)
        return rows[0] if rows else None

    def episodes(self, case_id: str) -> list[Row]:
        """Every episode of a case, earliest received first."""
        return self._rows(
            "SELECT * FROM episodes WHERE case_id = ? ORDER BY received_at",
            case_id,
        )

    def chrono(self, episode_id: str) -> list[Row]:
        """The episode's chrono, by time, then in the order it was written.

        By time first: the workflow runs its activities concurrently, so two
        entries may be written in the other order than they happened.
        """
        return self._rows(
            "SELECT * FROM chrono WHERE episode_id = ? ORDER BY at, id", episode_id
        )

    def open_tasks(self, officer_id: str | None = None) -> list[Row]:
        """Tasks not yet closed, soonest due first: one officer's, or all."""
        return self._rows(
            "SELECT * FROM tasks WHERE closed_at IS NULL"
            " AND (CAST(? AS TEXT) IS NULL OR officer_id = ?) ORDER BY due, id",
            officer_id,
            officer_id,
        )

    def notices(self, episode_id: str) -> list[Row]:
        """The episode's staff notices, in the order they were recorded."""
        return self._rows(
            "SELECT * FROM notices WHERE episode_id = ? ORDER BY id", episode_id
        )

    def submission(self, idempotency_key: str) -> Row | None:
        """The submission a request made, if it made one."""
        rows = self._rows(
            "SELECT * FROM submissions WHERE idempotency_key = ?", idempotency_key
        )
        return rows[0] if rows else None

    def submissions(self, episode_id: str) -> list[Row]:
        """What went to outside agencies for the episode, in order."""
        return self._rows(
            "SELECT * FROM submissions WHERE episode_id = ? ORDER BY id", episode_id
        )
