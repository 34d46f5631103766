"""OpenTelemetry spans through the SDK's interceptor, and what they leave out.

An episode runs with tracing on and NCMEC's endpoint refusing the report:
the spans name the workflow and its activities, and a failed activity's span
carries the error's type, never its message.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import StatusCode
from temporalio.client import Client

import telemetry
from activities import AdapterConfig
from config import ConfigError, load_config
from telemetry import Tracing
from tests.loopback_servers import WEBHOOK_SECRET
from tests.test_case_record import payload
from worker import build_worker
from workflows.missing_youth import EpisodeInput, MissingYouthWorkflow
from workflows.payload import received_recently, validate_report
from workflows.settings import CountySettings


async def test_spans_name_each_activity_and_keep_errors_to_their_type(
    time_skipping_env, tmp_path, endpoint
):
    http, http_port = endpoint
    http.status = 400
    exporter = InMemorySpanExporter()
    tracing = Tracing(exporter)
    traced = Client(
        **{**time_skipping_env.client.config(), "interceptors": tracing.interceptors}
    )
    adapters = AdapterConfig.model_validate(
        {
            "case_record_path": tmp_path / "case_record",
            "ncmec": "webhook",
            "webhooks": {
                "ncmec": {
                    "url": f"http://127.0.0.1:{http_port}/ncmec",
                    "secret": WEBHOOK_SECRET,
                }
            },
        }
    )
    data = received_recently(payload(), timedelta(minutes=5))
    report = validate_report(data, datetime.now(UTC))
    task_queue = f"tracing-{uuid.uuid4()}"

    async with build_worker(traced, adapters, task_queue=task_queue):
        handle = await traced.start_workflow(
            MissingYouthWorkflow.run,
            EpisodeInput(
                report=report,
                settings=CountySettings(modes={"ncmec_report": "automatic"}),
            ),
            id=f"missing-youth-tracing-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        for _ in range(500):
            status = await handle.query(MissingYouthWorkflow.status)
            if status.record.failed_effects:
                break
            await asyncio.sleep(0.02)
        await handle.terminate()
    tracing.shutdown()

    spans = exporter.get_finished_spans()
    names = {span.name for span in spans}
    assert "StartWorkflow:MissingYouthWorkflow" in names
    assert {"RunActivity:open_case_record", "RunActivity:perform_step"} <= names
    failed = [
        span
        for span in spans
        if span.name == "RunActivity:perform_step"
        and span.status.status_code == StatusCode.ERROR
    ]
    assert [span.status.description for span in failed] == ["RefusedByRecipient"]
    exported = json.dumps([json.loads(span.to_json()) for span in spans])
    assert "refused it" not in exported and "HTTP 400" not in exported
    for personal in ("Zephyrine", "Quillfeather", "Thornbury", "larkspurr"):
        assert personal not in exported


def test_tracing_without_its_packages_is_refused_naming_the_key(monkeypatch):
    monkeypatch.setattr(telemetry, "tracing_available", lambda: False)

    with pytest.raises(ConfigError) as raised:
        load_config(None, {"CSEC__METRICS__TRACING": "true"})

    assert str(raised.value) == (
        "metrics.tracing (CSEC__METRICS__TRACING): needs the OpenTelemetry "
        "packages: pip install 'missing-youth-protocol[tracing]'"
    )
