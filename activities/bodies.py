"""What each outside agency needs from us, built from the payload.

Each function returns the body of one submission: the facts the agency asks
for (DOMAIN.md, "What the outside systems need from us") that the payload
holds. A fact an agency needs that the payload does not carry is named in
``not_in_payload``, so that whoever reads the submission knows to supply it
rather than assume it was sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflows.payload import CsecStatus, Disclosure, MissingReport, Party

Body = dict[str, Any]

# NCMEC's intake asks for these; the county's payload has none of them.
NCMEC_NOT_IN_PAYLOAD = (
    "sex",
    "race",
    "height",
    "weight",
    "hair_colour",
    "eye_colour",
    "marks",
    "photo",
    "placement_address",
    "companions",
    "phone_and_social_media_accounts",
    "medical_needs",
    "officer_phone",
)


def youth(report: MissingReport | Disclosure) -> Body:
    """Who is missing, as every agency identifies a youth."""
    return {
        "id": report.youth.id,
        "first_name": report.youth.first_name,
        "last_name": report.youth.last_name,
        "date_of_birth": report.youth.date_of_birth.isoformat(),
    }


def last_seen(report: MissingReport) -> Body | None:
    """When and where the youth was last seen, if the payload says."""
    if report.last_seen is None:
        return None
    return {"at": report.last_seen.at.isoformat(), "place": report.last_seen.place}


def risk(report: MissingReport) -> Body:
    """The CSEC status and indicators: why the youth may be in danger."""
    return {
        "csec_status": report.csec.status.value,
        "victim_before_foster_care": report.csec.victim_before_foster_care,
        "indicators": [indicator.value for indicator in report.csec.indicators],
    }


def worker(report: MissingReport | Disclosure) -> Body:
    """The probation officer an agency should call back."""
    return {
        "agency": "probation",
        "id": report.officer.id,
        "name": report.officer.name,
        "email": report.officer.email,
    }


def law_enforcement_report(report: MissingReport) -> Body:
    """A missing-person report, with what NCIC entry needs from us."""
    return {
        "case_id": report.case_id,
        "agency": report.law_enforcement_agency.model_dump(),
        "received_at": report.received_at.isoformat(),
        "youth": youth(report),
        "last_seen": last_seen(report),
        "circumstances": list(report.primary_factors),
        "risk": risk(report),
        # NCIC's juvenile category, or endangered when CSEC is a concern.
        "ncic_category": "endangered" if endangered(report) else "juvenile",
        "reporting_worker": worker(report),
    }


def endangered(report: MissingReport) -> bool:
    """Whether exploitation is a concern, so NCIC should say endangered."""
    return report.csec.status != CsecStatus.NONE or bool(report.csec.indicators)


def ncmec_report(
    report: MissingReport,
    references: dict[str, str | None],
    earlier_episodes: list[Body],
) -> Body:
    """The NCMEC report: identity, last seen, risk, who to call, police numbers.

    Args:
        report: The payload.
        references: ``law_enforcement_report`` and ``ncic_entry_confirmed``
            references known so far (None if not yet made).
        earlier_episodes: Earlier episodes of the case, with where the youth
            was found when the record knows it.
    """
    return {
        "case_id": report.case_id,
        "received_at": report.received_at.isoformat(),
        "child": youth(report),
        "last_seen": last_seen(report),
        "in_foster_care": report.in_foster_care,
        "circumstances": list(report.primary_factors),
        "risk_factors": risk(report),
        "earlier_episodes": earlier_episodes,
        "agency_worker": worker(report),
        "police": {
            "agency": report.law_enforcement_agency.model_dump(),
            "case_number": references.get("law_enforcement_report"),
            "nic_number": references.get("ncic_entry_confirmed"),
        },
        "not_in_payload": list(NCMEC_NOT_IN_PAYLOAD),
    }


def warrant_request(report: MissingReport) -> Body:
    """A request to the juvenile court for a warrant."""
    return {
        "case_id": report.case_id,
        "youth": youth(report),
        "received_at": report.received_at.isoformat(),
        "last_seen": last_seen(report),
        "requesting_officer": worker(report),
    }


def abuse_report(report: MissingReport | Disclosure, written: bool) -> Body:
    """A child abuse report of known or suspected exploitation (PC 11166)."""
    body: Body = {
        "case_id": report.case_id,
        "report": "written" if written else "immediate",
        "youth": youth(report),
        "reporting_officer": worker(report),
    }
    if isinstance(report, Disclosure):
        body["context"] = report.context
    else:
        body["risk"] = risk(report)
        body["circumstances"] = list(report.primary_factors)
    return body


def closing_notice(report: MissingReport, reference: str | None) -> Body:
    """Tell an agency the youth was located, citing its own number."""
    return {
        "case_id": report.case_id,
        "youth": youth(report),
        "located": True,
        "agency_reference": reference,
        "officer": worker(report),
    }


def party_message(report: MissingReport, party: Party, returned: bool) -> Body:
    """A message to a party: the youth is missing, or has been located.

    It says no more than that and who to call: a party is never told where
    the youth was last seen or found.
    """
    return {
        "case_id": report.case_id,
        "party": {"id": party.id, "role": party.role.value, "name": party.name},
        "message": "youth_located" if returned else "youth_missing",
        "contact_officer": worker(report),
    }


def missing_documentation(
    report: MissingReport, system: str, reports_due: datetime
) -> Body:
    """The reporting timeframe and primary factors known at the start.

    Args:
        report: The payload.
        system: ``CWS/CMS`` or ``CSEC chrono``, where the record belongs.
        reports_due: When the 24-hour missing reports fall due.
    """
    seen = report.last_seen
    return {
        "system": system,
        "reporting_timeframe": {
            "received_at": report.received_at.isoformat(),
            "last_seen_at": None if seen is None else seen.at.isoformat(),
            "reports_due": reports_due.isoformat(),
        },
        "primary_factors": list(report.primary_factors),
        "risk": risk(report),
    }
