"""What the case record must hold for an episode: each side effect, once.

The workflow's status says what it decided: every chrono entry it numbered,
every escalation, every step done by an adapter (with the receipt), every
step and period put on the officer's list. ``missing`` lists what of that
is not in the case record; ``repeated`` lists what is in it more than once.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from workflows.effects import Receipt
from workflows.missing_youth import EpisodeStatus
from workflows.records import State
from workflows.settings import Mode
from workflows.tracker import DONE_STATES

# How a receipt names an adapter as its performer (activities/outbox.py).
ADAPTER = "adapter:"
# Chrono events the protocol writes at most once per step, item and state.
ONCE_EVENTS = frozenset(
    {
        "episode_opened",
        "step_opened",
        "step_overdue",
        "step_done",
        "step_settled",
        "missing_documentation",
        "episode_ended",
    }
)


def rows(path: Path, table: str, episode_id: str | None = None) -> list[dict[str, Any]]:
    """Every row of a case-record table, or one episode's, oldest first."""
    with closing(sqlite3.connect(path, timeout=30)) as connection:
        connection.row_factory = sqlite3.Row
        sql = f"SELECT * FROM {table}"
        if episode_id is None:
            found = connection.execute(f"{sql} ORDER BY id").fetchall()
        else:
            found = connection.execute(
                f"{sql} WHERE episode_id = ? ORDER BY id", (episode_id,)
            ).fetchall()
    return [dict(row) for row in found]


def automatic_steps_not_done(status: EpisodeStatus) -> list[str]:
    """Automatic steps (or items) of the episode that are not done yet."""
    waiting = []
    for name, step in status.record.steps.items():
        if step.mode != Mode.AUTOMATIC:
            continue
        if step.items is None:
            if step.state not in DONE_STATES:
                waiting.append(f"{name.value}: {step.state.value}")
            continue
        for key, item in step.items.items():
            if item.state not in DONE_STATES | {State.NOT_APPLICABLE}:
                waiting.append(f"{name.value} {key}: {item.state.value}")
    return waiting


def _expected_chrono_keys(status: EpisodeStatus) -> set[str]:
    episode_id = status.episode_id
    return {f"{episode_id}/chrono/{n}" for n in range(1, status.record.sequence + 1)}


def _submitted(status: EpisodeStatus) -> dict[tuple[str, str | None], str | None]:
    """(step, item) of each adapter's completion, and its receipt's reference."""
    done: dict[tuple[str, str | None], str | None] = {}
    for name, step in status.record.steps.items():
        units: list[tuple[str | None, Receipt | None]] = [(None, step.receipt)]
        if step.items is not None:
            units = [(key, item.receipt) for key, item in step.items.items()]
        for key, receipt in units:
            if receipt is not None and (receipt.performed_by or "").startswith(ADAPTER):
                done[(name.value, key)] = receipt.reference
    return done


def _tasks(status: EpisodeStatus) -> set[tuple[str, str | None]]:
    """(step, item) of each thing put on the officer's list."""
    tasks: set[tuple[str, str | None]] = set()
    for name, step in status.record.steps.items():
        if step.mode != Mode.OFFICER:
            continue
        if step.items is None:
            tasks.add((name.value, None))
        else:
            tasks |= {
                (name.value, key)
                for key, item in step.items.items()
                if item.state != State.NOT_APPLICABLE
            }
    tasks |= {("locate_effort", f"period-{p.number}") for p in status.record.periods}
    return tasks


def _escalations(status: EpisodeStatus) -> set[tuple[str, int | None]]:
    return {(e.step.value, e.period) for e in status.record.escalations}


def missing(path: Path, status: EpisodeStatus) -> list[str]:
    """What the workflow decided that the case record does not hold."""
    episode_id = status.episode_id
    chrono = {row["idempotency_key"] for row in rows(path, "chrono", episode_id)}
    submissions = {
        (row["step"], row["item"]): row["reference"]
        for row in rows(path, "submissions", episode_id)
    }
    tasks = {(row["step"], row["item"]) for row in rows(path, "tasks", episode_id)}
    escalations = {
        (row["step"], row["period"])
        for row in rows(path, "notices", episode_id)
        if row["kind"] == "escalation"
    }
    lacking = [f"chrono {key}" for key in _expected_chrono_keys(status) - chrono]
    for unit, reference in _submitted(status).items():
        if submissions.get(unit) != reference:
            lacking.append(f"submission {unit} with reference {reference}")
    lacking += [f"task {unit}" for unit in _tasks(status) - tasks]
    lacking += [f"escalation {unit}" for unit in _escalations(status) - escalations]
    if status.record.failed_effects:
        lacking.append(f"failed effects {status.record.failed_effects}")
    return sorted(lacking)


def repeated(path: Path, status: EpisodeStatus) -> list[str]:
    """What the case record holds more than once, or holds and was not asked."""
    episode_id = status.episode_id
    chrono = rows(path, "chrono", episode_id)
    counts: Counter[tuple[Any, ...]] = Counter()
    counts.update(
        ("chrono", row["event"], row["step"], row["item"], row["state"])
        for row in chrono
        if row["event"] in ONCE_EVENTS
    )
    counts.update(
        ("submission", row["step"], row["item"])
        for row in rows(path, "submissions", episode_id)
    )
    counts.update(
        ("task", row["step"], row["item"]) for row in rows(path, "tasks", episode_id)
    )
    notices = rows(path, "notices", episode_id)
    counts.update(
        (
            "notice",
            row["kind"],
            row["recipient"],
            row["step"],
            row["item"],
            row["period"],
        )
        for row in notices
    )
    twice = [f"{unit} x{count}" for unit, count in counts.items() if count > 1]

    # Nothing the workflow did not decide: the chrono holds its numbered
    # entries and one documentation entry per automatic documentation.
    documented = sum(1 for row in chrono if row["event"] == "missing_documentation")
    extra = len(chrono) - documented - len(_expected_chrono_keys(status))
    if extra:
        twice.append(f"chrono: {extra} entries the workflow did not number")
    submissions = {
        (row["step"], row["item"]) for row in rows(path, "submissions", episode_id)
    }
    twice += [
        f"submission {unit} without a receipt"
        for unit in submissions - set(_submitted(status))
    ]
    escalations = [row for row in notices if row["kind"] == "escalation"]
    if len(escalations) != len(status.record.escalations):
        twice.append(
            f"{len(escalations)} escalation notices for "
            f"{len(status.record.escalations)} escalations"
        )
    return sorted(twice)


async def eventually(
    check: Callable[[], Awaitable[list[str]]], timeout: float, every: float = 0.2
) -> list[str]:
    """Poll ``check`` until it finds nothing; its last findings otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = await check()
        if not found or loop.time() > deadline:
            return found
        await asyncio.sleep(every)
