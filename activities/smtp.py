"""Sending one e-mail over SMTP, and what a mail server's answer means.

The server's answer decides what the workflow sees: accepted is done; a
refusal of the address or the message (5xx) is ``RefusedByRecipient``, an
attempt that leaves the step open; a deferral (4xx), a server that cannot be
reached or a timeout is ``RecipientUnavailable``, retried. A refused login
or sender is this county's configuration, not the recipient's answer, so it
is retried too until the configuration is put right.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from ipaddress import ip_address
from typing import Literal

import aiosmtplib
import structlog
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)

from activities.errors import RecipientUnavailable, RefusedByRecipient

log = structlog.get_logger()

LOOPBACK_NAMES = frozenset({"localhost"})


class SmtpConfig(BaseModel):
    """The county's mail server, and the address the protocol writes from.

    ``security`` is ``starttls`` (port 587), ``tls`` (port 465) or ``none``,
    which only a server on this machine may use: a party's address and the
    case id must not cross a network in clear.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(pattern=r"^[^@\s<>]+@[^@\s<>]+$")
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = Field(default=None, validate_default=True)
    timeout_seconds: float = Field(default=30, gt=0, le=55)

    @field_validator("security")
    @classmethod
    def clear_text_only_on_loopback(cls, security: str, info: ValidationInfo) -> str:
        host = info.data.get("host")
        if security == "none" and host is not None and not loopback(host):
            raise ValueError(
                "'none' is allowed only for a mail server on this machine; "
                "use 'starttls' or 'tls'"
            )
        return security

    @field_validator("password")
    @classmethod
    def password_with_username(
        cls, password: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if (password is None) != (info.data.get("username") is None):
            raise ValueError("username and password go together")
        return password


def loopback(host: str) -> bool:
    """Whether a host name or address is this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def message_id(idempotency_key: str, sender: str) -> str:
    """The same Message-ID for every attempt of one request."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@{sender.rpartition('@')[2]}>"


def compose(
    config: SmtpConfig,
    to: str,
    subject: str,
    text: str,
    idempotency_key: str,
    at: datetime,
) -> EmailMessage:
    """A plain-text e-mail, marked as sent by a machine (RFC 3834)."""
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(at)
    message["Message-ID"] = message_id(idempotency_key, config.sender)
    # Asks mail servers and people's clients not to answer automatically.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    return message


class Mailer:
    """Sends each message on a connection of its own to the county's server.

    Args:
        config: The server, its security and its login.
    """

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def deliver(self, message: EmailMessage, what: str) -> None:
        """Hand one message to the mail server.

        Args:
            message: Addressed to one recipient.
            what: What is sent, by ids (``party_notifications item p1``),
                for the error if it fails.

        Raises:
            RefusedByRecipient: The address or the message was refused (5xx).
            RecipientUnavailable: Deferred, unreachable, or timed out.
        """
        config = self.config
        # Limitation: accepted by the county's server is taken as delivered;
        # a bounce that comes back later, by mail, is not seen here.
        try:
            await aiosmtplib.send(
                message,
                hostname=config.host,
                port=config.port,
                username=config.username,
                password=(
                    None
                    if config.password is None
                    else config.password.get_secret_value()
                ),
                use_tls=config.security == "tls",
                start_tls=config.security == "starttls",
                timeout=config.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise answered(what, "the address", error.recipients[0].code) from None
        except aiosmtplib.SMTPDataError as error:
            raise answered(what, "the message", error.code) from None
        except aiosmtplib.SMTPResponseException as error:
            # The server's text may repeat an address: only the code goes on.
            raise RecipientUnavailable(
                f"{what}: the mail server refused this county's login or "
                f"sender (SMTP {error.code}); check the smtp configuration"
            ) from None
        except (aiosmtplib.SMTPException, OSError) as error:
            raise RecipientUnavailable(
                f"{what}: the mail server cannot be reached ({type(error).__name__})"
            ) from None


def answered(
    what: str, refused: str, code: int
) -> RefusedByRecipient | RecipientUnavailable:
    """A refusal for good (5xx) or for now (4xx) of the address or message."""
    if 500 <= code < 600:
        return RefusedByRecipient(
            f"{what}: the mail server refused {refused} (SMTP {code})", "email", code
        )
    return RecipientUnavailable(
        f"{what}: the mail server deferred {refused} (SMTP {code})"
    )
