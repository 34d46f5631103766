"""The activities: routing, idempotent adapters, and nothing personal leaked."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs
from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from activities import (
    AdapterConfig,
    Adapters,
    ProtocolActivities,
    SqlCaseRecord,
    SqliteCaseRecord,
    build_activities,
)
from activities.config import build_adapters
from activities.errors import NotDeliverable
from activities.messages import LoggedStaffMessages
from tests.test_case_record import (
    EPISODE_ID,
    RECEIVED_AT,
    chrono_entry,
    episode_opened,
    step_request,
)
from workflows import effects
from workflows.effects import (
    EpisodeOpened,
    Method,
    Notice,
    Receipt,
    StepRequest,
)
from workflows.steps import STEPS, StepName

# Every piece of personal data in the test payload, and a located place.
PERSONAL = (
    "Zephyrine",
    "Quillfeather",
    "2011-06-02",
    "Thornbury",
    "Mossgrove",
    "Brambleworth",
    "Vantongeren",
    "Larkspurr",
    "larkspurr@example.org",
    "Ashdown",
    "555-0199",
    "Grimthorne",
    "Cinderwell",
    "Hollowmere",
    "exploiting",
    "Unreachable",
    "Fernwhistle",
)


class Spy:
    """An adapter of any integration that remembers what it was asked."""

    def __init__(self, integration: str) -> None:
        self.integration = integration
        self.calls: list[str] = []

    def __getattr__(self, action: str) -> Callable[[StepRequest], Awaitable[Receipt]]:
        async def perform(request: StepRequest) -> Receipt:
            self.calls.append(action)
            return Receipt(
                method=Method.ELECTRONIC, reference=f"{self.integration}.{action}"
            )

        return perform


@pytest.fixture
def adapters(store_config: AdapterConfig) -> Adapters:
    """The default adapters on a fresh case record of each kind, one episode."""
    built = build_adapters(store_config)
    built.case_record.open_episode(episode_opened())
    return built


@pytest.fixture
def record(adapters: Adapters) -> SqlCaseRecord:
    assert isinstance(adapters.case_record, SqlCaseRecord)
    return adapters.case_record


@pytest.fixture
def perform(adapters: Adapters) -> Callable[..., Any]:
    """Run ``perform_step`` for a step (and item) in an activity context."""
    activities = ProtocolActivities(adapters)

    async def run(step: StepName, item: str | None = None) -> Receipt:
        request = step_request(step, item)
        receipt: Receipt = await ActivityEnvironment().run(
            activities.perform_step, request
        )
        return receipt

    return run


def spied(record: SqlCaseRecord) -> ProtocolActivities:
    """Activities whose every integration is a spy, on a real record."""
    return ProtocolActivities(
        Adapters(
            case_record=record,
            documentation=Spy("case_record"),
            law_enforcement=Spy("law_enforcement"),
            court=Spy("court"),
            ncmec=Spy("ncmec"),
            district_attorney=Spy("district_attorney"),
            notifications=Spy("notifications"),
            staff_messages=LoggedStaffMessages(),
        )
    )


async def test_automatic_step_repeated_returns_the_same_reference_once_recorded(
    perform, record
):
    first = await perform(StepName.LAW_ENFORCEMENT_REPORT)
    again = await perform(StepName.LAW_ENFORCEMENT_REPORT)

    assert first == again
    assert first.method == Method.ELECTRONIC
    assert first.reference is not None and first.reference.startswith("LE-")
    assert len(record.submissions(EPISODE_ID)) == 1


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("law_enforcement", "law_enforcement.report_return"),
        ("court", "court.recall_warrant"),
        ("ncmec", "ncmec.report_recovery"),
        ("p1", "notifications.notify_return"),
    ],
)
async def test_return_notifications_item_goes_to_its_own_integration(
    record, item, expected
):
    activities = spied(record)
    request = step_request(StepName.RETURN_NOTIFICATIONS, item)

    receipt = await ActivityEnvironment().run(activities.perform_step, request)

    assert receipt.reference == expected


@pytest.mark.parametrize("step", [StepName.ABUSE_REPORT, StepName.ABUSE_WRITTEN_REPORT])
@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("law_enforcement", "law_enforcement.report_abuse"),
        ("district_attorney", "district_attorney.report_abuse"),
    ],
)
async def test_abuse_report_goes_to_law_enforcement_and_district_attorney(
    record, step, item, expected
):
    receipt = await ActivityEnvironment().run(
        spied(record).perform_step, step_request(step, item)
    )

    assert receipt.reference == expected


@pytest.mark.parametrize(
    "step",
    [
        name
        for name, step in STEPS.items()
        if step.integration is not None and not step.has_items
    ],
)
async def test_step_without_items_goes_to_the_integration_in_the_step_table(
    record, step
):
    receipt = await ActivityEnvironment().run(
        spied(record).perform_step, step_request(step)
    )

    assert receipt.reference.split(".")[0] == STEPS[step].integration


@pytest.mark.parametrize(
    ("step", "item", "rule"),
    [
        (StepName.DEBRIEF, None, "no integration does this step"),
        (StepName.PARTY_NOTIFICATIONS, None, "an item is required"),
        (StepName.NCMEC_REPORT, "p1", "takes no item"),
        (StepName.ABUSE_REPORT, "court", "not a recipient"),
        (StepName.RETURN_NOTIFICATIONS, "district_attorney", "not a recipient"),
    ],
)
async def test_step_no_adapter_can_do_is_refused_for_good(record, step, item, rule):
    with pytest.raises(NotDeliverable, match=rule) as raised:
        await ActivityEnvironment().run(
            spied(record).perform_step, step_request(step, item)
        )

    assert raised.value.non_retryable


async def test_ncmec_report_holds_what_ncmec_needs_from_the_payload(perform, record):
    police = await perform(StepName.LAW_ENFORCEMENT_REPORT)
    nic = await perform(StepName.NCIC_ENTRY_CONFIRMED)

    receipt = await perform(StepName.NCMEC_REPORT)

    body = record.submissions(EPISODE_ID)[-1]["body"]
    assert receipt.reference.startswith("NCMEC-")
    assert body["child"] == {
        "id": "Y-1001",
        "first_name": "Zephyrine",
        "last_name": "Quillfeather",
        "date_of_birth": "2011-06-02",
    }
    assert body["last_seen"] == {
        "at": "2027-03-12T19:00:00-08:00",
        "place": "Thornbury Lane group home",
    }
    assert body["circumstances"] == ["argued with Mossgrove caregiver"]
    assert body["risk_factors"]["indicators"] == ["controlled_or_groomed", "truancy"]
    assert body["agency_worker"]["name"] == "Officer Brambleworth"
    assert body["agency_worker"]["email"] == "brambleworth@probation.example"
    assert body["police"] == {
        "agency": {"name": "Santa Rosa Police Department", "ori": "CA0490200"},
        "case_number": police.reference,
        "nic_number": nic.reference,
    }
    assert {"sex", "race", "height", "weight", "photo"} <= set(body["not_in_payload"])


async def test_ncmec_report_cites_numbers_the_officer_confirmed(perform, record):
    record.record_chrono(
        chrono_entry(
            "1",
            StepName.LAW_ENFORCEMENT_REPORT,
            state="done",
            detail={"method": "phone", "reference": "SRPD-27-04417"},
        )
    )

    await perform(StepName.NCMEC_REPORT)

    police = record.submissions(EPISODE_ID)[-1]["body"]["police"]
    assert (police["case_number"], police["nic_number"]) == ("SRPD-27-04417", None)


async def test_ncmec_report_tells_where_the_youth_was_found_before(perform, record):
    earlier: EpisodeOpened = episode_opened("J-27-0412/0").model_copy(
        update={"idempotency_key": "J-27-0412/0/case_record"}
    )
    record.open_episode(earlier)
    record.record_chrono(
        chrono_entry("0", event="located", detail={"place": "Fernwhistle"}).model_copy(
            update={"episode_id": "J-27-0412/0"}
        )
    )

    await perform(StepName.NCMEC_REPORT)

    body = record.submissions(EPISODE_ID)[-1]["body"]
    assert [episode["found_at_place"] for episode in body["earlier_episodes"]] == [
        "Fernwhistle"
    ]


@pytest.mark.parametrize(
    ("party", "method"),
    [("p1", Method.EMAIL), ("p2", Method.PHONE), ("p4", Method.LETTER)],
)
async def test_party_is_notified_by_email_then_phone_then_letter(
    perform, record, party, method
):
    receipt = await perform(StepName.PARTY_NOTIFICATIONS, party)

    body = record.submissions(EPISODE_ID)[-1]["body"]
    assert receipt.method == method
    assert (body["message"], body["channel"]["method"]) == ("youth_missing", method)
    assert "last_seen" not in body


@pytest.mark.parametrize(
    ("party", "rule"),
    [("p3", "do not notify"), ("p5", "no email, phone or address"), ("p9", "no such")],
)
async def test_party_that_may_not_or_cannot_be_reached_is_not_notified(
    perform, record, party, rule
):
    with pytest.raises(NotDeliverable, match=rule) as raised:
        await perform(StepName.RETURN_NOTIFICATIONS, party)

    assert raised.value.non_retryable
    assert not [word for word in PERSONAL if word in str(raised.value)]
    assert record.submissions(EPISODE_ID) == []


@pytest.mark.parametrize(
    ("in_foster_care", "system"), [(True, "CWS/CMS"), (False, "CSEC chrono")]
)
async def test_missing_documentation_goes_to_cws_cms_only_for_foster_youth(
    store_config, in_foster_care, system
):
    adapters = build_adapters(store_config)
    adapters.case_record.open_episode(episode_opened(in_foster_care=in_foster_care))
    activities = ProtocolActivities(adapters)

    receipt = await ActivityEnvironment().run(
        activities.perform_step, step_request(StepName.MISSING_DOCUMENTATION)
    )

    record = adapters.case_record
    assert isinstance(record, SqlCaseRecord)
    [entry] = record.chrono(EPISODE_ID)
    assert (entry["event"], entry["step"]) == ("missing_documentation",) * 2
    assert entry["detail"]["system"] == system
    assert entry["detail"]["primary_factors"] == ["argued with Mossgrove caregiver"]
    assert entry["detail"]["reporting_timeframe"]["received_at"] == (
        RECEIVED_AT.isoformat()
    )
    assert receipt.method == Method.ELECTRONIC


async def test_officer_task_opens_and_closes_when_the_chrono_says_final(
    adapters, record
):
    activities = ProtocolActivities(adapters)
    environment = ActivityEnvironment()
    request = step_request(StepName.WARRANT_REQUEST)

    await environment.run(activities.open_officer_task, request)
    opened = record.open_tasks("po-117")
    entry = chrono_entry("1", StepName.WARRANT_REQUEST, state="done")
    await environment.run(activities.record_chrono, entry)

    assert [task["step"] for task in opened] == ["warrant_request"]
    assert record.open_tasks("po-117") == []


async def test_notice_sent_twice_is_recorded_and_sent_once(adapters, record):
    activities = ProtocolActivities(adapters)
    notice = Notice(
        case_id="J-27-0412",
        episode_id=EPISODE_ID,
        kind="reminder",
        recipient="officer",
        recipient_id="po-117",
        step=StepName.NCMEC_REPORT,
        due=RECEIVED_AT + timedelta(hours=24),
        at=RECEIVED_AT + timedelta(hours=18),
        idempotency_key=f"{EPISODE_ID}/reminder/officer/ncmec_report/-",
    )

    with capture_logs() as logs:
        for _ in range(2):
            await ActivityEnvironment().run(activities.send_notice, notice)

    [row] = record.notices(EPISODE_ID)
    assert row["sent_at"] is not None
    assert [log["event"] for log in logs].count("staff_notice") == 1


async def test_no_personal_data_reaches_the_logs(store_config):
    activities = ProtocolActivities(build_adapters(store_config))
    environment = ActivityEnvironment()
    steps = [
        (StepName.LAW_ENFORCEMENT_REPORT, None),
        (StepName.NCMEC_REPORT, None),
        (StepName.WARRANT_REQUEST, None),
        (StepName.MISSING_DOCUMENTATION, None),
        (StepName.PARTY_NOTIFICATIONS, "p1"),
        (StepName.ABUSE_REPORT, "district_attorney"),
        (StepName.RETURN_NOTIFICATIONS, "ncmec"),
    ]

    with capture_logs() as logs:
        await environment.run(activities.open_case_record, episode_opened())
        for step, item in steps:
            await environment.run(activities.perform_step, step_request(step, item))
        await environment.run(
            activities.open_officer_task, step_request(StepName.DEBRIEF)
        )
        located = chrono_entry("2", event="located", detail={"place": "Fernwhistle"})
        await environment.run(activities.record_chrono, located)
        with pytest.raises(NotDeliverable):
            await environment.run(
                activities.perform_step,
                step_request(StepName.PARTY_NOTIFICATIONS, "p5"),
            )

    assert len(logs) >= len(steps) + 3
    assert not [word for word in PERSONAL if word in repr(logs)]


@pytest.mark.parametrize(
    "activity", ["perform_step", "open_officer_task", "record_chrono"]
)
async def test_request_for_an_unknown_episode_fails_for_good(adapters, activity):
    unknown = "J-27-9999/1"
    argument: Any = step_request(StepName.LAW_ENFORCEMENT_REPORT, episode_id=unknown)
    if activity == "record_chrono":
        argument = chrono_entry("1").model_copy(update={"episode_id": unknown})
    run = getattr(ProtocolActivities(adapters), activity)

    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(run, argument)

    assert raised.value.non_retryable
    assert raised.value.type == "UnknownEpisode"
    assert unknown in str(raised.value)


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"ncmec": "fax"}, "ncmec"),
        ({"ncmc": "case_record"}, "ncmc"),
        ({"case_record_url": "mysql://db/record"}, "case_record_url"),
        ({"case_record_path": None}, "case_record_url"),
    ],
)
def test_configuration_error_names_the_key(tmp_path, config, key):
    with pytest.raises(ValidationError) as raised:
        AdapterConfig(**{"case_record_path": tmp_path / "r.sqlite", **config})

    [error] = raised.value.errors()
    assert error["loc"] == (key,)


@workflow.defn(sandboxed=False)
class PerformOnceWorkflow:
    """Opens the case record and performs one step, as the episode does."""

    @workflow.run
    async def run(self, opened: EpisodeOpened, request: StepRequest) -> Receipt:
        timeout = timedelta(seconds=30)
        await workflow.execute_activity(
            effects.OPEN_CASE_RECORD, opened, start_to_close_timeout=timeout
        )
        receipt: Receipt = await workflow.execute_activity(
            effects.PERFORM_STEP,
            request,
            result_type=Receipt,
            start_to_close_timeout=timeout,
        )
        return receipt


async def test_built_activities_run_by_their_contract_names_on_a_worker(
    time_skipping_env, tmp_path
):
    path = tmp_path / "record.sqlite"
    task_queue = f"activities-{uuid.uuid4()}"
    request = step_request(StepName.NCMEC_REPORT)

    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=[PerformOnceWorkflow],
        activities=build_activities(AdapterConfig(case_record_path=path)),
    ):
        receipt = await time_skipping_env.client.execute_workflow(
            PerformOnceWorkflow.run,
            args=[episode_opened(), request],
            id=f"perform-once-{uuid.uuid4()}",
            task_queue=task_queue,
        )

    [submission] = SqliteCaseRecord(path).submissions(EPISODE_ID)
    assert receipt.reference == submission["reference"]
    assert submission["integration"] == "ncmec"
