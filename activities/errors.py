"""Failures an activity reports to the workflow, never with personal data.

Each message names ids, steps, rules and status codes only: it travels to
the Temporal server and its history, where a youth's name or a party's
address must never appear (a mail server's own reply text often repeats the
address, so it is never passed on). All are non-retryable but
``RecipientUnavailable``, which Temporal retries by the activity's policy.
"""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import ApplicationError


class _Final(ApplicationError):
    """A failure that stays a failure however often it is retried."""

    def __init__(self, message: str, *details: Any) -> None:
        super().__init__(
            message, *details, type=type(self).__name__, non_retryable=True
        )


class UnknownEpisode(_Final):
    """The case record holds no episode with the requested id."""

    def __init__(self, episode_id: str) -> None:
        super().__init__(
            f"episode {episode_id}: not in the case record; "
            "open_case_record must run first"
        )


class NotDeliverable(_Final):
    """The request names a step, item or party no adapter can act on."""


class CaseRecordError(_Final):
    """The case record cannot be read as this code expects."""


class RefusedByRecipient(_Final):
    """The recipient refused for good: an attempt, never a completion.

    A mail server that refused the address or the message (SMTP 5xx), or an
    agency's endpoint that refused the request (HTTP 4xx but 408 and 429).
    The step stays open, so its clock escalates it, and the officer sees why.

    Args:
        message: What was refused, by ids, and the code.
        method: ``email`` or ``electronic``: how it was tried.
        code: The SMTP reply code or HTTP status.
    """

    def __init__(self, message: str, method: str, code: int) -> None:
        super().__init__(message, {"method": method, "code": code})


class ReplyUnverified(_Final):
    """An endpoint's reply carried a signature that does not match.

    The reply may not be the agency's, so its reference is not taken; the
    officer confirms the step by hand.
    """


class RecipientUnavailable(ApplicationError):
    """The recipient could not take it now; a later attempt may succeed.

    An SMTP 4xx or a mail server that cannot be reached, an HTTP 5xx, 408 or
    429, a timeout. Retried by the activity's retry policy.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, type=type(self).__name__)
