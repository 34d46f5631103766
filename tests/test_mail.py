"""E-mail to parties and staff, through a real SMTP server on loopback.

A refusal is an attempt, never a completion: the workflow sees a
non-retryable ``RefusedByRecipient`` and the step stays open. A deferral or
a server that cannot be reached is retried.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from activities import AdapterConfig, ProtocolActivities, build_activities
from activities.config import build_adapters
from activities.errors import NotDeliverable, RecipientUnavailable, RefusedByRecipient
from activities.smtp import SmtpConfig
from tests.helpers import free_port
from tests.loopback_servers import SMTP_LOGIN
from tests.test_activities import PERSONAL
from tests.test_case_record import (
    EPISODE_ID,
    RECEIVED_AT,
    episode_opened,
    step_request,
)
from workflows import effects
from workflows.effects import EpisodeOpened, Method, Notice, Receipt, StepRequest
from workflows.steps import StepName

SENDER = "protocol@probation.example"
PARTY_EMAIL = "larkspurr@example.org"
OFFICER_EMAIL = "brambleworth@probation.example"
SUPERVISOR_EMAIL = "vantongeren@probation.example"


def smtp_config(port: int, **changes: Any) -> SmtpConfig:
    """A mail server on loopback, in clear, with a login."""
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "sender": SENDER,
        "security": "none",
        "username": SMTP_LOGIN[0],
        "password": SMTP_LOGIN[1],
        "timeout_seconds": 5,
    }
    return SmtpConfig.model_validate(settings | changes)


def mail_config(tmp_path: Path, port: int, **changes: Any) -> AdapterConfig:
    return AdapterConfig(
        case_record_path=tmp_path / "case_record",
        notifications="email",
        staff_messages="email",
        smtp=smtp_config(port, **changes),
    )


def mailing(
    tmp_path: Path, port: int, opened: EpisodeOpened | None = None
) -> ProtocolActivities:
    """The activities with e-mail adapters, one episode opened."""
    adapters = build_adapters(mail_config(tmp_path, port))
    adapters.case_record.open_episode(opened or episode_opened())
    return ProtocolActivities(adapters)


def text_of(message: EmailMessage) -> str:
    body = message.get_body()
    assert body is not None
    return str(body.get_content())


async def notify(
    activities: ProtocolActivities, step: StepName, item: str | None
) -> Receipt:
    receipt: Receipt = await ActivityEnvironment().run(
        activities.perform_step, step_request(step, item)
    )
    return receipt


@pytest.mark.parametrize(
    ("step", "says"),
    [
        (StepName.PARTY_NOTIFICATIONS, "has been reported missing"),
        (StepName.RETURN_NOTIFICATIONS, "has been located"),
    ],
)
async def test_party_is_told_by_email_the_case_and_whom_to_call_and_nothing_more(
    tmp_path, mail_server, step, says
):
    server, port = mail_server
    activities = mailing(tmp_path, port)

    receipt = await notify(activities, step, "p1")

    [message] = server.messages
    text = text_of(message)
    assert (message["To"], message["From"]) == (PARTY_EMAIL, SENDER)
    assert message["Subject"].startswith("Case J-27-0412: youth ")
    assert message["Auto-Submitted"] == "auto-generated"
    assert says in text and "J-27-0412" in text
    assert f"Officer Brambleworth, {OFFICER_EMAIL}" in text
    # Neither the youth's nor any party's data, nor where the youth was.
    told = f"{message['Subject']}\n{text}"
    assert [word for word in PERSONAL if word in told] == ["Brambleworth"]
    assert "Thornbury" not in told and "Y-1001" not in told
    assert (receipt.method, receipt.performed_by) == (Method.EMAIL, "adapter:email")
    [submission] = activities.adapters.case_record.submissions(EPISODE_ID)
    assert submission["reference"] == receipt.reference


async def test_party_notified_twice_gets_one_email_and_one_reference(
    tmp_path, mail_server
):
    server, port = mail_server
    activities = mailing(tmp_path, port)

    first = await notify(activities, StepName.PARTY_NOTIFICATIONS, "p1")
    again = await notify(activities, StepName.PARTY_NOTIFICATIONS, "p1")

    assert first == again
    assert len(server.messages) == 1


async def test_address_refused_by_the_mail_server_is_an_attempt_not_a_completion(
    tmp_path, mail_server
):
    server, port = mail_server
    server.refuse[PARTY_EMAIL] = "550 5.1.1 <larkspurr@example.org>: no such user"
    activities = mailing(tmp_path, port)

    with pytest.raises(RefusedByRecipient) as raised:
        await notify(activities, StepName.PARTY_NOTIFICATIONS, "p1")

    error = raised.value
    assert error.non_retryable and error.type == "RefusedByRecipient"
    assert error.details == ({"method": "email", "code": 550},)
    assert error.message == (
        "party_notifications item p1: the mail server refused the address (SMTP 550)"
    )
    assert activities.adapters.case_record.submissions(EPISODE_ID) == []


async def test_address_deferred_by_the_mail_server_is_retried(tmp_path, mail_server):
    server, port = mail_server
    server.refuse[PARTY_EMAIL] = "450 4.2.1 mailbox busy, try later"
    activities = mailing(tmp_path, port)

    with pytest.raises(
        RecipientUnavailable, match=r"deferred .* \(SMTP 450\)"
    ) as raised:
        await notify(activities, StepName.RETURN_NOTIFICATIONS, "p1")

    assert not raised.value.non_retryable


async def test_mail_server_that_cannot_be_reached_is_retried(tmp_path):
    activities = mailing(tmp_path, free_port())

    with pytest.raises(RecipientUnavailable, match="cannot be reached") as raised:
        await notify(activities, StepName.PARTY_NOTIFICATIONS, "p1")

    assert not raised.value.non_retryable


async def test_wrong_login_is_retried_until_the_configuration_is_right(
    tmp_path, mail_server
):
    _, port = mail_server
    adapters = build_adapters(mail_config(tmp_path, port, password="wrong-password"))
    adapters.case_record.open_episode(episode_opened())

    with pytest.raises(RecipientUnavailable, match="login or sender") as raised:
        await notify(ProtocolActivities(adapters), StepName.PARTY_NOTIFICATIONS, "p1")

    assert not raised.value.non_retryable
    assert "wrong-password" not in str(raised.value)


@pytest.mark.parametrize(("party", "method"), [("p2", "phone"), ("p4", "letter")])
async def test_party_without_an_email_address_is_left_to_the_officer(
    tmp_path, mail_server, party, method
):
    server, port = mail_server

    with pytest.raises(NotDeliverable, match=f"must notify them by {method}"):
        await notify(mailing(tmp_path, port), StepName.PARTY_NOTIFICATIONS, party)

    assert server.messages == []


def reminder(recipient: str = "officer", kind: str = "reminder") -> Notice:
    return Notice(
        case_id="J-27-0412",
        episode_id=EPISODE_ID,
        kind=kind,  # type: ignore[arg-type]
        recipient=recipient,  # type: ignore[arg-type]
        recipient_id={"officer": "po-117", "supervisor": "spo-9"}[recipient],
        step=StepName.NCMEC_REPORT,
        due=RECEIVED_AT + timedelta(hours=24),
        at=RECEIVED_AT + timedelta(hours=18),
        idempotency_key=f"{EPISODE_ID}/{kind}/{recipient}/ncmec_report/-",
    )


async def test_reminder_is_mailed_to_the_officer_once_with_the_county_due_time(
    tmp_path, mail_server
):
    server, port = mail_server
    activities = mailing(tmp_path, port)

    for _ in range(2):
        await ActivityEnvironment().run(activities.send_notice, reminder())

    [message] = server.messages
    assert message["To"] == OFFICER_EMAIL
    assert message["Subject"] == "Reminder: ncmec_report, case J-27-0412"
    # Due 24 hours after 23:40 PST on 12 March 2027, as the county reads it.
    assert "ncmec_report is due 2027-03-13 23:40 PST" in text_of(message)
    assert not [word for word in PERSONAL if word in str(message)]
    [row] = activities.adapters.case_record.notices(EPISODE_ID)
    assert row["sent_at"] is not None


async def test_escalation_is_mailed_to_the_supervisor(tmp_path, mail_server):
    server, port = mail_server
    supervisor = {"id": "spo-9", "name": "Supervisor V", "email": SUPERVISOR_EMAIL}
    activities = mailing(tmp_path, port, episode_opened(supervisor=supervisor))

    await ActivityEnvironment().run(
        activities.send_notice, reminder("supervisor", "escalation")
    )

    [message] = server.messages
    assert message["To"] == SUPERVISOR_EMAIL
    assert message["Subject"] == "Overdue: ncmec_report, case J-27-0412"
    assert "was due 2027-03-13 23:40 PST and is not done" in text_of(message)


async def test_hand_off_is_mailed_to_the_lead_agencys_liaison(tmp_path, mail_server):
    server, port = mail_server
    liaison = {"name": "Liaison L", "email": "liaison@cws.example"}
    dual_status = {"lead_agency": "child_welfare", "liaison": liaison}
    activities = mailing(tmp_path, port, episode_opened(dual_status=dual_status))
    hand_off = Notice(
        case_id="J-27-0412",
        episode_id=EPISODE_ID,
        kind="hand_off",
        recipient="liaison",
        recipient_id="lead_agency_liaison",
        at=RECEIVED_AT,
        idempotency_key=f"{EPISODE_ID}/hand_off/liaison/-/-",
    )

    await ActivityEnvironment().run(activities.send_notice, hand_off)

    [message] = server.messages
    assert message["To"] == "liaison@cws.example"
    assert message["Subject"] == (
        "Case J-27-0412: child welfare leads the runaway protocol"
    )


async def test_birthday_notice_tells_staff_without_the_date_of_birth(
    tmp_path, mail_server
):
    server, port = mail_server
    activities = mailing(tmp_path, port)
    birthday = reminder(kind="birthday").model_copy(
        update={"step": None, "due": RECEIVED_AT}
    )

    await ActivityEnvironment().run(activities.send_notice, birthday)

    [message] = server.messages
    assert message["Subject"] == "Case J-27-0412: the missing youth has turned 18"
    assert not [word for word in PERSONAL if word in str(message)]


async def test_notice_to_staff_without_an_email_address_stays_unsent(
    tmp_path, mail_server
):
    server, port = mail_server
    activities = mailing(tmp_path, port)

    with pytest.raises(NotDeliverable, match="escalation to supervisor spo-9"):
        await ActivityEnvironment().run(
            activities.send_notice, reminder("supervisor", "escalation")
        )

    [row] = activities.adapters.case_record.notices(EPISODE_ID)
    assert row["sent_at"] is None and server.messages == []


@workflow.defn(sandboxed=False)
class RefusedStepWorkflow:
    """Performs one step as the episode does; reports what failure it saw."""

    @workflow.run
    async def run(self, opened: EpisodeOpened, request: StepRequest) -> dict[str, Any]:
        timeout = timedelta(seconds=30)
        await workflow.execute_activity(
            effects.OPEN_CASE_RECORD, opened, start_to_close_timeout=timeout
        )
        try:
            await workflow.execute_activity(
                effects.PERFORM_STEP,
                request,
                result_type=Receipt,
                start_to_close_timeout=timeout,
                # As workflows/runtime.py: retried until the adapter answers.
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=10)),
            )
        except ActivityError as error:
            cause = error.cause
            assert isinstance(cause, ApplicationError)
            return {
                "retry_state": error.retry_state,
                "type": cause.type,
                "non_retryable": cause.non_retryable,
                "message": cause.message,
                "details": list(cause.details),
            }
        return {}


async def test_workflow_sees_a_refusal_as_a_non_retryable_failure_at_once(
    time_skipping_env, tmp_path, mail_server
):
    server, port = mail_server
    server.refuse[PARTY_EMAIL] = "550 5.1.1 no such user"
    task_queue = f"mail-{uuid.uuid4()}"

    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=[RefusedStepWorkflow],
        activities=build_activities(mail_config(tmp_path, port)),
    ):
        seen = await time_skipping_env.client.execute_workflow(
            RefusedStepWorkflow.run,
            args=[episode_opened(), step_request(StepName.PARTY_NOTIFICATIONS, "p1")],
            id=f"refused-{uuid.uuid4()}",
            task_queue=task_queue,
        )

    assert seen == {
        "retry_state": RetryState.NON_RETRYABLE_FAILURE,
        "type": "RefusedByRecipient",
        "non_retryable": True,
        "message": (
            "party_notifications item p1: the mail server refused the address "
            "(SMTP 550)"
        ),
        "details": [{"method": "email", "code": 550}],
    }


@pytest.mark.parametrize(
    ("changes", "key", "rule"),
    [
        ({"host": "mail.county.example"}, "security", "only for a mail server on"),
        ({"password": None}, "password", "username and password go together"),
        ({"sender": "Probation"}, "sender", "pattern"),
        ({"port": 0}, "port", "greater than or equal to 1"),
    ],
)
def test_smtp_configuration_error_names_the_key(changes, key, rule):
    with pytest.raises(ValidationError, match=rule) as raised:
        smtp_config(**({"port": 25} | changes))

    [error] = raised.value.errors()
    assert error["loc"] == (key,)


def test_email_adapter_without_an_smtp_table_is_a_config_error(tmp_path):
    with pytest.raises(
        ValidationError, match="when staff_messages = 'email'"
    ) as raised:
        AdapterConfig(case_record_path=tmp_path / "r", staff_messages="email")

    [error] = raised.value.errors()
    assert error["loc"] == ("smtp",)
