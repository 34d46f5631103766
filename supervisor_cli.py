"""The supervisors' commands: the caseload, tasks, the annual report.

``overview`` and ``tasks`` show what is open and due; ``annual-report``
counts a year for the State (§4.D) and ``schedule-annual-report`` makes a
Temporal Schedule send it every January; ``assess`` records an at-risk
assessment (§1.C, §3.A). ``starter.py`` registers them with
``add_commands``, passing its Temporal client, so that this module never
imports it (run as a script, starter is ``__main__``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from activities.annual_report import count_year
from activities.report_record import record_assessment
from annual_views import annual_csv, annual_text
from caseload import Filters, overview
from config import load_settings
from configured_record import configured_record
from officer_tasks import officer_tasks
from views import table, when
from workflows.annual_report import SCHEDULE_ID, AnnualReportInput, AnnualReportWorkflow
from workflows.assessment import assess
from workflows.payload import Indicator
from workflows.refusal import explain
from workflows.search import TASK_QUEUE

ID_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
)

Command = Callable[..., argparse.ArgumentParser]
ClientFactory = Callable[[], Awaitable[Client]]


def an_id(text: str) -> str:
    """An argparse type: an id, as visibility queries and records hold."""
    if not text or len(text) > 64 or not set(text) <= ID_CHARACTERS:
        raise argparse.ArgumentTypeError("must be an id (letters, digits, . _ -)")
    return text


def aware_time(text: str) -> datetime:
    """An argparse type: an ISO 8601 time with its UTC offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            "must be an ISO 8601 time with its offset, e.g. 2027-03-13T09:10:00-08:00"
        )
    return value


def year(text: str) -> int:
    """An argparse type: a reporting year."""
    if not text.isdigit() or not 2000 <= int(text) <= 2200:
        raise argparse.ArgumentTypeError("must be a year, e.g. 2027")
    return int(text)


def show(value: Any, lines: list[str], as_json: bool) -> None:
    print(json.dumps(value, indent=2, default=str) if as_json else "\n".join(lines))


def annual_schedule(recipient_id: str, time_zone: str) -> Schedule:
    """Every 15 January at 08:00 in the county's zone, last year's report.

    Mid-January leaves two weeks for the year's last debriefs and
    assessments to be recorded before the year is counted.
    """
    return Schedule(
        action=ScheduleActionStartWorkflow(
            AnnualReportWorkflow.run,
            AnnualReportInput(recipient_id=recipient_id, time_zone=time_zone),
            id=SCHEDULE_ID,
            task_queue=TASK_QUEUE,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    month=[ScheduleRange(1)],
                    day_of_month=[ScheduleRange(15)],
                    hour=[ScheduleRange(8)],
                    comment="15 January, 08:00: the year before",
                )
            ],
            time_zone_name=time_zone,
        ),
    )


