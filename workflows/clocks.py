"""Due times, reminders and monthly periods (PROTOCOL.md, "Clocks").

A clock in hours is elapsed time. A clock in days or months is calendar time
in the county's zone, at the same wall-clock time: a wall time that does not
exist that day (spring forward) moves later by the gap, and one that occurs
twice (fall back) takes the first.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from workflows.settings import CountySettings
from workflows.steps import Clock


def on_wall_clock(wall: datetime, zone: ZoneInfo) -> datetime:
    """Pin a naive wall time in ``zone`` to an instant.

    ``fold=0`` picks the first of a repeated hour; for a time in the
    spring-forward gap it applies the offset before the change, which lands
    the gap's length later (02:30 becomes 03:30). A round trip through UTC
    makes both exact. The result carries a fixed offset: Python never finds
    a zone-aware time in a repeated hour equal to any time in another zone.
    """
    pinned = wall.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)
    offset = pinned.utcoffset()
    assert offset is not None
    return pinned.astimezone(timezone(offset))


def add_calendar_days(start: datetime, days: int, zone: ZoneInfo) -> datetime:
    """Same wall-clock time ``days`` calendar days later, in ``zone``."""
    wall = start.astimezone(zone).replace(tzinfo=None)
    return on_wall_clock(wall + timedelta(days=days), zone)


def add_calendar_months(anchor: datetime, months: int, zone: ZoneInfo) -> datetime:
    """Same wall-clock time ``months`` later, clamped to the month's last day.

    Always computed from the anchor, never by chaining: Jan 31 gives Feb 28
    (or 29), then Mar 31.
    """
    wall = anchor.astimezone(zone).replace(tzinfo=None)
    month_index = wall.month - 1 + months
    year, month = wall.year + month_index // 12, month_index % 12 + 1
    day = min(wall.day, calendar.monthrange(year, month)[1])
    return on_wall_clock(wall.replace(year=year, month=month, day=day), zone)


def due_time(clock: Clock, trigger: datetime, settings: CountySettings) -> datetime:
    """When a step whose clock starts at ``trigger`` falls due."""
    length = clock.length(settings)
    if clock.unit == "hours":
        # Elapsed time: 24 h after 23:30 on the night clocks spring forward
        # is 00:30 two days later on the wall.
        return trigger + timedelta(hours=length)
    if clock.unit == "days":
        return add_calendar_days(trigger, int(length), settings.zone)
    return add_calendar_months(trigger, int(length), settings.zone)


def reminder_time(
    clock: Clock, due: datetime, settings: CountySettings
) -> datetime | None:
    """When the officer is reminded of an open step, or None for none.

    Hour clocks of 24 h or more: a lead in hours before due; clocks in days
    or months: a lead in calendar days; shorter clocks: no reminder.
    """
    if clock.unit == "hours":
        if clock.length(settings) < 24:
            return None
        return due - timedelta(hours=settings.reminder_lead_hours)
    return add_calendar_days(due, -settings.reminder_lead_days, settings.zone)


def locate_period_end(
    received_at: datetime, number: int, settings: CountySettings
) -> datetime:
    """End of monthly locate period ``number`` (1-based), from the anchor."""
    return add_calendar_months(received_at, number, settings.zone)


def eighteenth_birthday(
    birth_year: int, month: int, day: int, zone: ZoneInfo
) -> datetime:
    """00:00 county time on the 18th birthday; 29 Feb falls on 1 Mar."""
    year = birth_year + 18
    if (month, day) == (2, 29) and not calendar.isleap(year):
        month, day = 3, 1
    return on_wall_clock(datetime(year, month, day), zone)
