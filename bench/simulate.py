"""Time ``simulate`` on the five-year scenario (issue 3's figure).

Run: ``.venv/bin/python bench/simulate.py [RUNS]``. Prints one line per run
and the median; each run starts its own time-skipping server, as
``starter.py simulate`` does. Not part of the test suite: speed is measured
here, never asserted in tests.
"""

from __future__ import annotations

import asyncio
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from activities import AdapterConfig, build_activities  # noqa: E402
from logs import configure_logging  # noqa: E402
from simulation import replay  # noqa: E402
from worker import bin_path  # noqa: E402

SCENARIO = ROOT / "tests" / "scenarios" / "five-years-monthly-efforts.json"


async def main(runs: int) -> None:
    configure_logging(json=True, stream=open("/dev/null", "w"))  # noqa: SIM115
    seconds = []
    for run in range(runs):
        started = time.perf_counter()
        await replay(
            SCENARIO,
            bin_path("temporal-test-server"),
            lambda path: build_activities(AdapterConfig(case_record_path=path)),
        )
        seconds.append(time.perf_counter() - started)
        print(f"run {run + 1}: {seconds[-1]:.2f} s")
    print(
        f"five-year simulation, median of {runs}: {statistics.median(seconds):.2f} s "
        f"on {platform.machine()} Python {platform.python_version()}"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
