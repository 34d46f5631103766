"""Replay a scenario file on Temporal's time-skipping test server.

The real workflow and activity code run; months pass in seconds. A scenario
dated in the past is moved forward by whole 28-year cycles (weekdays, leap
days and the US daylight-saving rule repeat) and its outcome moved back, so it
gives the outcome of its own dates. The file format, and comparing an outcome
with a file's ``expect``, are ``scenarios.py``.
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from codec import KeyRing, data_converter
from scenarios import (
    CYCLE_YEARS,
    Event,
    Scenario,
    ScenarioError,
    cycles_to_future,
    load,
    shift_text,
    shift_years,
)
from workflows.abuse_report import AbuseReportWorkflow
from workflows.missing_youth import EpisodeInput, EpisodeStatus, MissingYouthWorkflow
from workflows.payload import validate_report
from workflows.runtime import CLOCK_GRACE
from workflows.sandbox import workflow_runner
from workflows.search import SEARCH_ATTRIBUTES, TASK_QUEUE, workflow_id
from workflows.settings import CountySettings

ACTIONS = {
    "complete_step": "complete_step",
    "record_attempt": "record_attempt",
    "record_effort": "record_effort",
    "located": "confirm_located",
    "record_debrief": "record_debrief",
    "close": "close",
}
TIME_FIELDS = {
    "close": "closed_at",
    "complete_step": "performed_at",
    "record_attempt": "performed_at",
    "record_effort": "performed_at",
    "located": "located_at",
    "record_debrief": "performed_at",
}


class Replay(BaseModel):
    """What a replay produced: the outcome and a readable timeline."""

    title: str
    outcome: dict[str, Any]
    timeline: list[tuple[datetime, str]]
    # In the scenario's own shifted dates: for tests that look deeper.
    status: EpisodeStatus


async def replay(
    path: Path,
    test_server: Path,
    activities_for: Any,
    keep_history: Callable[[str], None] | None = None,
    runtime: Runtime | None = None,
) -> Replay:
    """Run one scenario file on a fresh time-skipping server.

    Args:
        path: the scenario file.
        test_server: the ``temporal-test-server`` binary.
        activities_for: called with the case-record path, returns the
            activities to run (the product's own, by configuration).
        keep_history: given the episode's history as JSON, for saving.
        runtime: the SDK runtime of the client and worker, e.g. one that
            serves metrics; by default ``quiet_runtime()``.
    """
    scenario, report = load(path)
    start_at = scenario.start_at or report.received_at
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server),
        # A key of its own: the server and the key end with the replay. A
        # history kept for tests/test_replay.py stays unsealed so that it
        # replays without a key; scenarios hold only fictional people.
        data_converter=(
            pydantic_data_converter
            if keep_history
            else data_converter(KeyRing.generate())
        ),
        runtime=runtime or quiet_runtime(),
    )
    async with env:
        years = CYCLE_YEARS * cycles_to_future(start_at, await env.get_current_time())
        moved = Scenario.model_validate(
            shift_years(scenario.model_dump(mode="json"), years)
        )
        with tempfile.TemporaryDirectory() as folder:
            outcome, timeline, status = await _run(
                env,
                moved,
                activities_for(Path(folder) / "case-record.sqlite3"),
                keep_history,
            )
    return Replay(
        title=scenario.title,
        outcome=shift_years(outcome, -years),
        timeline=[
            (shift_years(at, -years), shift_text(line, -years)) for at, line in timeline
        ],
        status=status,
    )


@functools.cache
def quiet_runtime() -> Runtime:
    """An SDK runtime that keeps the core's warnings out of the timeline.

    The test server does not advertise newer capabilities, and the core warns
    about it on every worker; a simulation's reader needs none of that.
    """
    telemetry = TelemetryConfig(
        logging=LoggingConfig(
            filter=TelemetryFilter(core_level="ERROR", other_level="ERROR")
        )
    )
    return Runtime(telemetry=telemetry)


async def register_search_attributes(client: Client) -> None:
    """The test server knows no custom search attribute until told."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type)
                for key in SEARCH_ATTRIBUTES
            },
        )
    )


