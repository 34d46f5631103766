"""Scenario files: the format of ../shared/scenarios/FORMAT.md.

Reading and refusing a file, moving its dates by whole 28-year cycles, and
comparing an outcome with what the file expects. Replaying one is
``simulation.py``.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from workflows.payload import MissingReport, validate_report
from workflows.refusal import Refused, explain
from workflows.steps import check_modes

CYCLE_YEARS = 28
ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z))?"
)


class Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    at: AwareDatetime
    action: Literal[
        "complete_step",
        "record_attempt",
        "record_effort",
        "located",
        "record_debrief",
        "close",
    ]


class Scenario(BaseModel):
    """One episode written down as data (FORMAT.md, "The file")."""

    model_config = ConfigDict(extra="forbid")

    title: str
    report: dict[str, Any]
    start_at: AwareDatetime | None = None
    modes: dict[str, str] = {}
    events: list[Event] = []
    until: AwareDatetime
    expect: dict[str, Any] = {}


class ScenarioError(ValueError):
    """The whole file is refused (exit 2): it cannot be replayed at all."""


def load(path: Path) -> tuple[Scenario, MissingReport]:
    """Read and check a scenario file; refuse it whole when it cannot run.

    Raises:
        ScenarioError: bad JSON, a refused payload or modes, a time without
            an offset, events out of order or before start_at, an unknown
            action.
    """
    try:
        scenario = Scenario.model_validate_json(path.read_bytes())
    except ValidationError as error:
        raise ScenarioError(f"{path.name}: {explain(error)}") from None
    except OSError as error:
        raise ScenarioError(f"{path.name}: cannot be read ({error.strerror})") from None
    start_at = scenario.start_at or _received_at(scenario, path)
    try:
        report = validate_report(scenario.report, start_at)
        check_modes(scenario.modes)
    except ValidationError as error:
        raise ScenarioError(f"{path.name}: report.{explain(error)}") from None
    except Refused as error:
        raise ScenarioError(f"{path.name}: {error}") from None
    previous = start_at
    for index, event in enumerate(scenario.events):
        if event.at < previous:
            raise ScenarioError(
                f"{path.name}: events.{index}.at: events must not go backwards "
                "or come before start_at"
            )
        previous = event.at
    return scenario, report


def _received_at(scenario: Scenario, path: Path) -> datetime:
    try:
        received_at = datetime.fromisoformat(str(scenario.report["received_at"]))
    except (KeyError, ValueError):
        received_at = None
    # Without an offset the time is no instant at all, and cannot be compared.
    if received_at is None or received_at.tzinfo is None:
        raise ScenarioError(
            f"{path.name}: report.received_at: required, with a UTC offset"
        )
    return received_at


def cycles_to_future(start: datetime, now: datetime) -> int:
    """Whole 28-year cycles that move ``start`` to after ``now``."""
    cycles = 0
    while start.replace(year=start.year + CYCLE_YEARS * cycles) <= now:
        cycles += 1
    return cycles


def shift_years(value: Any, years: int) -> Any:
    """Move every ISO date and time inside ``value`` by ``years``."""
    if years == 0:
        return value
    if isinstance(value, dict):
        return {key: shift_years(item, years) for key, item in value.items()}
    if isinstance(value, list):
        return [shift_years(item, years) for item in value]
    if isinstance(value, str) and ISO_TIME.fullmatch(value):
        if "T" in value:
            moved = datetime.fromisoformat(value)
            return moved.replace(year=moved.year + years).isoformat()
        day = date.fromisoformat(value)
        return day.replace(year=day.year + years).isoformat()
    if isinstance(value, datetime):
        return value.replace(year=value.year + years)
    return value


def shift_text(text: str, years: int) -> str:
    """Move every ISO time written inside a line of text by ``years``."""
    if years == 0:
        return text
    return ISO_TIME.sub(lambda match: shift_years(match.group(0), years), text)


def differences(expect: dict[str, Any], outcome: dict[str, Any]) -> list[str]:
    """Each way the outcome differs from ``expect`` (FORMAT.md rules)."""
    found: list[str] = []
    for key, wanted in expect.items():
        if key == "absent_steps":
            opened = [s for s in wanted if s in outcome["steps"]]
            found += [f"steps.{s}: opened, expected absent" for s in opened]
        elif key in ("escalated_steps", "annual_categories", "rejected_events"):
            if set(wanted) != set(outcome.get(key, [])):
                got = sorted(outcome.get(key, []))
                found.append(f"{key}: expected {sorted(wanted)}, got {got}")
        else:
            found += _compare(key, wanted, outcome.get(key))
    return found


def _compare(path: str, wanted: Any, got: Any) -> list[str]:
    if isinstance(wanted, dict):
        if not isinstance(got, dict):
            return [f"{path}: expected {json.dumps(wanted)}, got {json.dumps(got)}"]
        return [
            difference
            for key, value in wanted.items()
            for difference in _compare(f"{path}.{key}", value, got.get(key))
        ]
    if isinstance(wanted, list):
        if not isinstance(got, list) or len(wanted) != len(got):
            return [f"{path}: expected {json.dumps(wanted)}, got {json.dumps(got)}"]
        return [
            difference
            for index, (a, b) in enumerate(zip(wanted, got, strict=True))
            for difference in _compare(f"{path}[{index}]", a, b)
        ]
    if _same(wanted, got):
        return []
    return [f"{path}: expected {json.dumps(wanted)}, got {json.dumps(got)}"]


def _same(wanted: Any, got: Any) -> bool:
    if isinstance(wanted, str) and isinstance(got, str) and ISO_TIME.fullmatch(wanted):
        try:
            return datetime.fromisoformat(wanted) == datetime.fromisoformat(got)
        except ValueError:
            return False
    return bool(wanted == got)
