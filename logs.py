"""Logging: structured events, JSON in production, readable on a terminal.

Every line, ours and the Temporal SDK's, passes ``drop_personal_fields``
before it is rendered, so a youth's name, birth date, address or narrative
never reaches a log even when a caller passes one by mistake.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"

PERSONAL_FIELDS = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "date_of_birth",
        "dob",
        "address",
        "phone",
        "email",
        "notes",
        "place",
        "found_by",
        "reason",
        "primary_factors",
        "nickname",
        # Credentials are no one's business in a log either.
        "token",
        "api_key",
        "authorization",
        "password",
        # Whole payload objects made only of personal data.
        "youth",
        "parties",
        "liaison",
    }
)


def _redact(value: Any) -> Any:
    # A nested dict (an activity's ``detail``, say) is searched too.
    if isinstance(value, Mapping):
        return {
            key: REDACTED if key in PERSONAL_FIELDS else _redact(item)
            for key, item in value.items()
        }
    return value


def drop_personal_fields(
    logger: WrappedLogger, method_name: str, event_dict: EventDict
) -> EventDict:
    """Replace the value of every deny-listed key with ``[redacted]``.

    The key is kept so the line still shows that something was passed.
    """
    for key, value in event_dict.items():
        event_dict[key] = REDACTED if key in PERSONAL_FIELDS else _redact(value)
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        drop_personal_fields,
    ]


def configure_logging(
    json: bool = False, level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Configure structlog and the standard library's logging, once.

    Args:
        json: Render JSON lines even on a terminal. Off a terminal (a
            container, CI, a pipe) lines are always JSON.
        level: The lowest level written.
        stream: Where lines go; standard error by default.
    """
    stream = stream or sys.stderr
    shared = _shared_processors()
    renderer: Processor
    if json or not stream.isatty():
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.format_exc_info)
    else:
        renderer = structlog.dev.ConsoleRenderer()

    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached, so structlog.testing.capture_logs works after this.
        cache_logger_on_first_use=False,
    )

    # The Temporal SDK logs through the standard library; its lines get the
    # same processors, the redaction included.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
