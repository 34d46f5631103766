"""Steps done by webhook: signed JSON to a real HTTP server on loopback.

What the receiver can rely on (the request's signature and idempotency key,
the same bytes on every attempt), what we rely on in its reply (a matching
signature, the agency's reference), and what each failure means: retried
(timeouts, 5xx, 408, 429) or an attempt that leaves the step open (4xx).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from activities import AdapterConfig, ProtocolActivities, build_activities
from activities.config import build_adapters
from activities.errors import RecipientUnavailable, RefusedByRecipient, ReplyUnverified
from activities.webhook import SIGNATURE_HEADER, signature
from tests.loopback_servers import WEBHOOK_SECRET
from tests.test_activities import PerformOnceWorkflow
from tests.test_case_record import EPISODE_ID, episode_opened, step_request
from workflows.effects import Method, Receipt
from workflows.steps import StepName

SECRET = WEBHOOK_SECRET
OTHER_SECRET = "another-secret-of-32-characters-too"
INTEGRATIONS = (
    "case_record",
    "law_enforcement",
    "court",
    "ncmec",
    "district_attorney",
    "notifications",
)


def webhook_config(tmp_path: Path, port: int, **settings: Any) -> AdapterConfig:
    """Every integration by webhook, each to its own path on ``port``."""
    table = {
        "secret": SECRET,
        "timeout_seconds": 2,
        **settings,
    }
    return AdapterConfig.model_validate(
        {
            "case_record_path": tmp_path / "case_record",
            **{name: "webhook" for name in INTEGRATIONS},
            "webhooks": {
                name: {"url": f"http://127.0.0.1:{port}/{name}", **table}
                for name in INTEGRATIONS
            },
        }
    )


def posting(tmp_path: Path, port: int, **settings: Any) -> ProtocolActivities:
    adapters = build_adapters(webhook_config(tmp_path, port, **settings))
    adapters.case_record.open_episode(episode_opened())
    return ProtocolActivities(adapters)


async def perform(
    activities: ProtocolActivities, step: StepName, item: str | None = None
) -> Receipt:
    receipt: Receipt = await ActivityEnvironment().run(
        activities.perform_step, step_request(step, item)
    )
    return receipt


async def test_report_is_posted_signed_with_its_key_and_gets_the_agency_number(
    tmp_path, endpoint
):
    server, port = endpoint
    activities = posting(tmp_path, port)

    receipt = await perform(activities, StepName.LAW_ENFORCEMENT_REPORT)

    [(path, headers, body)] = server.requests
    posted = json.loads(body)
    request = step_request(StepName.LAW_ENFORCEMENT_REPORT)
    assert path == "/law_enforcement"
    assert headers["Idempotency-Key"] == request.idempotency_key
    assert headers[SIGNATURE_HEADER] == signature(SecretStr(SECRET), body)
    assert headers["Content-Type"] == "application/json"
    assert (posted["step"], posted["case_id"]) == (
        "law_enforcement_report",
        "J-27-0412",
    )
    assert posted["body"]["youth"]["last_name"] == "Quillfeather"
    assert receipt == Receipt(
        method=Method.ELECTRONIC,
        reference="SRPD-27-04417",
        performed_by="adapter:webhook",
    )
    [submission] = activities.adapters.case_record.submissions(EPISODE_ID)
    assert submission["reference"] == "SRPD-27-04417"


async def test_step_performed_twice_is_posted_once(tmp_path, endpoint):
    server, port = endpoint
    activities = posting(tmp_path, port)

    first = await perform(activities, StepName.NCMEC_REPORT)
    again = await perform(activities, StepName.NCMEC_REPORT)

    assert first == again
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("step", "item", "path"),
    [
        (StepName.MISSING_DOCUMENTATION, None, "/case_record"),
        (StepName.WARRANT_REQUEST, None, "/court"),
        (StepName.NCMEC_REPORT, None, "/ncmec"),
        (StepName.ABUSE_REPORT, "district_attorney", "/district_attorney"),
        (StepName.RETURN_NOTIFICATIONS, "court", "/court"),
        (StepName.PARTY_NOTIFICATIONS, "p2", "/notifications"),
    ],
)
async def test_every_integration_posts_to_its_own_endpoint(
    tmp_path, endpoint, step, item, path
):
    server, port = endpoint

    receipt = await perform(posting(tmp_path, port), step, item)

    assert [request[0] for request in server.requests] == [path]
    assert receipt.reference == "SRPD-27-04417"


async def test_slow_endpoint_times_out_and_is_retried(tmp_path, endpoint):
    server, port = endpoint
    server.delay = 5
    activities = posting(tmp_path, port, timeout_seconds=0.5)

    started = time.monotonic()
    with pytest.raises(
        RecipientUnavailable, match="did not answer within 0.5 s"
    ) as raised:
        await perform(activities, StepName.WARRANT_REQUEST)

    assert time.monotonic() - started < 2
    assert not raised.value.non_retryable
    assert activities.adapters.case_record.submissions(EPISODE_ID) == []


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
async def test_endpoint_that_cannot_take_it_now_is_retried(tmp_path, endpoint, status):
    server, port = endpoint
    server.status = status

    with pytest.raises(RecipientUnavailable, match=f"HTTP {status}") as raised:
        await perform(posting(tmp_path, port), StepName.NCMEC_REPORT)

    assert not raised.value.non_retryable


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 301])
async def test_endpoint_refusal_is_an_attempt_not_a_completion(
    tmp_path, endpoint, status
):
    server, port = endpoint
    server.status = status
    activities = posting(tmp_path, port)

    with pytest.raises(RefusedByRecipient, match=f"HTTP {status}") as raised:
        await perform(activities, StepName.LAW_ENFORCEMENT_REPORT)

    assert raised.value.non_retryable
    assert raised.value.details == ({"method": "electronic", "code": status},)
    assert activities.adapters.case_record.submissions(EPISODE_ID) == []


async def test_reply_signed_with_another_secret_is_not_taken(tmp_path, endpoint):
    server, port = endpoint
    server.signed_with = OTHER_SECRET
    activities = posting(tmp_path, port)

    with pytest.raises(ReplyUnverified, match="signed with another secret") as raised:
        await perform(activities, StepName.LAW_ENFORCEMENT_REPORT)

    assert raised.value.non_retryable
    assert activities.adapters.case_record.submissions(EPISODE_ID) == []


async def test_unsigned_reply_is_refused_only_where_signed_replies_are_required(
    tmp_path, endpoint
):
    server, port = endpoint
    server.signed_with = None

    taken = await perform(posting(tmp_path / "a", port), StepName.NCMEC_REPORT)
    with pytest.raises(ReplyUnverified, match="unsigned"):
        await perform(
            posting(tmp_path / "b", port, require_signed_reply=True),
            StepName.NCMEC_REPORT,
        )

    assert taken.reference == "SRPD-27-04417"


async def test_reply_without_a_reference_gets_one_derived_from_the_request(
    tmp_path, endpoint
):
    server, port = endpoint
    server.reply = None

    receipt = await perform(posting(tmp_path, port), StepName.NCMEC_REPORT)

    assert receipt.reference is not None and receipt.reference.startswith("NCMEC-")


async def test_temporal_retries_a_failing_endpoint_with_the_same_request(
    time_skipping_env, tmp_path, endpoint
):
    server, port = endpoint
    server.failures = 2
    task_queue = f"webhook-{uuid.uuid4()}"

    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=[PerformOnceWorkflow],
        activities=build_activities(webhook_config(tmp_path, port)),
    ):
        receipt = await time_skipping_env.client.execute_workflow(
            PerformOnceWorkflow.run,
            args=[episode_opened(), step_request(StepName.LAW_ENFORCEMENT_REPORT)],
            id=f"webhook-{uuid.uuid4()}",
            task_queue=task_queue,
        )

    assert receipt.reference == "SRPD-27-04417"
    keys = {headers["Idempotency-Key"] for _, headers, _ in server.requests}
    bodies = {body for _, _, body in server.requests}
    assert (len(server.requests), len(keys), len(bodies)) == (3, 1, 1)


@pytest.mark.parametrize(
    ("table", "loc", "rule"),
    [
        (
            {"url": "http://agency.example/report", "secret": SECRET},
            ("webhooks", "court", "url"),
            "must be https",
        ),
        (
            {"url": "https://agency.example/report", "secret": "short"},
            ("webhooks", "court", "secret"),
            "must be at least 32 characters",
        ),
        (
            {"url": "https://agency.example", "secret": SECRET, "timeout_seconds": 90},
            ("webhooks", "court", "timeout_seconds"),
            "less than or equal to 55",
        ),
    ],
)
def test_webhook_configuration_error_names_the_key(tmp_path, table, loc, rule):
    with pytest.raises(ValidationError, match=rule) as raised:
        AdapterConfig.model_validate(
            {
                "case_record_path": tmp_path / "r",
                "court": "webhook",
                "webhooks": {"court": table},
            }
        )

    [error] = raised.value.errors()
    assert error["loc"] == loc


def test_webhook_adapter_without_its_table_is_a_config_error(tmp_path):
    with pytest.raises(ValidationError, match="ncmec: a table is required") as raised:
        AdapterConfig(case_record_path=tmp_path / "r", ncmec="webhook")

    [error] = raised.value.errors()
    assert error["loc"] == ("webhooks",)
