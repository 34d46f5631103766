"""One episode's timeline for a supervisor: the record, and its status.

The case record's chrono is the durable story (every step opened, done,
overdue or settled, each receipt, attempt, effort, escalation and the
debrief); its notices say who was reminded and told. The workflow's
``status`` query adds the steps' current states and the locate periods
while a worker answers. Narrative fields (notes, places, who found the
youth, debrief factors) and names are left out unless the viewer asks.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client

from activities import SqlCaseRecord
from activities.schema import Row
from caseload import episode_status
from workflows.missing_youth import EpisodeStatus

# Detail fields that hold ids, times, states and receipts: shown to anyone
# who may see the page. Every other field is shown only with names.
PLAIN_DETAIL = frozenset(
    {
        "due",
        "mode",
        "items",
        "performed_at",
        "method",
        "reference",
        "ncmec_reference",
        "performed_by",
        "kind",
        "by",
        "held_at",
        "exploited_while_absent",
        "immediate_risk",
        "cft_applies",
        "services",
        "located_at",
        "closed_at",
        "categories",
        "phase",
        "signal",
        "rule",
    }
)


@dataclass
class Timeline:
    """What the episode page shows."""

    episode: Row
    youth_name: str | None
    chrono: list[Row]
    notices: list[Row]
    status: EpisodeStatus | None


def detail_text(row: Row, names: bool) -> str:
    """A chrono entry's detail as ``key: value`` pairs, narrative left out."""
    detail: dict[str, Any] = row.get("detail") or {}
    shown = []
    for key, value in detail.items():
        plain = key in PLAIN_DETAIL or (key == "reason" and row["event"] == "closed")
        if value in (None, [], {}) or not (names or plain):
            continue
        text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        shown.append(f"{key}: {text}")
    return "; ".join(shown)


def read_record(record: SqlCaseRecord, episode_id: str) -> tuple[Row, list, list]:
    episode = record.episode(episode_id)
    if episode is None:
        return {}, [], []
    return episode, record.chrono(episode_id), record.notices(episode_id)


async def timeline(
    client: Client | None, record: SqlCaseRecord, episode_id: str, names: bool
) -> Timeline | None:
    """The episode's timeline, or None if the record has no such episode."""
    episode, chrono, notices = await asyncio.to_thread(read_record, record, episode_id)
    if not episode:
        return None
    status = None
    if client is not None:
        status = await episode_status(client, episode["case_id"])
        # The case's latest run may be a later episode than this one.
        if status is not None and status.episode_id != episode_id:
            status = None
    report = episode.pop("report", None) or {}
    youth = report.get("youth") or {}
    name = f"{youth.get('first_name')} {youth.get('last_name')}" if names else None
    for row in chrono:
        row["detail_text"] = detail_text(row, names)
    return Timeline(episode, name if youth else None, chrono, notices, status)
