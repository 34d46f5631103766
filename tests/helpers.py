"""Helpers shared by the tests: ports, polling, search attribute types."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType, IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributeKey

from workflows.payload import MissingReport, validate_report
from workflows.steps import STEPS

PAYLOAD = Path(__file__).resolve().parent.parent / "examples" / "payload.json"
# Every step an adapter can do, done by its adapter.
ALL_AUTOMATIC = {
    name.value: "automatic" for name, step in STEPS.items() if step.done_by == "adapter"
}


def missing_report(case_id: str, received_at: datetime) -> MissingReport:
    """The example payload, received at ``received_at``, exploitation suspected."""
    data: dict[str, Any] = json.loads(PAYLOAD.read_text())
    fifteen = date.today().replace(year=date.today().year - 15, day=1)
    data.update(case_id=case_id, received_at=received_at.isoformat())
    data["youth"]["date_of_birth"] = fifteen.isoformat()
    data["last_seen"]["at"] = (received_at - timedelta(hours=1)).isoformat()
    data["csec"]["status"] = "suspected"
    return validate_report(data, None)


def free_port() -> int:
    """A loopback port nothing listens on now, so tests never take 7233."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def indexed_value_types(
    keys: tuple[SearchAttributeKey, ...],
) -> dict[str, IndexedValueType.ValueType]:
    """The server's name-to-type map for the given search attribute keys."""
    return {
        key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
        for key in keys
    }


async def custom_search_attributes(
    client: Client,
) -> dict[str, IndexedValueType.ValueType]:
    """The custom search attributes registered in the client's namespace."""
    response = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    return dict(response.custom_attributes)


async def wait_for_event(
    handle: WorkflowHandle,
    event_type: EventType.ValueType,
    timeout: timedelta = timedelta(seconds=10),
) -> None:
    """Poll the history until an event of this type is in it.

    Raises:
        TimeoutError: if it has not appeared within ``timeout``.
    """
    async with asyncio.timeout(timeout.total_seconds()):
        while True:
            history = await handle.fetch_history()
            if any(event.event_type == event_type for event in history.events):
                return
            await asyncio.sleep(0.1)
