"""How the command line shows an episode to people: times, tables, timelines."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from workflows.records import StepRecord, TrackedRecord

if TYPE_CHECKING:
    from simulation import Replay
    from workflows.abuse_report import DisclosureStatus
    from workflows.missing_youth import EpisodeStatus


def when(value: datetime | None, zone: ZoneInfo) -> str:
    """A time as a probation officer reads it: ``Sat 2027-05-29 23:45 PDT``."""
    if value is None:
        return "-"
    return value.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z")


def table(rows: list[list[str]]) -> list[str]:
    """Left-aligned columns, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    ]


def render_status(status: EpisodeStatus) -> list[str]:
    """The episode as an officer reads it: ids, phase, steps, periods."""
    record = status.record
    zone = record.settings.zone
    lines = [
        f"case      {status.case_id}",
        f"episode   {status.episode_id}",
        f"phase     {status.phase}",
        f"next due  {status.next_due_step or '-'}  {when(status.next_due_at, zone)}",
        f"overdue   {', '.join(status.overdue_steps) or '-'}",
    ]
    if record.located is not None:
        lines.append(f"located   {when(record.located.located_at, zone)}")
    if record.closure is not None:
        closure = record.closure
        lines.append(
            f"closed    {when(closure.closed_at, zone)}  "
            f"{closure.reason.value} by {closure.by}"
        )
    if record.ended_at is not None:
        lines.append(f"ended     {when(record.ended_at, zone)}")
    lines += ["", *steps_table(record, zone)]
    if record.periods:
        rows = [["locate period", "ends", "compliant"]]
        for period in record.periods:
            judged = "yes" if period.compliant else "NO"
            rows.append(
                [
                    str(period.number),
                    when(period.ends, zone),
                    judged if period.judged else "(running)",
                ]
            )
        lines += ["", *table(rows)]
    if record.escalations:
        rows = [["escalated", "at"]]
        for escalation in record.escalations:
            number = f" period {escalation.period}" if escalation.period else ""
            rows.append([f"{escalation.step.value}{number}", when(escalation.at, zone)])
        lines += ["", *table(rows)]
    return lines


def steps_table(record: TrackedRecord, zone: ZoneInfo) -> list[str]:
    """Every step that opened, with its items, due and done times."""
    rows = [["step", "state", "due", "done at", "attempts"]]
    for step in record.steps.values():
        rows += step_rows(step, zone)
    return table(rows)


def step_rows(step: StepRecord, zone: ZoneInfo) -> list[list[str]]:
    rows = [
        [
            step.name.value,
            step.state.value,
            when(step.due, zone),
            when(step.done_at, zone),
            str(len(step.attempts)),
        ]
    ]
    for key, item in (step.items or {}).items():
        tried = sum(1 for attempt in step.attempts if attempt.item == key)
        rows.append(
            [f"  {key}", item.state.value, "", when(item.done_at, zone), str(tried)]
        )
    return rows


def render_replay(path: Path, replayed: Replay, zone: ZoneInfo) -> list[str]:
    """A scenario's timeline, then its outcome (FORMAT.md, "The outcome")."""
    outcome = replayed.outcome
    lines = [f"== {path.name}: {replayed.title}"]
    # To the second: clocks act a millisecond after their instant.
    lines += [
        f"{at.astimezone(zone).replace(microsecond=0).isoformat()}  {text}"
        for at, text in replayed.timeline
    ]
    rows = [["step", "state", "due", "done at"]]
    for name, step in outcome["steps"].items():
        rows.append([name, step["state"], step["due"], step.get("done_at", "-")])
        items = step.get("items", {})
        rows += [[f"  {key}", state, "", ""] for key, state in items.items()]
    lines += ["", f"phase: {outcome['phase']}", *table(rows)]
    periods = outcome["locate_periods"]
    if periods:
        rows = [["locate period ends", "compliant"]]
        rows += [[p["ends"], "yes" if p["compliant"] else "NO"] for p in periods]
        lines += table(rows)
    refused = ", ".join(map(str, outcome["rejected_events"]))
    lines += [
        f"escalated: {', '.join(outcome['escalated_steps']) or '-'}",
        f"annual categories: {', '.join(outcome['annual_categories']) or '-'}",
        f"refused events: {refused or '-'}",
        "",
    ]
    return lines


def render_disclosure(status: DisclosureStatus) -> list[str]:
    """An abuse report outside any episode, as an officer reads it."""
    zone = status.record.settings.zone
    lines = [
        f"case          {status.case_id}",
        f"abuse report  {status.episode_id}",
        f"phase         {status.phase}",
        f"overdue       {', '.join(status.overdue_steps) or '-'}",
    ]
    return lines + ["", *steps_table(status.record, zone)]
