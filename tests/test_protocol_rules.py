"""Rules that a scenario's outcome alone cannot show: counts, messages,
and what a refused action leaves behind."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from activities import AdapterConfig, SqliteCaseRecord, build_activities
from simulation import Replay, replay
from worker import bin_path

SCENARIOS = Path(__file__).parent / "scenarios"


async def run(
    scenario: dict[str, Any], folder: Path, name: str = "scenario"
) -> tuple[Replay, SqliteCaseRecord]:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(scenario))
    record_path = folder / f"{name}.sqlite3"
    result = await replay(
        path,
        bin_path("temporal-test-server"),
        lambda _: build_activities(AdapterConfig(case_record_path=record_path)),
    )
    return result, SqliteCaseRecord(record_path)


def scenario(name: str) -> dict[str, Any]:
    return json.loads((SCENARIOS / f"{name}.json").read_text())


async def test_refused_actions_change_nothing(tmp_path: Path) -> None:
    bad = scenario("refused-actions")
    refused = set(bad["expect"]["rejected_events"])
    good = dict(
        bad, events=[e for i, e in enumerate(bad["events"]) if i not in refused]
    )

    with_refusals, _ = await run(bad, tmp_path, "bad")
    without, _ = await run(good, tmp_path, "good")

    assert sorted(with_refusals.outcome["rejected_events"]) == sorted(refused)
    assert with_refusals.outcome | {"rejected_events": []} == without.outcome
    kept = with_refusals.status.record.model_dump(exclude={"outbox", "sequence"})
    assert kept == without.status.record.model_dump(exclude={"outbox", "sequence"})


async def test_refusal_names_the_field_and_rule_without_personal_values(
    tmp_path: Path,
) -> None:
    result, _ = await run(scenario("refused-actions"), tmp_path)

    refusals = [line for _, line in result.timeline if "REFUSED" in line]
    assert len(refusals) == len(result.outcome["rejected_events"])
    for line in refusals:
        field, _, rule = line.split("REFUSED: ", 1)[1].partition(": ")
        assert field and rule, line
        for personal in ("library", "Deputy", "Counsel One", "Advocate Two"):
            assert personal not in line
    assert any("step: debrief is done only by its own action" in r for r in refusals)
    assert any("item: p2 is marked do not notify" in r for r in refusals)
    assert any("located: the youth was already located" in r for r in refusals)


async def test_overdue_steps_escalate_once_each_to_the_supervisor(
    tmp_path: Path,
) -> None:
    # Nothing is done for five days: each open 24-hour report is escalated
    # once at due, however many clocks fire afterwards.
    quiet = dict(
        scenario("fall-back-report-on-time"),
        events=[],
        until="2027-11-12T00:00:00-08:00",
    )

    result, record = await run(quiet, tmp_path)

    escalated = Counter(
        (row["step"], row["period"])
        for row in record.notices(result.status.episode_id)
        if row["kind"] == "escalation"
    )
    expected_steps = {
        "law_enforcement_report",
        "warrant_request",
        "party_notifications",
        "ncmec_report",
    }
    assert {step for step, _ in escalated} == expected_steps
    assert set(escalated.values()) == {1}
    assert len(result.status.record.escalations) == 4


async def test_reminder_goes_to_the_officer_six_hours_before_due(
    tmp_path: Path,
) -> None:
    quiet = dict(
        scenario("fall-back-report-on-time"),
        events=[],
        until="2027-11-07T20:00:00-08:00",
    )

    result, record = await run(quiet, tmp_path)

    reminders = [
        row
        for row in record.notices(result.status.episode_id)
        if row["kind"] == "reminder"
    ]
    assert {row["step"] for row in reminders} == {
        "law_enforcement_report",
        "warrant_request",
        "party_notifications",
        "ncmec_report",
    }
    assert {row["recipient"] for row in reminders} == {"officer"}
    assert result.outcome["escalated_steps"] == []


async def test_finding_after_the_episodes_abuse_report_starts_a_report_of_its_own(
    tmp_path: Path,
) -> None:
    # Suspected at the start, so the episode's one abuse report is made then;
    # the debrief's finding needs a second report, outside the episode.
    base = scenario("abuse-report-at-start")
    base["modes"] = {
        "law_enforcement_report": "automatic",
        "warrant_request": "automatic",
        "party_notifications": "automatic",
        "ncmec_report": "automatic",
        "ncic_entry_confirmed": "automatic",
        "return_notifications": "automatic",
        "abuse_report": "automatic",
    }
    base["events"] = [
        {
            "at": "2027-06-12T10:00:00-07:00",
            "action": "located",
            "place": "motel",
            "found_by": "Deputy",
        },
        {
            "at": "2027-06-12T15:00:00-07:00",
            "action": "record_debrief",
            "exploited_while_absent": "yes",
            "immediate_risk": True,
            "services": ["medical"],
            "cft_applies": False,
            "primary_factors": [],
        },
    ]
    base["until"] = "2027-06-13T12:00:00-07:00"

    result, record = await run(base, tmp_path)

    episode_report = result.status.record.steps["abuse_report"]
    assert episode_report.trigger == result.status.record.received_at
    disclosure_id = "abuse-report-T-10-20270612T220000Z"
    assert record.episode(disclosure_id) is not None
    done = [
        (row["item"], row["state"])
        for row in record.chrono(disclosure_id)
        if row["event"] == "step_done"
    ]
    assert sorted(done) == [("district_attorney", "done"), ("law_enforcement", "done")]


async def test_eighteenth_birthday_notice_at_midnight_and_warrant_request_stays(
    tmp_path: Path,
) -> None:
    turning = scenario("fall-back-report-on-time")
    turning["report"]["youth"]["date_of_birth"] = "2009-11-08"
    turning["events"] = []
    turning["until"] = "2027-11-08T12:00:00-08:00"

    result, record = await run(turning, tmp_path)

    birthdays = [
        row
        for row in record.notices(result.status.episode_id)
        if row["kind"] == "birthday"
    ]
    assert {row["recipient"] for row in birthdays} == {"officer", "supervisor"}
    assert {row["due"] for row in birthdays} == {"2027-11-08T08:00:00+00:00"}
    assert result.outcome["steps"]["warrant_request"]["state"] == "overdue"
    assert "birthday" not in result.outcome["escalated_steps"]


async def test_locate_period_reminder_seven_days_before_its_end_only_without_effort(
    tmp_path: Path,
) -> None:
    # Period 1 has an effort before its reminder, period 2 none: only
    # period 2 is reminded.
    months = scenario("month-end-locate-periods")
    months["events"] = [dict(months["events"][0], at="2027-02-10T10:00:00-08:00")]
    months["until"] = "2027-03-30T00:00:00-07:00"

    result, record = await run(months, tmp_path)

    reminded = [
        (row["period"], row["at"])
        for row in record.notices(result.status.episode_id)
        if row["kind"] == "reminder" and row["step"] == "locate_effort"
    ]
    assert reminded == [(2, "2027-03-24T16:00:00+00:00")]
