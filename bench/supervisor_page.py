"""Time the supervisor page: the overview and a timeline, N open episodes.

    .venv/bin/python bench/supervisor_page.py [EPISODES] [RUNS]

Starts a dev server and a worker of its own on free loopback ports, opens
EPISODES episodes (default 50) from the example payload, serves the page,
and prints the median time to answer each page over RUNS requests (default
10), with a worker answering every status query. Not part of the suite.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from activities import SqliteCaseRecord  # noqa: E402
from codec import data_converter, load_keys, new_key_line  # noqa: E402
from codec_server import new_token, start  # noqa: E402
from supervisor_web import Sources, build_app  # noqa: E402
from tests.helpers import free_port  # noqa: E402
from tests.open_episodes import Caseload  # noqa: E402
from worker import build_worker, start_dev_server  # noqa: E402


async def timed(session: aiohttp.ClientSession, url: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        async with session.get(url) as response:
            await response.read()
            assert response.status == 200, response.status
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def main(episodes: int, runs: int) -> None:
    import os

    os.environ["CSEC_KEYS"] = new_key_line("bench")
    folder = Path(tempfile.mkdtemp())
    env = await start_dev_server(
        folder, port=free_port(), ui=False, converter=data_converter(load_keys())
    )
    record_path = folder / "case_record"
    load = Caseload(env.client)
    token = new_token()
    try:
        async with build_worker(env.client, record_path):
            reports = [await load.start() for _ in range(episodes)]
            for report in reports:
                await load.settled(report.case_id)
            record = SqliteCaseRecord(record_path)
            sources = Sources(env.client, record, ZoneInfo("America/Los_Angeles"))
            port = free_port()
            runner = await start(build_app(sources, token), "127.0.0.1", port)
            base = f"http://127.0.0.1:{port}"
            episode_id = record.episodes(reports[0].case_id)[0]["episode_id"]
            headers = {"Authorization": f"Bearer {token}"}
            async with aiohttp.ClientSession(headers=headers) as session:
                unit = f"{base}/?unit={load.supervisor}"
                # Visibility lags the starts a little: wait for all of them.
                while True:
                    async with session.get(unit) as response:
                        if f"Open episodes: {episodes}," in await response.text():
                            break
                    await asyncio.sleep(0.2)
                overview = await timed(session, unit, runs)
                timeline = await timed(session, f"{base}/episodes/{episode_id}", runs)
                tasks = await timed(session, f"{base}/tasks", runs)
            await runner.cleanup()
            print(
                f"{episodes} open episodes, median of {runs}: overview "
                f"{overview:.0f} ms, timeline {timeline:.0f} ms, tasks {tasks:.0f} ms"
            )
    finally:
        await load.end()
        await env.shutdown()


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(arguments + [50, 10][len(arguments) :])))
