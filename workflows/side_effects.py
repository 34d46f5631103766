"""The side effects a tracker decides, written as requests in its outbox.

Each request carries an idempotency key built from the episode and what the
request is for (step, item, kind, period, chrono sequence), never from the
attempt, so a retried activity or a replayed workflow asks for the same
thing twice and the adapters do it once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflows.effects import ChronoEntry, Notice, NoticeKind, StepRequest
from workflows.records import SendNotice, State, TrackedRecord, WriteChrono
from workflows.steps import StepName


class SideEffects:
    """Writes requests into one record's outbox."""

    def __init__(self, record: TrackedRecord) -> None:
        self.record = record

    def request(self, name: StepName, item: str | None, due: datetime) -> StepRequest:
        return StepRequest(
            case_id=self.record.case_id,
            episode_id=self.record.episode_id,
            step=name,
            item=item,
            due=due,
            officer_id=self.record.officer_id,
            idempotency_key=self.key(name, item, "perform"),
        )

    def key(self, *parts: object) -> str:
        """An idempotency key: the episode, then what it is for; never a try."""
        return "/".join([self.record.episode_id, *(str(p or "-") for p in parts)])

    def notice(
        self,
        kind: NoticeKind,
        recipient: str,
        now: datetime,
        step: StepName | None = None,
        period: int | None = None,
        due: datetime | None = None,
    ) -> None:
        recipient_id = {
            "officer": self.record.officer_id,
            "supervisor": self.record.supervisor_id,
            "liaison": "lead_agency_liaison",
        }[recipient]
        notice = Notice(
            case_id=self.record.case_id,
            episode_id=self.record.episode_id,
            kind=kind,
            recipient=recipient,
            recipient_id=recipient_id,
            step=step,
            period=period,
            due=due,
            at=now,
            idempotency_key=self.key(kind, recipient, step, period),
        )
        self.record.outbox.append(SendNotice(notice=notice))

    def chrono(
        self,
        now: datetime,
        event: str,
        step: StepName | None = None,
        item: str | None = None,
        state: State | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.record.sequence += 1
        entry = ChronoEntry(
            case_id=self.record.case_id,
            episode_id=self.record.episode_id,
            at=now,
            event=event,
            step=step,
            item=item,
            state=state.value if state else None,
            detail=detail or {},
            idempotency_key=self.key("chrono", self.record.sequence),
        )
        self.record.outbox.append(WriteChrono(entry=entry))
