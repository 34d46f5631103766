"""The product's own counters, beside the SDK's on the metrics endpoint.

Recorded through the SDK's activity metric meter, so a worker whose runtime
serves Prometheus (``telemetry.py``) serves them too, labelled with the
namespace, task queue and activity type. Their own labels are step names,
states and error types: never a case id, never anything about a youth.

Each is counted by the activity that carries the event out, once its work
is done. A retry after a completion Temporal never received counts again,
so these are for dashboards and alerts; the case record is the count of
record.
"""

from __future__ import annotations

from temporalio import activity

STEPS_OVERDUE = "missing_youth_steps_overdue"
ESCALATIONS = "missing_youth_escalations"
REMINDERS = "missing_youth_reminders"
STEPS_DONE = "missing_youth_steps_done"
ADAPTER_FAILURES = "missing_youth_adapter_failures"

DESCRIPTIONS = {
    STEPS_OVERDUE: "Steps past due while still open (step)",
    ESCALATIONS: "Escalations sent to the supervisor: overdue steps and "
    "locate periods without an effort (step)",
    REMINDERS: "Reminders sent to the officer before a step falls due (step)",
    STEPS_DONE: "Steps and items done, on time (state=done) or late "
    "(state=done_late) (step, state)",
    ADAPTER_FAILURES: "Attempts by an adapter that failed, retried or not "
    "(step, error)",
}


def count(name: str, **labels: str) -> None:
    """Add one to a product counter; outside an activity, do nothing.

    Args:
        name: One of the names above.
        labels: Label values: step names, states, error types.
    """
    if not activity.in_activity():
        return
    meter = activity.metric_meter()
    meter.create_counter(name, DESCRIPTIONS[name]).add(1, labels)
