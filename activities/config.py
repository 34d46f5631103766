"""Which adapter serves each integration, and the activities built on them.

Every integration has the adapter ``case_record``, which records in the case
record what would be sent (see ``outbox``) and needs nothing set up. The
others send it: ``webhook`` posts to the integration's URL, ``email`` mails
the parties or staff through the county's SMTP server. A new adapter is one
line in ``ADAPTERS`` and a name in the configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)

from activities.agencies import (
    CourtOutbox,
    DistrictAttorneyOutbox,
    LawEnforcementOutbox,
    NcmecOutbox,
)
from activities.annual_report import AnnualReportActivities
from activities.case_record import SqlCaseRecord
from activities.documentation import DocumentationOutbox
from activities.mail import PartyMail, StaffMail
from activities.messages import LoggedStaffMessages, PartyNotifications
from activities.outbox import Outbox
from activities.postgres_record import PostgresCaseRecord
from activities.protocol_activities import Adapters, ProtocolActivities
from activities.smtp import Mailer, SmtpConfig
from activities.sqlite_record import SqliteCaseRecord
from activities.webhook import Webhook, WebhookConfig

# Builds an adapter: (record, config) -> adapter. The ``case_record``
# adapters need no configuration, so they take the record alone too.
Factory = Callable[..., Any]


def recorded(kind: type[Outbox]) -> Factory:
    """The adapter that records its submissions and sends nothing."""

    def build(record: SqlCaseRecord, config: AdapterConfig | None = None) -> Outbox:
        return kind(record)

    return build


def by_webhook(kind: type[Outbox]) -> Factory:
    """The adapter that posts its submissions to the integration's URL."""

    def build(record: SqlCaseRecord, config: AdapterConfig) -> Outbox:
        webhook = getattr(config.webhooks, kind.integration)
        return kind(record, sender=Webhook(webhook))

    return build


def by_email(record: SqlCaseRecord, config: AdapterConfig) -> Outbox:
    """Party notifications mailed to each party's address."""
    assert config.smtp is not None
    return PartyNotifications(record, sender=PartyMail(Mailer(config.smtp)))


def staff_by_email(record: SqlCaseRecord, config: AdapterConfig) -> StaffMail:
    """Staff notices mailed to the officer, supervisor or liaison."""
    assert config.smtp is not None
    return StaffMail(record, Mailer(config.smtp))


def logged(record: SqlCaseRecord, config: AdapterConfig | None = None) -> Any:
    """Staff notices kept in the record and logged, not sent."""
    return LoggedStaffMessages()


AGENCIES: dict[str, type[Outbox]] = {
    "case_record": DocumentationOutbox,
    "law_enforcement": LawEnforcementOutbox,
    "court": CourtOutbox,
    "ncmec": NcmecOutbox,
    "district_attorney": DistrictAttorneyOutbox,
}

# integration -> adapter name -> how to build it.
ADAPTERS: dict[str, dict[str, Factory]] = {
    **{
        integration: {"case_record": recorded(kind), "webhook": by_webhook(kind)}
        for integration, kind in AGENCIES.items()
    },
    "notifications": {
        "case_record": recorded(PartyNotifications),
        "email": by_email,
        "webhook": by_webhook(PartyNotifications),
    },
    "staff_messages": {"case_record": logged, "email": staff_by_email},
}


class Webhooks(BaseModel):
    """The endpoint of each integration whose adapter is ``webhook``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_record: WebhookConfig | None = None
    law_enforcement: WebhookConfig | None = None
    court: WebhookConfig | None = None
    ncmec: WebhookConfig | None = None
    district_attorney: WebhookConfig | None = None
    notifications: WebhookConfig | None = None


class AdapterConfig(BaseModel):
    """Where the case record lives, and the adapter of each integration.

    The record is the PostgreSQL database at ``case_record_url`` if it is
    set, the SQLite file at ``case_record_path`` otherwise. ``case_record``
    names the adapter of the missing documentation.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_record_path: Path | None = None
    case_record_url: SecretStr | None = Field(default=None, validate_default=True)
    case_record: str = "case_record"
    law_enforcement: str = "case_record"
    court: str = "case_record"
    ncmec: str = "case_record"
    district_attorney: str = "case_record"
    notifications: str = "case_record"
    staff_messages: str = "case_record"
    smtp: SmtpConfig | None = Field(default=None, validate_default=True)
    webhooks: Webhooks = Field(default_factory=Webhooks, validate_default=True)

    @field_validator("case_record_url")
    @classmethod
    def postgres_url(
        cls, url: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if url is None:
            if info.data.get("case_record_path") is None:
                raise ValueError("set case_record_url or case_record_path")
            return url
        if not url.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return url

    @field_validator(*ADAPTERS)
    @classmethod
    def known_adapter(cls, name: str, info: ValidationInfo) -> str:
        known = ADAPTERS[str(info.field_name)]
        if name not in known:
            raise ValueError(
                f"unknown adapter {name!r}; known: {', '.join(sorted(known))}"
            )
        return name

    @field_validator("smtp")
    @classmethod
    def smtp_for_email(
        cls, smtp: SmtpConfig | None, info: ValidationInfo
    ) -> SmtpConfig | None:
        mailing = [
            f"{name} = 'email'" for name in ADAPTERS if info.data.get(name) == "email"
        ]
        if smtp is None and mailing:
            raise ValueError(f"is required when {' and '.join(mailing)}")
        return smtp

    @field_validator("webhooks")
    @classmethod
    def webhook_for_each(cls, webhooks: Webhooks, info: ValidationInfo) -> Webhooks:
        for name in ADAPTERS:
            if info.data.get(name) == "webhook" and getattr(webhooks, name) is None:
                raise ValueError(f"{name}: a table is required when {name} = 'webhook'")
        return webhooks


def open_case_record(config: AdapterConfig) -> SqlCaseRecord:
    """The configured case record, its tables migrated."""
    if config.case_record_url is not None:
        return PostgresCaseRecord(config.case_record_url.get_secret_value())
    assert config.case_record_path is not None
    return SqliteCaseRecord(config.case_record_path)


def build_adapters(config: AdapterConfig) -> Adapters:
    """The configured adapter of each integration, on one case record."""
    record = open_case_record(config)

    def chosen(integration: str) -> Any:
        return ADAPTERS[integration][getattr(config, integration)](record, config)

    return Adapters(
        case_record=record,
        documentation=chosen("case_record"),
        law_enforcement=chosen("law_enforcement"),
        court=chosen("court"),
        ncmec=chosen("ncmec"),
        district_attorney=chosen("district_attorney"),
        notifications=chosen("notifications"),
        staff_messages=chosen("staff_messages"),
    )


def build_activities(config: AdapterConfig) -> list[Callable[..., Any]]:
    """The worker's activities, bound to the configured adapters."""
    adapters = build_adapters(config)
    activities = ProtocolActivities(adapters)
    assert isinstance(adapters.case_record, SqlCaseRecord)
    annual = AnnualReportActivities(adapters.case_record, adapters.staff_messages)
    return [
        activities.open_case_record,
        activities.perform_step,
        activities.open_officer_task,
        activities.send_notice,
        activities.record_chrono,
        annual.compute_annual_report,
        annual.send_annual_report,
    ]
