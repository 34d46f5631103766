"""An integration down for hours: the clock runs on, the side effect waits.

NCMEC's adapter fails from the start of the episode until 30 hours later by
the Temporal server's clock, past the report's 24-hour due. On the
time-skipping server the hours pass in seconds.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import AdapterConfig, ProtocolActivities
from activities.config import build_adapters
from activities.interfaces import Ncmec
from codec import KeyRing, data_converter
from simulation import quiet_runtime, register_search_attributes
from tests.exactly_once import missing, repeated, rows
from tests.test_crash_recovery import missing_report
from worker import bin_path
from workflows.abuse_report import AbuseReportWorkflow
from workflows.effects import Receipt, StepRequest
from workflows.missing_youth import EpisodeInput, MissingYouthWorkflow
from workflows.records import State
from workflows.runtime import ADAPTER_RETRY, CLOCK_GRACE
from workflows.sandbox import workflow_runner
from workflows.search import workflow_id
from workflows.settings import CountySettings
from workflows.steps import TWENTY_FOUR_HOUR_REPORTS, StepName

OUTAGE = timedelta(hours=30)
DUE = timedelta(hours=24)


def at_instant(recorded: datetime, instant: datetime) -> bool:
    """Whether a clock's act was recorded at its instant (or its grace)."""
    return instant <= recorded <= instant + CLOCK_GRACE


class NcmecDown:
    """NCMEC's adapter, unreachable until ``back_at`` by the server's clock."""

    def __init__(self, adapter: Ncmec, back_at: datetime) -> None:
        self.adapter = adapter
        self.back_at = back_at
        self.calls: list[datetime] = []

    async def report_missing(self, request: StepRequest) -> Receipt:
        # When this attempt started, by the server's clock. Not the product's
        # activities.clock.now: on the time-skipping server its retries read
        # the time the attempt before failed.
        at = activity.info().started_time
        self.calls.append(at)
        if at < self.back_at:
            raise ConnectionError("NCMEC does not answer")
        return await self.adapter.report_missing(request)

    async def report_recovery(self, request: StepRequest) -> Receipt:
        return await self.adapter.report_recovery(request)


async def test_ncmec_down_for_hours_escalates_at_due_and_reports_once_back(
    tmp_path: Path,
) -> None:
    record = tmp_path / "case-record.sqlite3"
    task_queue = f"outage-{uuid.uuid4().hex[:8]}"
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(bin_path("temporal-test-server")),
        data_converter=data_converter(KeyRing.generate()),
        runtime=quiet_runtime(),
    )
    async with env:
        await register_search_attributes(env.client)
        received = (await env.get_current_time()).replace(microsecond=0)
        report = missing_report(f"O-{task_queue}", received)
        due, back_at = received + DUE, received + OUTAGE
        adapters = build_adapters(AdapterConfig(case_record_path=record))
        ncmec = NcmecDown(adapters.ncmec, back_at)
        activities = ProtocolActivities(dataclasses.replace(adapters, ncmec=ncmec))
        async with Worker(
            env.client,
            task_queue=task_queue,
            workflows=[MissingYouthWorkflow, AbuseReportWorkflow],
            activities=[
                activities.open_case_record,
                activities.perform_step,
                activities.open_officer_task,
                activities.send_notice,
                activities.record_chrono,
            ],
            workflow_runner=workflow_runner(),
        ):
            handle = await env.client.start_workflow(
                MissingYouthWorkflow.run,
                EpisodeInput(
                    report=report,
                    settings=CountySettings(modes={"ncmec_report": "automatic"}),
                ),
                id=workflow_id(report.case_id),
                task_queue=task_queue,
            )
            await env.sleep(due + timedelta(minutes=1) - received)
            at_due = await handle.query(MissingYouthWorkflow.status)
            submitted_at_due = rows(record, "submissions", at_due.episode_id)

            max_interval = ADAPTER_RETRY.maximum_interval
            assert max_interval is not None
            await env.sleep(back_at + max_interval * 1.1 - await env.get_current_time())
            final = await handle.query(MissingYouthWorkflow.status)

    # At due NCMEC was still down: the supervisor was told at due all the
    # same, and nothing had been submitted.
    step = at_due.record.steps[StepName.NCMEC_REPORT]
    assert step.state == State.OVERDUE
    assert {s.value for s in TWENTY_FOUR_HOUR_REPORTS} <= set(at_due.escalated_steps)
    escalation = next(
        e for e in at_due.record.escalations if e.step.value == "ncmec_report"
    )
    assert at_instant(escalation.at, due)
    notices = [
        row
        for row in rows(record, "notices", final.episode_id)
        if row["step"] == "ncmec_report"
    ]
    reminder_lead = timedelta(hours=at_due.record.settings.reminder_lead_hours)
    assert [row["kind"] for row in notices] == ["reminder", "escalation"]
    reminded, escalated = (datetime.fromisoformat(row["at"]) for row in notices)
    assert at_instant(reminded, due - reminder_lead)
    assert at_instant(escalated, due)
    assert all(datetime.fromisoformat(row["sent_at"]) < back_at for row in notices)
    assert not [row for row in submitted_at_due if row["step"] == "ncmec_report"]

    # Retried with backoff, doubling from a second up to ten minutes and
    # never faster, until the first attempt after it came back.
    calls = ncmec.calls
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    backoff = ADAPTER_RETRY.initial_interval
    for attempt, gap in enumerate(gaps, start=1):
        assert backoff <= gap < backoff + timedelta(seconds=1), attempt
        backoff = min(backoff * ADAPTER_RETRY.backoff_coefficient, max_interval)
    assert calls[-1] >= back_at > calls[-2]

    # Back, it reported once: one submission, the receipt's, done late.
    done = final.record.steps[StepName.NCMEC_REPORT]
    assert done.state == State.DONE_LATE
    assert done.done_at is not None
    assert back_at <= done.done_at <= back_at + max_interval
    submissions = [
        row
        for row in rows(record, "submissions", final.episode_id)
        if row["step"] == "ncmec_report"
    ]
    assert len(submissions) == 1
    assert done.receipt is not None
    assert submissions[0]["reference"] == done.receipt.reference
    assert missing(record, final) == []
    assert repeated(record, final) == []
