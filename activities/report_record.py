"""The case record as the supervisors' views and the annual report read it.

Adds the rows they own (at-risk assessments, annual reports produced) and
reads what the annual report classifies: payloads, debrief findings and
assessments. The statements are shared by SQLite and PostgreSQL, like those
of ``SqlCaseRecord``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from activities.case_record import REPORT, SqlCaseRecord
from activities.schema import Row, decoded, insert, stored_json, stored_time
from workflows.annual_counts import AnnualReport, AssessmentFacts, DebriefFinding
from workflows.assessment import AtRiskAssessment
from workflows.payload import MissingReport


def rows(record: SqlCaseRecord, sql: str, *args: Any) -> list[Row]:
    """A read's rows, times as UTC text and ``*_json`` columns decoded."""
    with record.connect() as connection:
        found = connection.execute(sql, args).fetchall()
    return [decoded(dict(row)) for row in found]


def record_assessment(record: SqlCaseRecord, assessment: AtRiskAssessment) -> None:
    """Keep an at-risk assessment; the same one again changes nothing."""
    with record.connect() as connection:
        insert(
            connection,
            "at_risk_assessments",
            {
                "idempotency_key": assessment.idempotency_key,
                "case_id": assessment.case_id,
                "youth_id": assessment.youth_id,
                "assessed_at": stored_time(assessment.assessed_at),
                "assessed_by": assessment.assessed_by,
                "indicators_json": stored_json(
                    [str(indicator) for indicator in assessment.indicators]
                ),
                "at_risk": assessment.at_risk,
            },
        )


def assessments(record: SqlCaseRecord, before: datetime) -> list[AssessmentFacts]:
    """Every at-risk assessment made before ``before``, oldest first."""
    found = rows(
        record,
        "SELECT youth_id, assessed_at, indicators_json FROM at_risk_assessments"
        " WHERE assessed_at < ? ORDER BY assessed_at, id",
        stored_time(before),
    )
    return [
        AssessmentFacts(
            youth_id=row["youth_id"],
            assessed_at=row["assessed_at"],
            indicators=row["indicators"],
        )
        for row in found
    ]


def reports_received(
    record: SqlCaseRecord, start: datetime, end: datetime
) -> list[MissingReport]:
    """Payloads of missing episodes received in [start, end); no disclosures."""
    found = rows(
        record,
        "SELECT report_json FROM episodes WHERE received_at >= ?"
        " AND received_at < ? ORDER BY received_at",
        stored_time(start),
        stored_time(end),
    )
    reports = [REPORT.validate_python(row["report"]) for row in found]
    return [report for report in reports if isinstance(report, MissingReport)]


def debrief_findings(record: SqlCaseRecord, since: datetime) -> list[DebriefFinding]:
    """What each debrief recorded since ``since`` found, by youth.

    A debrief is recorded after it is held, so every one held since then
    is among these.
    """
    found = rows(
        record,
        "SELECT e.youth_id, c.detail_json FROM chrono c"
        " JOIN episodes e ON e.episode_id = c.episode_id"
        " WHERE c.event = 'debrief_recorded' AND c.at >= ? ORDER BY c.at, c.id",
        stored_time(since),
    )
    return [
        DebriefFinding(
            youth_id=row["youth_id"],
            held_at=row["detail"]["held_at"],
            exploited_while_absent=row["detail"]["exploited_while_absent"],
        )
        for row in found
    ]


def record_annual_report(
    record: SqlCaseRecord,
    report: AnnualReport,
    recipient_id: str,
    produced_at: datetime,
    idempotency_key: str,
) -> bool:
    """Keep a report produced for a recipient; True while it is not sent."""
    with record.connect() as connection:
        insert(
            connection,
            "annual_reports",
            {
                "idempotency_key": idempotency_key,
                "year": report.year,
                "recipient_id": recipient_id,
                "produced_at": stored_time(produced_at),
                "report_json": report.model_dump_json(),
            },
        )
        row = connection.execute(
            "SELECT sent_at FROM annual_reports WHERE idempotency_key = ?",
            (idempotency_key,),
        ).fetchone()
    return row is None or row["sent_at"] is None


def mark_annual_report_sent(
    record: SqlCaseRecord, idempotency_key: str, sent_at: datetime
) -> None:
    """Record that the report went out, so a retry does not send it again."""
    with record.connect() as connection:
        connection.execute(
            "UPDATE annual_reports SET sent_at = ? WHERE idempotency_key = ?"
            " AND sent_at IS NULL",
            (stored_time(sent_at), idempotency_key),
        )


def annual_reports(record: SqlCaseRecord) -> list[Row]:
    """Every annual report produced, in order."""
    return rows(record, "SELECT * FROM annual_reports ORDER BY id")
