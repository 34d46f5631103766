"""Every scenario file replays to its expected outcome (FORMAT.md).

The shared scenarios are the customer's; ``tests/scenarios`` holds ours, one
or more per rule of PROTOCOL.md. Each runs on its own time-skipping server
with the product's real workflow and activities.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from activities import AdapterConfig, build_activities
from scenarios import differences
from simulation import replay
from worker import bin_path

HERE = Path(__file__).parent
SHARED = HERE.parent.parent / "shared" / "scenarios"
FILES = sorted(SHARED.glob("*.json")) + sorted((HERE / "scenarios").glob("*.json"))


def product_activities(case_record_path: Path) -> list:
    return build_activities(AdapterConfig(case_record_path=case_record_path))


@pytest.mark.parametrize(
    "path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES]
)
async def test_scenario_replays_to_its_expected_outcome(path: Path) -> None:
    expect = json.loads(path.read_text())["expect"]

    result = await replay(path, bin_path("temporal-test-server"), product_activities)

    assert differences(expect, result.outcome) == []
