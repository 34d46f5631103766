"""Failures an activity reports to the workflow, never with personal data.

Each message names ids, steps and rules only: it travels to the Temporal
server and its history, where a youth's name or a party's address must never
appear. Retrying none of these would help, so all are non-retryable.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError


class _Final(ApplicationError):
    """A failure that stays a failure however often it is retried."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type=type(self).__name__, non_retryable=True)


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