def add_commands(command: Command, client: ClientFactory) -> None:
    """Add the supervisors' commands to starter's parser.

    Args:
        command: starter's ``command(name, handler, help)``.
        client: Connects to Temporal as starter does.
    """

    def record_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--case-record",
            type=Path,
            help="the SQLite case record (default: the configuration's)",
        )

    async def show_overview(args: argparse.Namespace) -> int:
        zone = load_settings(args.config).zone
        record = configured_record(args.config, args.case_record)
        filters = Filters(args.officer, args.unit, args.overdue)
        rows = await overview(
            await client(), record, filters, datetime.now(UTC), args.names
        )
        head = ["case", "youth", "officer", "unit", "phase", "next step", "due"]
        lines = [head + ["overdue", "days", "last effort"]]
        for row in rows:
            youth = row.youth_name if args.names else row.youth_id
            lines.append(
                [
                    row.case_id,
                    youth or "-",
                    row.officer_id or "-",
                    row.unit or "-",
                    row.phase or "-",
                    row.next_due_step or "-",
                    when(row.next_due_at, zone),
                    ", ".join(row.overdue_steps) or ("OVERDUE" if row.overdue else ""),
                    "-" if row.days_missing is None else str(row.days_missing),
                    when(row.last_effort_at, zone),
                ]
            )
        text = table(lines) if rows else ["no open episodes"]
        show([row.model_dump(mode="json") for row in rows], text, args.json)
        return 0

    async def show_tasks(args: argparse.Namespace) -> int:
        zone = load_settings(args.config).zone
        record = configured_record(args.config, args.case_record)
        found = officer_tasks(record, datetime.now(UTC), args.officer)
        lines = [["officer", "case", "step", "item", "due", "overdue", "reminded"]]
        for task in found:
            lines.append(
                [
                    task.officer_id,
                    task.case_id,
                    task.step,
                    task.item or "-",
                    when(task.due, zone),
                    "OVERDUE" if task.overdue else "",
                    when(task.reminded_at, zone),
                ]
            )
        text = table(lines) if found else ["no open tasks"]
        show([task.model_dump(mode="json") for task in found], text, args.json)
        return 0

    async def annual_report(args: argparse.Namespace) -> int:
        zone = load_settings(args.config).zone
        record = configured_record(args.config, args.case_record)
        report = count_year(record, args.year, zone)
        if args.csv:
            print(annual_csv(report), end="")
        else:
            show(report.model_dump(mode="json"), annual_text(report), args.json)
        return 0

    async def schedule_annual_report(args: argparse.Namespace) -> int:
        zone = load_settings(args.config).time_zone
        schedule = annual_schedule(args.to, zone)
        temporal = await client()
        try:
            handle = await temporal.create_schedule(SCHEDULE_ID, schedule)
        except ScheduleAlreadyRunningError:
            # Running the command again changes the recipient or the zone.
            handle = temporal.get_schedule_handle(SCHEDULE_ID)

            def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=schedule)

            await handle.update(replace)
        info = (await handle.describe()).info
        upcoming = info.next_action_times[0] if info.next_action_times else None
        result = {"schedule_id": SCHEDULE_ID, "recipient_id": args.to}
        result["next_run_at"] = None if upcoming is None else upcoming.isoformat()
        text = (
            f"schedule {SCHEDULE_ID}: the annual report goes to {args.to} every "
            f"15 January 08:00 ({zone}); next {result['next_run_at'] or '-'}"
        )
        show(result, [text], args.json)
        return 0

    async def record_at_risk(args: argparse.Namespace) -> int:
        record = configured_record(args.config, args.case_record, create=True)
        at = args.assessed_at or datetime.now(UTC).replace(microsecond=0)
        indicators = [Indicator(indicator) for indicator in args.indicator]
        try:
            assessment = assess(args.case, args.youth, indicators, args.by, at)
        except ValidationError as error:
            assess_parser.error(f"assessment refused: {explain(error)}")
        record_assessment(record, assessment)
        seen = ", ".join(assessment.indicators) or "no indicators"
        verdict = "at risk" if assessment.at_risk else "not at risk"
        text = (
            f"assessment recorded for youth {args.youth} in case {args.case}: "
            f"{verdict} ({seen})"
        )
        show(assessment.model_dump(mode="json"), [text], args.json)
        return 0

    sub = command("overview", show_overview, "every open episode: due, overdue")
    sub.add_argument("--officer", type=an_id, help="only this officer's")
    sub.add_argument("--unit", type=an_id, help="only this unit's (supervisor id)")
    sub.add_argument("--overdue", action="store_true", help="only those overdue")
    sub.add_argument(
        "--names", action="store_true", help="show youths' names (off by default)"
    )
    record_option(sub)
    sub = command("tasks", show_tasks, "each officer's open tasks and reminders")
    sub.add_argument("--officer", type=an_id, help="only this officer's")
    record_option(sub)
    sub = command("annual-report", annual_report, "the State's six counts (§4.D)")
    sub.add_argument("year", type=year, metavar="YEAR")
    sub.add_argument("--csv", action="store_true", help="print CSV")
    record_option(sub)
    sub = command(
        "schedule-annual-report",
        schedule_annual_report,
        "send last year's report every 15 January (a Temporal Schedule)",
    )
    sub.add_argument("--to", required=True, type=an_id, help="supervising officer id")
    sub = assess_parser = command(
        "assess", record_at_risk, "record an at-risk assessment (§1.C)"
    )
    sub.add_argument("case", type=an_id, metavar="CASE")
    sub.add_argument("--youth", required=True, type=an_id, help="youth id")
    sub.add_argument(
        "--indicator",
        action="append",
        default=[],
        choices=[indicator.value for indicator in Indicator],
        help="an indicator seen (repeat for each)",
    )
    sub.add_argument("--by", type=an_id, help="officer id")
    sub.add_argument("--assessed-at", type=aware_time, help="ISO 8601; now")
    record_option(sub)
