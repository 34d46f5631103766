"""The annual report's activities: count from the case record, then send.

``compute_annual_report`` reads a year's episodes, debriefs and assessments
and counts them with ``workflows.annual_counts``; ``send_annual_report``
keeps the counts in the record and hands them to the staff-messages
adapter, once per year and recipient.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog
from temporalio import activity

from activities import report_record
from activities.case_record import SqlCaseRecord
from activities.clock import now
from activities.interfaces import StaffMessages
from workflows.annual_counts import AnnualReport, annual_report, year_bounds
from workflows.annual_report import (
    COMPUTE_ANNUAL_REPORT,
    SEND_ANNUAL_REPORT,
    AnnualReportDelivery,
    AnnualReportRequest,
)

log = structlog.get_logger()


def count_year(record: SqlCaseRecord, year: int, zone: ZoneInfo) -> AnnualReport:
    """The year's six counts from what the case record holds now."""
    start, end = year_bounds(year, zone)
    return annual_report(
        year,
        zone,
        report_record.reports_received(record, start, end),
        report_record.debrief_findings(record, start),
        report_record.assessments(record, end),
    )


class AnnualReportActivities:
    """The two activities of ``AnnualReportWorkflow``.

    Args:
        record: The case record the year is counted from.
        staff_messages: The adapter that delivers staff notices.
        clock: When a report is produced and sent.
    """

    def __init__(
        self,
        record: SqlCaseRecord,
        staff_messages: StaffMessages,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self.record = record
        self.staff_messages = staff_messages
        self.clock = clock

    @activity.defn(name=COMPUTE_ANNUAL_REPORT)
    async def compute_annual_report(self, request: AnnualReportRequest) -> AnnualReport:
        """Count the year's unique youths in each §4.D category."""
        zone = ZoneInfo(request.time_zone)
        report = await asyncio.to_thread(count_year, self.record, request.year, zone)
        log.info("annual_report_counted", year=report.year, youths=report.youths)
        return report

    @activity.defn(name=SEND_ANNUAL_REPORT)
    async def send_annual_report(self, delivery: AnnualReportDelivery) -> None:
        """Keep the report, then send it unless it was sent already."""
        key = delivery.idempotency_key
        unsent = await asyncio.to_thread(
            report_record.record_annual_report,
            self.record,
            delivery.report,
            delivery.recipient_id,
            self.clock(),
            key,
        )
        if unsent:
            await self.staff_messages.send_annual_report(
                delivery.report, delivery.recipient_id
            )
            await asyncio.to_thread(
                report_record.mark_annual_report_sent, self.record, key, self.clock()
            )