async def _run(
    env: WorkflowEnvironment,
    scenario: Scenario,
    activities: list[Any],
    keep_history: Callable[[str], None] | None,
) -> tuple[dict[str, Any], list[tuple[datetime, str]], EpisodeStatus]:
    client = env.client
    await register_search_attributes(client)
    start_at = scenario.start_at or datetime.fromisoformat(
        scenario.report["received_at"]
    )
    await _sleep_until(env, start_at)
    report = validate_report(scenario.report, start_at)
    settings = CountySettings(modes=scenario.modes)  # type: ignore[arg-type]
    timeline = [(start_at, f"start  episode {report.case_id}")]
    rejected: list[int] = []
    async with Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[MissingYouthWorkflow, AbuseReportWorkflow],
        activities=activities,
        workflow_runner=workflow_runner(),
    ):
        handle = await client.start_workflow(
            MissingYouthWorkflow.run,
            EpisodeInput(report=report, settings=settings),
            id=workflow_id(report.case_id),
            task_queue=TASK_QUEUE,
        )
        for index, event in enumerate(scenario.events):
            await _settle(client, handle)
            await _sleep_until(env, event.at)
            fields = _fields(event)
            try:
                result = await handle.execute_update(ACTIONS[event.action], fields)
                timeline.append((event.at, f"{_describe(event, fields)}  -> {result}"))
            except WorkflowUpdateFailedError as error:
                rejected.append(index)
                message = getattr(error.cause, "message", str(error.cause))
                timeline.append(
                    (event.at, f"{_describe(event, fields)}  REFUSED: {message}")
                )
            except RPCError:
                rejected.append(index)
                timeline.append(
                    (
                        event.at,
                        f"{_describe(event, fields)}  REFUSED: episode: has ended",
                    )
                )
        await _settle(client, handle)
        await _sleep_until(env, scenario.until + 2 * CLOCK_GRACE)
        status = await _settle(client, handle)
        if keep_history is not None:
            keep_history((await handle.fetch_history()).to_json())
    timeline += _clock_lines(status)
    timeline.sort(key=lambda entry: entry[0])
    return outcome_of(status, rejected), timeline, status


def _describe(event: Event, fields: dict[str, Any]) -> str:
    """An event as the timeline names it: action, step and item or kind."""
    named = [fields.get(key) for key in ("step", "item", "kind", "reason")]
    return "  ".join([event.action, *(str(value) for value in named if value)])


def _fields(event: Event) -> dict[str, Any]:
    """The Update's input: the event less its time, which becomes the
    default time the action was performed (FORMAT.md, "Events")."""
    fields = event.model_dump(mode="json", exclude={"at", "action"})
    time_field = TIME_FIELDS.get(event.action)
    if time_field is not None and fields.get(time_field) is None:
        fields[time_field] = event.at.isoformat()
    return fields


async def _settle(
    client: Client, handle: WorkflowHandle, seconds: float = 60
) -> EpisodeStatus:
    """Wait (in real time, the clock held) until no side effect is in flight.

    The test server skips time whenever it is let, even while an activity
    runs; an adapter that finished after the skip would be judged late. So
    time moves on only once every decided side effect, the episode's and
    its abuse reports', has been carried out.
    """
    for _ in range(int(seconds / 0.01)):
        status = await handle.query(MissingYouthWorkflow.status)
        busy = status.side_effects_running > 0
        for child_id in status.abuse_reports_running:
            child = client.get_workflow_handle(child_id)
            report = await child.query(AbuseReportWorkflow.status)
            busy = busy or report.side_effects_running > 0
        if not busy:
            return status
        await asyncio.sleep(0.01)
    raise ScenarioError("the episode's side effects did not finish in time")


async def _sleep_until(env: WorkflowEnvironment, at: datetime) -> None:
    gap = at - await env.get_current_time()
    if gap > timedelta(0):
        await env.sleep(gap)


def outcome_of(status: EpisodeStatus, rejected: list[int]) -> dict[str, Any]:
    """The outcome of FORMAT.md, "The outcome", from an episode's status."""
    record = status.record
    zone = record.settings.zone
    steps: dict[str, Any] = {}
    for name, step in record.steps.items():
        view: dict[str, Any] = {
            "state": step.state.value,
            "due": step.due.astimezone(zone).isoformat(),
        }
        if step.done_at is not None:
            view["done_at"] = step.done_at.astimezone(zone).isoformat()
        if step.items is not None:
            view["items"] = {key: item.state.value for key, item in step.items.items()}
        steps[name.value] = view
    return {
        "phase": status.phase,
        "steps": steps,
        "escalated_steps": status.escalated_steps,
        "locate_periods": [
            {
                "ends": period.ends.astimezone(zone).isoformat(),
                "compliant": period.compliant,
            }
            for period in record.periods
            if period.judged
        ],
        "annual_categories": status.annual_categories,
        "rejected_events": rejected,
    }


def _clock_lines(status: EpisodeStatus) -> list[tuple[datetime, str]]:
    """The clocks' part of the timeline: steps opened, done, escalated."""
    record = status.record
    lines = [
        (
            e.at,
            f"escalated  {e.step.value}" + (f" period {e.period}" if e.period else ""),
        )
        for e in record.escalations
    ]
    for name, step in record.steps.items():
        due = step.due.astimezone(record.settings.zone).isoformat()
        lines.append((step.opened_at, f"opened  {name.value}  due {due}"))
        if step.done_at is not None:
            lines.append((step.done_at, f"{step.state.value}  {name.value}"))
    lines += [
        (
            p.ends,
            f"judged  locate_effort period {p.number}: "
            + ("compliant" if p.compliant else "NOT compliant"),
        )
        for p in record.periods
        if p.judged
    ]
    if record.ended_at is not None:
        lines.append((record.ended_at, "episode ended"))
    return lines
