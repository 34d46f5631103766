"""The caseload overview: every open episode, what is due and overdue.

Temporal visibility lists the open episodes by their search attributes
(ids, phase, next due time, overdue flag: nothing about the youth). The case
record adds what visibility must not hold: the unit (the supervisor's id),
when the absence was learned of and the youth was located, the last locate
effort, and the youth's name for a viewer who asks for it. Each episode's
``status`` query names the next step and the overdue ones; when no worker
answers, they are read from the officer's open tasks in the record instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel
from temporalio.client import Client
from temporalio.exceptions import TemporalError

from activities import SqlCaseRecord
from activities.report_record import rows
from activities.schema import Row
from workflows.missing_youth import EpisodeStatus, MissingYouthWorkflow
from workflows.search import (
    CASE_ID,
    EPISODE_PHASE,
    NEXT_DUE_AT,
    OFFICER_ID,
    OVERDUE,
    workflow_id,
)

# A status query waits this long for a worker before the record answers.
STATUS_TIMEOUT = timedelta(seconds=2)


@dataclass(frozen=True)
class Filters:
    """Which open episodes to show; None shows all."""

    officer: str | None = None
    unit: str | None = None
    overdue: bool = False


class OverviewRow(BaseModel):
    """One open episode as a supervisor scans it."""

    case_id: str
    episode_id: str | None
    officer_id: str | None
    unit: str | None
    phase: str | None
    next_due_step: str | None
    next_due_at: AwareDatetime | None
    overdue: bool
    overdue_steps: list[str]
    received_at: AwareDatetime | None
    located_at: AwareDatetime | None
    days_missing: int | None
    last_effort_at: AwareDatetime | None
    last_effort_kind: str | None
    youth_id: str | None
    youth_name: str | None = None
    # "status" when the episode's worker answered, else "record".
    steps_from: str


def visibility_query(filters: Filters) -> str:
    """The list filter; ids were checked to hold id characters only."""
    query = "WorkflowType = 'MissingYouthWorkflow' AND ExecutionStatus = 'Running'"
    if filters.overdue:
        query += " AND Overdue = true"
    if filters.officer:
        query += f" AND OfficerId = '{filters.officer}'"
    return query


async def open_episodes(client: Client, filters: Filters) -> list[dict[str, Any]]:
    """The search attributes of each open episode that passes the filters."""
    found = []
    async for execution in client.list_workflows(visibility_query(filters)):
        attributes = execution.typed_search_attributes
        found.append(
            {
                "case_id": attributes.get(CASE_ID),
                "officer_id": attributes.get(OFFICER_ID),
                "phase": attributes.get(EPISODE_PHASE),
                "next_due_at": attributes.get(NEXT_DUE_AT),
                "overdue": bool(attributes.get(OVERDUE)),
            }
        )
    return found


async def episode_status(client: Client, case_id: str) -> EpisodeStatus | None:
    """The case's latest episode's status, or None if no worker answers."""
    handle = client.get_workflow_handle(workflow_id(case_id))
    try:
        return await handle.query(
            MissingYouthWorkflow.status, rpc_timeout=STATUS_TIMEOUT
        )
    except (TemporalError, TimeoutError):
        return None


@dataclass
class RecordFacts:
    """What the case record holds of the open episodes, read in 3 queries."""

    episodes: dict[str, Row]  # by case id
    events: dict[str, list[Row]]  # located and effort chrono, by episode id
    tasks: dict[str, list[Row]]  # open tasks, by episode id


def record_facts(record: SqlCaseRecord) -> RecordFacts:
    """Open episodes, their located and effort entries, and open tasks."""
    episodes = rows(
        record,
        "SELECT episode_id, case_id, youth_id, supervisor_id, received_at,"
        " report_json FROM episodes WHERE ended_at IS NULL ORDER BY received_at",
    )
    events = rows(
        record,
        "SELECT c.episode_id, c.event, c.detail_json FROM chrono c"
        " JOIN episodes e ON e.episode_id = c.episode_id"
        " WHERE e.ended_at IS NULL AND c.event IN ('located', 'effort_recorded')"
        " ORDER BY c.at, c.id",
    )
    facts = RecordFacts({row["case_id"]: row for row in episodes}, {}, {})
    for row in events:
        facts.events.setdefault(row["episode_id"], []).append(row)
    for row in record.open_tasks():
        facts.tasks.setdefault(row["episode_id"], []).append(row)
    return facts


def overview_row(
    listed: dict[str, Any],
    facts: RecordFacts,
    status: EpisodeStatus | None,
    now: datetime,
    names: bool,
) -> OverviewRow:
    """Join one listed episode with the record and, if any, its status."""
    episode = facts.episodes.get(listed["case_id"]) or {}
    episode_id = episode.get("episode_id")
    events = facts.events.get(episode_id or "", [])
    located = [
        row["detail"]["located_at"] for row in events if row["event"] == "located"
    ]
    efforts = [row["detail"] for row in events if row["event"] == "effort_recorded"]
    last_effort = max(efforts, key=lambda e: e["performed_at"], default=None)
    received = episode.get("received_at")
    located_at = datetime.fromisoformat(located[-1]) if located else None
    days = None
    if received is not None:
        days = ((located_at or now) - datetime.fromisoformat(received)).days
    phase, due_at, overdue = listed["phase"], listed["next_due_at"], listed["overdue"]
    if status is not None:
        # The status is current; visibility may lag it by a moment.
        next_step, overdue_steps = status.next_due_step, status.overdue_steps
        phase, due_at, overdue = status.phase, status.next_due_at, bool(overdue_steps)
    else:
        tasks = facts.tasks.get(episode_id or "")
        next_step, overdue_steps = steps_from_tasks(tasks, now)
    youth = (episode.get("report") or {}).get("youth", {})
    return OverviewRow(
        case_id=listed["case_id"],
        episode_id=episode_id,
        officer_id=listed["officer_id"],
        unit=episode.get("supervisor_id"),
        phase=phase,
        next_due_step=next_step,
        next_due_at=due_at,
        overdue=overdue,
        overdue_steps=overdue_steps,
        received_at=received,
        located_at=located_at,
        days_missing=days,
        last_effort_at=last_effort["performed_at"] if last_effort else None,
        last_effort_kind=last_effort["kind"] if last_effort else None,
        youth_id=episode.get("youth_id"),
        youth_name=f"{youth['first_name']} {youth['last_name']}"
        if names and youth
        else None,
        steps_from="status" if status is not None else "record",
    )


def steps_from_tasks(
    tasks: Sequence[Row] | None, now: datetime
) -> tuple[str | None, list[str]]:
    """The next step and the overdue ones, from the officer's open tasks.

    Limitation: a step done automatically has no task, so one whose adapter
    keeps failing is missed here while no worker answers.
    """
    # As the status orders them: by due, then by step name.
    tasks = sorted(tasks or [], key=lambda task: (task["due"], task["step"]))
    overdue = [
        task["step"] for task in tasks if datetime.fromisoformat(task["due"]) <= now
    ]
    return (tasks[0]["step"] if tasks else None), list(dict.fromkeys(overdue))


async def overview(
    client: Client,
    record: SqlCaseRecord,
    filters: Filters,
    now: datetime,
    names: bool = False,
) -> list[OverviewRow]:
    """Every open episode that passes the filters, overdue first.

    Args:
        client: Reads visibility and queries each episode's status.
        record: The case record the worker writes.
        filters: Officer, unit (supervisor id) and overdue.
        now: Days missing and overdue tasks are counted to it.
        names: Add the youth's name from the case record.
    """
    listed, facts = await asyncio.gather(
        open_episodes(client, filters), asyncio.to_thread(record_facts, record)
    )
    if filters.unit is not None:
        listed = [
            episode
            for episode in listed
            if (facts.episodes.get(episode["case_id"]) or {}).get("supervisor_id")
            == filters.unit
        ]
    statuses = await asyncio.gather(
        *(episode_status(client, episode["case_id"]) for episode in listed)
    )
    found = [
        overview_row(episode, facts, status, now, names)
        for episode, status in zip(listed, statuses, strict=True)
    ]
    far = datetime.max.replace(tzinfo=now.tzinfo)
    found.sort(key=lambda row: (not row.overdue, row.next_due_at or far, row.case_id))
    return found
