"""The clock rules of PROTOCOL.md, as pure functions."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from workflows import clocks
from workflows.settings import CountySettings
from workflows.steps import STEPS, StepName

LA = ZoneInfo("America/Los_Angeles")
SETTINGS = CountySettings()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_law_enforcement_report_due_24_elapsed_hours_across_spring_forward():
    # 23:30 the night clocks spring forward: due 00:30 two days later.
    clock = STEPS[StepName.LAW_ENFORCEMENT_REPORT].clock
    due = clocks.due_time(clock, at("2025-03-08T23:30:00-08:00"), SETTINGS)
    assert due == at("2025-03-10T00:30:00-07:00")


def test_law_enforcement_report_due_24_elapsed_hours_across_fall_back():
    clock = STEPS[StepName.LAW_ENFORCEMENT_REPORT].clock
    due = clocks.due_time(clock, at("2025-11-01T23:30:00-07:00"), SETTINGS)
    assert due == at("2025-11-02T22:30:00-08:00")


def test_cft_meeting_due_30_calendar_days_same_wall_time_across_dst():
    clock = STEPS[StepName.CFT_MEETING].clock
    due = clocks.due_time(clock, at("2027-02-19T15:00:00-08:00"), SETTINGS)
    assert due == at("2027-03-21T15:00:00-07:00")


def test_monthly_periods_clamp_to_month_end_from_the_anchor():
    received = at("2027-01-31T09:00:00-08:00")
    ends = [clocks.locate_period_end(received, k, SETTINGS) for k in (1, 2, 3)]
    assert ends == [
        at("2027-02-28T09:00:00-08:00"),
        at("2027-03-31T09:00:00-07:00"),
        at("2027-04-30T09:00:00-07:00"),
    ]


def test_monthly_period_in_a_leap_february_ends_on_the_29th():
    received = at("2028-01-31T09:00:00-08:00")
    assert clocks.locate_period_end(received, 1, SETTINGS) == at(
        "2028-02-29T09:00:00-08:00"
    )


def test_period_end_in_spring_forward_gap_moves_later_by_the_gap():
    # 02:30 does not exist on 2027-03-14 in California: it becomes 03:30.
    received = at("2027-02-14T02:30:00-08:00")
    end = clocks.locate_period_end(received, 1, SETTINGS)
    assert end == at("2027-03-14T03:30:00-07:00")


def test_period_end_in_repeated_fall_back_hour_takes_the_first():
    received = at("2027-10-07T01:30:00-07:00")
    end = clocks.locate_period_end(received, 1, SETTINGS)
    assert end == at("2027-11-07T01:30:00-07:00")


def test_reminder_six_hours_before_a_24_hour_clock():
    clock = STEPS[StepName.NCMEC_REPORT].clock
    due = at("2027-04-14T14:10:00-07:00")
    assert clocks.reminder_time(clock, due, SETTINGS) == at("2027-04-14T08:10:00-07:00")


def test_reminder_seven_calendar_days_before_a_day_clock():
    clock = STEPS[StepName.CFT_MEETING].clock
    due = at("2027-03-21T15:00:00-07:00")
    assert clocks.reminder_time(clock, due, SETTINGS) == at("2027-03-14T15:00:00-07:00")


def test_no_reminder_for_a_clock_shorter_than_24_hours():
    clock = STEPS[StepName.ABUSE_REPORT].clock
    due = at("2027-02-20T13:00:00-08:00")
    assert clocks.reminder_time(clock, due, SETTINGS) is None


def test_eighteenth_birthday_starts_at_midnight_county_time():
    birthday = clocks.eighteenth_birthday(2009, 6, 2, LA)
    assert birthday == at("2027-06-02T00:00:00-07:00")


def test_leap_day_birthday_falls_on_first_of_march_in_other_years():
    birthday = clocks.eighteenth_birthday(2008, 2, 29, LA)
    assert birthday.date() == date(2026, 3, 1)
