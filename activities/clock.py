"""When an activity acts, by the clock the episode runs on."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity


def now() -> datetime:
    """The time of this attempt by the Temporal server's clock.

    On the time-skipping test server that clock is virtual, so a simulated
    episode's record carries the simulated times, not today's. Outside an
    activity (the command line) it is the wall clock.
    """
    if activity.in_activity():
        # When this attempt started: on the time-skipping server a retry's
        # scheduled time can be the moment the previous attempt failed.
        return activity.info().started_time
    return datetime.now(UTC)
