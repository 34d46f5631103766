"""The product's counters on the worker's Prometheus endpoint.

An episode runs on the time-skipping server with a worker whose SDK runtime
serves metrics on a free loopback port; ``/metrics`` is then read as
Prometheus would, and each counter must hold what the case record holds.
"""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from typing import Any

import httpx
import pytest
from temporalio.runtime import LoggingConfig, TelemetryConfig, TelemetryFilter

from activities import AdapterConfig, SqliteCaseRecord, build_activities
from activities.metrics import (
    ADAPTER_FAILURES,
    ESCALATIONS,
    REMINDERS,
    STEPS_DONE,
    STEPS_OVERDUE,
)
from simulation import replay
from telemetry import MetricsEndpointError, counter_values, metrics_runtime
from tests.helpers import free_port
from tests.loopback_servers import WEBHOOK_SECRET
from tests.test_case_record import RECEIVED_AT, payload
from worker import bin_path

QUIET = TelemetryConfig(
    logging=LoggingConfig(
        filter=TelemetryFilter(core_level="ERROR", other_level="ERROR")
    )
)


def scenario() -> dict[str, Any]:
    """The LE report on time, the warrant late, NCMEC refused; three days
    pass with the rest undone."""
    at = RECEIVED_AT
    return {
        "title": "Counted on the metrics endpoint",
        "report": payload(),
        "modes": {"ncmec_report": "automatic"},
        "events": [
            {
                "at": (at + timedelta(hours=2)).isoformat(),
                "action": "complete_step",
                "step": "law_enforcement_report",
                "method": "phone",
                "reference": "SRPD-27-04417",
            },
            {
                "at": (at + timedelta(hours=30)).isoformat(),
                "action": "complete_step",
                "step": "warrant_request",
                "method": "electronic",
            },
        ],
        "until": (at + timedelta(days=3)).isoformat(),
    }


def total(values: dict[frozenset[tuple[str, str]], float], **labels: str) -> float:
    """The sum over every series carrying these labels."""
    wanted = set(labels.items())
    return sum(value for series, value in values.items() if wanted <= series)


async def test_counters_show_escalations_reminders_done_and_failures(
    tmp_path, endpoint
):
    http, http_port = endpoint
    http.status = 400  # NCMEC's endpoint refuses: an attempt, never done
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario()))
    record_path = tmp_path / "case_record"
    config = AdapterConfig.model_validate(
        {
            "case_record_path": record_path,
            "ncmec": "webhook",
            "webhooks": {
                "ncmec": {
                    "url": f"http://127.0.0.1:{http_port}/ncmec",
                    "secret": WEBHOOK_SECRET,
                }
            },
        }
    )
    bind = f"127.0.0.1:{free_port()}"
    runtime = metrics_runtime(bind, QUIET)

    result = await replay(
        path,
        bin_path("temporal-test-server"),
        lambda _: build_activities(config),
        runtime=runtime,
    )
    url = f"http://{bind}/metrics"
    scraped = httpx.get(url).text

    record = SqliteCaseRecord(record_path)
    episode_id = result.status.episode_id
    notices = record.notices(episode_id)
    overdue = [e for e in record.chrono(episode_id) if e["event"] == "step_overdue"]
    escalated = result.outcome["escalated_steps"]
    assert "ncmec_report" in escalated and len(escalated) >= 3
    # One escalation, and one overdue step, per step that fell overdue.
    escalations = counter_values(url, ESCALATIONS)
    steps_overdue = counter_values(url, STEPS_OVERDUE)
    for step in escalated:
        assert total(escalations, step=step) == 1, step
        assert total(steps_overdue, step=step) == 1, step
    assert total(escalations) == len(escalated) == len(overdue)
    assert total(escalations) == sum(n["kind"] == "escalation" for n in notices)
    reminders = sum(n["kind"] == "reminder" for n in notices)
    assert reminders > 0
    assert total(counter_values(url, REMINDERS)) == reminders
    done = counter_values(url, STEPS_DONE)
    assert total(done, step="law_enforcement_report", state="done") == 1
    assert total(done, step="warrant_request", state="done_late") == 1
    # The documentation is automatic by default, and done at once.
    assert total(done, step="missing_documentation", state="done") == 1
    assert total(done) == 3
    failures = counter_values(url, ADAPTER_FAILURES)
    assert total(failures, step="ncmec_report", error="RefusedByRecipient") == 1
    assert total(failures) == 1
    # The SDK's own metrics are on the same endpoint, with the activity's type.
    assert "temporal_activity_execution_failed" in scraped
    assert 'activity_type="perform_step"' in scraped
    # Labels are steps, states and error types: no case id.
    assert "J-27-0412" not in scraped


def test_metrics_on_a_taken_port_stop_the_worker_naming_the_key():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        bind = f"127.0.0.1:{taken.getsockname()[1]}"

        with pytest.raises(MetricsEndpointError) as raised:
            metrics_runtime(bind)

    assert str(raised.value).startswith(f"metrics.prometheus: {bind} cannot be served")
