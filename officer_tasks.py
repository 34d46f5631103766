"""Each officer's open tasks, from the case record: what is left to them.

A task is a step (or one item of it, or a monthly locate period) that the
officer must do and confirm; it closes when the step is final. Beside each
task is the last reminder the officer was sent for it, if any.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel

from activities import SqlCaseRecord
from activities.report_record import rows
from activities.schema import Row


class OfficerTask(BaseModel):
    """One open task on an officer's list."""

    officer_id: str
    case_id: str
    episode_id: str
    step: str
    item: str | None
    due: AwareDatetime
    overdue: bool
    opened_at: AwareDatetime
    reminded_at: AwareDatetime | None


def reminds(notice: Row, task: Row) -> bool:
    """A reminder is for a task of its step; one without an item or period
    is for every item of the step."""
    if notice["episode_id"] != task["episode_id"] or notice["step"] != task["step"]:
        return False
    if notice["period"] is not None:
        return task["item"] == f"period-{notice['period']}"
    return notice["item"] is None or notice["item"] == task["item"]


def officer_tasks(
    record: SqlCaseRecord, now: datetime, officer_id: str | None = None
) -> list[OfficerTask]:
    """Open tasks, one officer's or everyone's, by officer then soonest due."""
    tasks = record.open_tasks(officer_id)
    reminders = rows(
        record,
        "SELECT episode_id, step, item, period, at FROM notices"
        " WHERE kind = 'reminder' AND recipient = 'officer' AND episode_id IN"
        " (SELECT episode_id FROM tasks WHERE closed_at IS NULL) ORDER BY at",
    )
    found = []
    for task in tasks:
        sent = [notice["at"] for notice in reminders if reminds(notice, task)]
        due = datetime.fromisoformat(task["due"])
        found.append(
            OfficerTask(
                officer_id=task["officer_id"],
                case_id=task["case_id"],
                episode_id=task["episode_id"],
                step=task["step"],
                item=task["item"],
                due=due,
                overdue=due <= now,
                opened_at=task["opened_at"],
                reminded_at=sent[-1] if sent else None,
            )
        )
    found.sort(key=lambda task: (task.officer_id, task.due))
    return found
