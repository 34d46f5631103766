"""Save the history of a scenario's episode for replay on every test run.

    .venv/bin/python -m tests.histories.record SCENARIO.json NAME

Run it when a release changes the workflow: the new file joins those of
every earlier version, and ``tests/test_replay.py`` replays them all, so a
change that is not patched fails the suite (README, "Releasing a change to a
workflow").
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from activities import AdapterConfig, build_activities
from simulation import replay
from worker import bin_path

HERE = Path(__file__).parent


async def record(scenario: Path, name: str) -> Path:
    """Replay ``scenario`` and write its episode's history to NAME.json."""
    target = HERE / f"{name}.json"
    await replay(
        scenario,
        bin_path("temporal-test-server"),
        lambda path: build_activities(AdapterConfig(case_record_path=path)),
        keep_history=target.write_text,
    )
    return target


if __name__ == "__main__":
    print(asyncio.run(record(Path(sys.argv[1]), sys.argv[2])))
