"""``AnnualReportWorkflow``: the State's six counts, once a year (§4.D).

A Temporal Schedule starts it each January (``starter.py
schedule-annual-report``); it counts the year before from the case record,
since workflow histories expire, and sends the counts to the supervising
officer through the staff-messages adapter. Counts carry no personal data.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows.annual_counts import AnnualReport
from workflows.payload import Id

COMPUTE_ANNUAL_REPORT = "compute_annual_report"
SEND_ANNUAL_REPORT = "send_annual_report"
SCHEDULE_ID = "annual-state-report"
# Counting reads the whole year's record; sending waits on a mail server.
TIMEOUT = timedelta(minutes=5)
RETRY = RetryPolicy(maximum_interval=timedelta(minutes=10))


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AnnualReportInput(Contract):
    """What the Schedule starts the workflow with.

    Without a year, the report is for the year before the one the workflow
    runs in, in the county's zone: a run on 15 January reports last year.
    """

    recipient_id: Id
    time_zone: str = "America/Los_Angeles"
    year: int | None = Field(default=None, ge=2000, le=2200)


class AnnualReportRequest(Contract):
    """Input of ``compute_annual_report``."""

    year: int
    time_zone: str


class AnnualReportDelivery(Contract):
    """Input of ``send_annual_report``: the counts and who receives them."""

    report: AnnualReport
    recipient_id: str
    idempotency_key: str


@workflow.defn
class AnnualReportWorkflow:
    """Counts a year's youths from the case record and sends the counts."""

    @workflow.run
    async def run(self, input: AnnualReportInput) -> AnnualReport:
        zone = ZoneInfo(input.time_zone)
        year = input.year or workflow.now().astimezone(zone).year - 1
        report: AnnualReport = await workflow.execute_activity(
            COMPUTE_ANNUAL_REPORT,
            AnnualReportRequest(year=year, time_zone=input.time_zone),
            result_type=AnnualReport,
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
        )
        delivery = AnnualReportDelivery(
            report=report,
            recipient_id=input.recipient_id,
            # Once per year and recipient, however often the workflow runs.
            idempotency_key=f"annual-report/{year}/{input.recipient_id}",
        )
        await workflow.execute_activity(
            SEND_ANNUAL_REPORT,
            delivery,
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
        )
        return report
