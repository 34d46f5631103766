"""At-risk assessments at intake (§1.C, §3.A): recorded, decided by the rule."""

from __future__ import annotations

import json
import shlex

import starter
from activities import SqliteCaseRecord
from activities.report_record import assessments, record_assessment, rows
from tests.year_of_episodes import Year, at, report, write_year
from workflows.assessment import assess
from workflows.payload import Indicator


async def cli(capsys, command: str) -> tuple[int, str, str]:
    code = await starter.run(shlex.split(command))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_one_strong_indicator_is_recorded_as_at_risk(capsys, tmp_path):
    path = tmp_path / "case_record"

    code, out, err = await cli(
        capsys,
        "assess J-27-1 --youth Y-1 --indicator controlled_or_groomed --by po-117 "
        f"--assessed-at 2027-02-01T09:00:00-08:00 --case-record {path}",
    )

    assert (code, err) == (0, "")
    assert "Y-1 in case J-27-1: at risk (controlled_or_groomed)" in out
    (row,) = rows(SqliteCaseRecord(path), "SELECT * FROM at_risk_assessments")
    assert row["case_id"] == "J-27-1" and row["youth_id"] == "Y-1"
    assert row["assessed_by"] == "po-117" and bool(row["at_risk"])
    assert row["indicators"] == ["controlled_or_groomed"]
    assert row["assessed_at"] == "2027-02-01T17:00:00+00:00"


async def test_one_other_indicator_is_recorded_as_not_at_risk(capsys, tmp_path):
    path = tmp_path / "case_record"

    code, out, _ = await cli(
        capsys,
        f"assess J-27-1 --youth Y-1 --indicator truancy --json --case-record {path}",
    )

    assert code == 0
    assert json.loads(out)["at_risk"] is False
    (row,) = rows(SqliteCaseRecord(path), "SELECT at_risk FROM at_risk_assessments")
    assert not row["at_risk"]


async def test_an_unknown_indicator_is_refused_exit_2(capsys, tmp_path):
    path = tmp_path / "case_record"

    code, out, err = await cli(
        capsys, f"assess J-27-1 --youth Y-1 --indicator homesick --case-record {path}"
    )

    assert (code, out) == (2, "")
    assert "--indicator" in err and "homesick" in err


def test_the_same_assessment_recorded_twice_is_one_row(open_record) -> None:
    record = open_record()
    assessment = assess(
        "J-27-1",
        "Y-1",
        [Indicator.TRUANCY, Indicator.TRUANCY],
        "po-117",
        at("2027-02-01 09:00"),
    )

    record_assessment(record, assessment)
    record_assessment(open_record(), assessment)

    found = assessments(open_record(), at("2028-01-01 00:00"))
    assert [(a.youth_id, a.indicators) for a in found] == [("Y-1", [Indicator.TRUANCY])]


async def test_an_assessment_feeds_category_i_of_the_annual_report(capsys, tmp_path):
    path = tmp_path / "case_record"
    write_year(
        SqliteCaseRecord(path), Year(reports=[report("Y-1", "2027-05-01 10:00")])
    )
    before = await cli(capsys, f"annual-report 2027 --json --case-record {path}")

    await cli(
        capsys,
        "assess J-Y-1 --youth Y-1 --indicator truancy --indicator hard_substance_abuse "
        f"--assessed-at 2027-03-01T09:00:00-08:00 --case-record {path}",
    )
    after = await cli(capsys, f"annual-report 2027 --json --case-record {path}")

    assert json.loads(before[1])["counts"]["i"] == 0
    assert json.loads(after[1])["counts"]["i"] == 1
