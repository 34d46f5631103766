"""How far one worker goes, against the engine's own limit (issue 8).

Run: ``.venv/bin/python bench/run.py [--sizes 100,1000] [--open 2000]``
(or ``make bench``). One run, on the embedded dev server (its own temporary
state, a free loopback port, no UI), with the worker in this process:

1. N episodes, every adapter step automatic, driven through the 24-hour
   phase (the automatic reports done, one ``record_effort`` Update each);
2. the same with bench/baseline.py's bare workflow of as many no-op
   activities, in the same batches, and one Update;
3. the worker's resident memory as open episodes, waiting on timers, grow;
4. ``simulate`` on the five-year scenario, and the replay of the longest
   saved history;
5. ``starter.py status`` for one episode, as a process of its own.

It writes docs/benchmarks.md. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import temporalio  # noqa: E402
from temporalio import client as temporal_client  # noqa: E402
from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.client import Client, WorkflowHistory  # noqa: E402
from temporalio.worker import (  # noqa: E402
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Replayer,
    Worker,
)

from activities import AdapterConfig, build_activities  # noqa: E402
from bench.baseline import BaselineWorkflow, noop  # noqa: E402
from codec import (  # noqa: E402
    KEYS_ENV,
    KEYS_FILE_ENV,
    data_converter,
    load_keys,
    new_key_line,  # noqa: E402
)
from logs import configure_logging  # noqa: E402
from simulation import replay  # noqa: E402
from tests.helpers import free_port  # noqa: E402
from worker import bin_path, build_worker, start_dev_server  # noqa: E402
from workflows.abuse_report import AbuseReportWorkflow  # noqa: E402
from workflows.annual_report import AnnualReportWorkflow  # noqa: E402
from workflows.missing_youth import EpisodeInput, MissingYouthWorkflow  # noqa: E402
from workflows.payload import MissingReport, validate_report  # noqa: E402
from workflows.sandbox import workflow_runner  # noqa: E402
from workflows.search import TASK_QUEUE, workflow_id  # noqa: E402
from workflows.settings import CountySettings  # noqa: E402
from workflows.steps import STEPS  # noqa: E402

PAYLOAD = ROOT / "examples" / "payload.json"
SCENARIO = ROOT / "tests" / "scenarios" / "five-years-monthly-efforts.json"
HISTORIES = ROOT / "tests" / "histories"
DOC = ROOT / "docs" / "benchmarks.md"
ALL_AUTOMATIC = {
    name.value: "automatic" for name, step in STEPS.items() if step.done_by == "adapter"
}
BASELINE_QUEUE = "bench-baseline"
# Starts and Updates in flight at once, as a burst of officers and a case
# system would send them.
CONCURRENCY = 64


class ActivityCounter(temporal_client.Interceptor, Interceptor):
    """Counts the activities this process's workers finish."""

    def __init__(self) -> None:
        self.done = 0
        self.changed = asyncio.Event()

    def intercept_activity(
        self, next: ActivityInboundInterceptor
    ) -> ActivityInboundInterceptor:
        counter = self

        class Counting(ActivityInboundInterceptor):
            async def execute_activity(self, input: ExecuteActivityInput) -> Any:
                try:
                    return await super().execute_activity(input)
                finally:
                    counter.done += 1
                    counter.changed.set()

        return Counting(next)

    async def reach(self, target: int, timeout: float) -> bool:
        """Wait until ``target`` activities are done; false on timeout."""
        deadline = time.monotonic() + timeout
        while self.done < target:
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self.changed.wait(), min(left, 1.0))
            except TimeoutError:
                pass
        return True


@dataclass
class Run:
    """One size of one kind: throughput and the latencies of its calls."""

    kind: str
    size: int
    seconds: float = 0.0
    starts: list[float] = field(default_factory=list)
    updates: list[float] = field(default_factory=list)
    complete: bool = True

    @property
    def per_second(self) -> float:
        return self.size / self.seconds

    @staticmethod
    def percentile(values: list[float], share: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def rss_mib() -> float:
    """This process's resident memory, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError("no VmRSS")


def missing_report(case_id: str, received_at: datetime) -> MissingReport:
    """The example payload, received at ``received_at``, exploitation suspected."""
    data: dict[str, Any] = json.loads(PAYLOAD.read_text())
    fifteen = date.today().replace(year=date.today().year - 15, day=1)
    data.update(case_id=case_id, received_at=received_at.isoformat())
    data["youth"]["date_of_birth"] = fifteen.isoformat()
    data["last_seen"]["at"] = (received_at - timedelta(hours=1)).isoformat()
    data["csec"]["status"] = "suspected"
    return validate_report(data, None)


class Bench:
    """The server, the two workers and the figures of one run."""

    def __init__(self, client: Client, plain: Client, counter: ActivityCounter):
        self.client = client
        self.plain = plain
        self.counter = counter
        self.batches: list[int] = []
        self.per_episode = 0
        self.open_episodes = 0
        self.received = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)

    async def start_episode(self, case_id: str, run: Run | None) -> None:
        report = missing_report(case_id, self.received)
        started = time.perf_counter()
        handle = await self.client.start_workflow(
            MissingYouthWorkflow.run,
            EpisodeInput(report=report, settings=CountySettings(modes=ALL_AUTOMATIC)),
            id=workflow_id(case_id),
            task_queue=TASK_QUEUE,
        )
        if run:
            run.starts.append(time.perf_counter() - started)
        performed = self.received + timedelta(minutes=30)
        started = time.perf_counter()
        await handle.execute_update(
            MissingYouthWorkflow.record_effort,
            {"kind": "physical_check", "performed_at": performed.isoformat()},
        )
        if run:
            run.updates.append(time.perf_counter() - started)
        self.open_episodes += 1

    async def start_baseline(self, number: str, run: Run) -> None:
        started = time.perf_counter()
        handle = await self.plain.start_workflow(
            BaselineWorkflow.run,
            self.batches,
            id=f"baseline-{number}",
            task_queue=BASELINE_QUEUE,
        )
        run.starts.append(time.perf_counter() - started)
        started = time.perf_counter()
        await handle.execute_update(BaselineWorkflow.touch, "effort")
        run.updates.append(time.perf_counter() - started)

    async def probe(self) -> str:
        """One episode alone: its activities, in batches, from its history."""
        case_id = "B-PROBE-1"
        before = self.counter.done
        await self.start_episode(case_id, None)
        handle = self.client.get_workflow_handle(workflow_id(case_id))
        # Done when no activity has finished for two seconds and none is pending.
        while True:
            seen = self.counter.done
            await asyncio.sleep(2)
            pending = (await handle.describe()).raw_description.pending_activities
            if self.counter.done == seen and not pending:
                break
        history = await handle.fetch_history()
        batches: dict[int, int] = defaultdict(int)
        task = 0
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                task = event.event_id
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                batches[task] += 1
        self.batches = [batches[key] for key in sorted(batches)]
        self.per_episode = sum(self.batches)
        assert self.counter.done - before == self.per_episode, (
            self.counter.done - before,
            self.per_episode,
        )
        return case_id

    async def drive(self, kind: str, size: int, timeout: float) -> Run:
        """Start ``size`` workflows, Update each, wait for every activity."""
        run = Run(kind, size)
        gate = asyncio.Semaphore(CONCURRENCY)
        target = self.counter.done + size * self.per_episode

        async def one(number: int) -> None:
            async with gate:
                if kind == "episode":
                    await self.start_episode(f"B-{size}-{number}", run)
                else:
                    await self.start_baseline(f"{size}-{number}", run)

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(size)))
        run.complete = await self.counter.reach(target, timeout)
        run.seconds = time.perf_counter() - started
        print(
            f"{kind} x{size}: {run.per_second:.1f}/s, start p50 "
            f"{Run.percentile(run.starts, 0.5):.0f} ms, update p50 "
            f"{Run.percentile(run.updates, 0.5):.0f} ms"
            + ("" if run.complete else " (timed out)"),
            flush=True,
        )
        return run

    async def open_up_to(self, total: int, timeout: float) -> None:
        """Open episodes until ``total`` are open, all through their phase."""
        more = total - self.open_episodes
        if more <= 0:
            return
        gate = asyncio.Semaphore(CONCURRENCY)
        target = self.counter.done + more * self.per_episode
        first = self.open_episodes

        async def one(number: int) -> None:
            async with gate:
                await self.start_episode(f"B-OPEN-{number}", None)

        await asyncio.gather(*(one(n) for n in range(first, first + more)))
        await self.counter.reach(target, timeout)


async def time_simulation() -> float:
    started = time.perf_counter()
    await replay(
        SCENARIO,
        bin_path("temporal-test-server"),
        lambda path: build_activities(AdapterConfig(case_record_path=path)),
    )
    return time.perf_counter() - started


async def time_replay() -> tuple[str, int, float]:
    longest = max(HISTORIES.glob("*.json"), key=lambda path: path.stat().st_size)
    history = WorkflowHistory.from_json(longest.stem, longest.read_text())
    replayer = Replayer(
        workflows=[MissingYouthWorkflow, AbuseReportWorkflow, AnnualReportWorkflow],
        data_converter=data_converter(load_keys()),
        workflow_runner=workflow_runner(),
    )
    started = time.perf_counter()
    await replayer.replay_workflow(history)
    return longest.name, len(history.events), time.perf_counter() - started


async def time_status(port: int, case_id: str, runs: int = 3) -> list[float]:
    """Wall time of ``starter.py status``; the worker in this process answers."""
    environment = dict(os.environ, TEMPORAL_ADDRESS=f"127.0.0.1:{port}")
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "starter.py",
            "status",
            case_id,
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
        )
        if await process.wait():
            raise RuntimeError(f"starter.py status {case_id} failed")
        seconds.append(time.perf_counter() - started)
    return seconds


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        line.split(":", 1)[1].strip()
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "CPUs (nproc)": str(os.cpu_count()),
        "CPU model": cpu,
        "RAM": f"{int(memory.split()[0]) / 1024 / 1024:.1f} GiB",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "Python": platform.python_version(),
        "temporalio": temporalio.__version__,
        "OS": platform.platform(),
    }


async def main(sizes: list[int], open_target: int, timeout: float) -> dict:
    configure_logging(json=True, stream=open("/dev/null", "w"))  # noqa: SIM115
    if not (os.environ.get(KEYS_ENV) or os.environ.get(KEYS_FILE_ENV)):
        os.environ[KEYS_ENV] = new_key_line("bench")
    converter = data_converter(load_keys())
    results: dict[str, Any] = {
        "machine": machine(),
        "sizes": sizes,
        "open_target": open_target,
    }
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        port = free_port()
        env = await start_dev_server(
            Path(folder) / "server", port=port, ui=False, converter=converter
        )
        await env.__aenter__()
        try:
            results.update(
                await measure(
                    env, port, Path(folder), converter, sizes, open_target, timeout
                )
            )
        finally:
            await env.__aexit__(None, None, None)
    results["simulation"] = await time_simulation()
    print(f"simulation: {results['simulation']:.2f} s", flush=True)
    results["replay"] = await time_replay()
    print(f"replay: {results['replay']}", flush=True)
    return results


async def measure(
    env: Any,
    port: int,
    folder: Path,
    converter: Any,
    sizes: list[int],
    open_target: int,
    timeout: float,
) -> dict:
    """Sections 1, 2, 3 and 5, on the running dev server."""
    results: dict[str, Any] = {}
    counter = ActivityCounter()
    client = Client(
        env.client.service_client,
        namespace=env.client.namespace,
        data_converter=converter,
        interceptors=[counter],
    )
    plain = Client(
        env.client.service_client,
        namespace=env.client.namespace,
        interceptors=[counter],
    )
    product = build_worker(client, folder / "record.sqlite3")
    baseline = Worker(
        plain,
        task_queue=BASELINE_QUEUE,
        workflows=[BaselineWorkflow],
        activities=[noop],
    )
    async with product, baseline:
        bench = Bench(client, plain, counter)
        gc.collect()
        memory = [(0, rss_mib())]
        probe = await bench.probe()
        results["batches"] = bench.batches
        print(f"an episode runs {bench.per_episode} activities: {bench.batches}")

        runs = []
        for size in sizes:
            runs.append(await bench.drive("episode", size, timeout))
            gc.collect()
            memory.append((bench.open_episodes, rss_mib()))
            runs.append(await bench.drive("baseline", size, timeout))
        results["runs"] = [run.__dict__ for run in runs]

        for total in (open_target // 2, open_target):
            if total <= bench.open_episodes:
                continue
            await bench.open_up_to(total, timeout)
            gc.collect()
            memory.append((bench.open_episodes, rss_mib()))
            print(f"{bench.open_episodes} open: {memory[-1][1]:.0f} MiB", flush=True)
        results["memory"] = memory

        results["status"] = await time_status(port, probe)
        print(f"status: {results['status']}", flush=True)
    return results


def render(figures: dict) -> str:
    """docs/benchmarks.md from one run's figures."""
    lines = [
        "# Benchmarks",
        "",
        "Figures from one run of `bench/run.py "
        f"--sizes {','.join(map(str, figures['sizes']))} "
        f"--open {figures['open_target']}`, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC. The dev server and the worker "
        "ran on the same machine, the worker in the script's own process.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in figures["machine"].items()),
        "",
        "MACHINE_NOTE",
        "",
        "## 1–2. Episodes through the 24-hour phase, against the bare baseline",
        "",
        f"An episode runs {sum(figures['batches'])} activities in its 24-hour "
        f"phase, in batches {figures['batches']} (one batch per workflow "
        "task, counted from a probe episode's history). The baseline "
        "(`bench/baseline.py`) runs as many no-op activities in the same "
        "batches and takes one Update. Each run starts N workflows, at most "
        f"{CONCURRENCY} starts or Updates in flight, sends one Update to each "
        "right after its start, and ends when every activity is done.",
        "",
        "| N | kind | workflows/s | start p50 | start p99 | Update p50 "
        "| Update p99 | ratio to baseline (throughput) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    runs = figures["runs"]
    for episode, base in zip(runs[::2], runs[1::2], strict=True):
        for run in (episode, base):
            rate = run["size"] / run["seconds"]
            ratio = rate / (base["size"] / base["seconds"])
            mark = "" if run["complete"] else " (timed out)"
            lines.append(
                f"| {run['size']} | {run['kind']}{mark} | {rate:.1f} "
                f"| {Run.percentile(run['starts'], 0.5):.0f} ms "
                f"| {Run.percentile(run['starts'], 0.99):.0f} ms "
                f"| {Run.percentile(run['updates'], 0.5):.0f} ms "
                f"| {Run.percentile(run['updates'], 0.99):.0f} ms "
                f"| {ratio:.2f} |"
            )
    memory = figures["memory"]
    # The marginal growth, between the two largest counts.
    (first, low), (last, high) = memory[-2], memory[-1]
    slope = (high - low) / (last - first) if last > first else 0.0
    at_10k = high + slope * (10_000 - last)
    lines += [
        "",
        "## 3. Worker memory with open episodes waiting on timers",
        "",
        "Resident memory (VmRSS) of the process holding the worker, after a "
        "garbage collection, with every open episode through its 24-hour "
        "phase and waiting on its timers.",
        "",
        "| open episodes | worker RSS |",
        "| ---: | ---: |",
        *(f"| {count} | {mib:.0f} MiB |" for count, mib in memory),
        "",
        f"Growth between {first} and {last} open: {slope * 1024:.0f} KiB per "
        f"episode. Linear extrapolation to 10,000 open: {at_10k:.0f} MiB.",
        "",
        "## 4. Simulation and replay",
        "",
        "| measure | seconds |",
        "| --- | ---: |",
        f"| `simulate`, five-year scenario (time-skipping server) "
        f"| {figures['simulation']:.2f} |",
        f"| replay of `{figures['replay'][0]}` ({figures['replay'][1]} events) "
        f"| {figures['replay'][2]:.2f} |",
        "",
        "## 5. `starter.py status`, one episode, as its own process",
        "",
        "| run | wall time |",
        "| ---: | ---: |",
        *(
            f"| {n} | {seconds:.2f} s |"
            for n, seconds in enumerate(figures["status"], 1)
        ),
        "",
        "## Targets",
        "",
        "| target | figure | met |",
        "| --- | --- | --- |",
    ]
    ratios = [
        (e["size"] / e["seconds"]) / (b["size"] / b["seconds"])
        for e, b in zip(runs[::2], runs[1::2], strict=True)
    ]
    status = statistics.median(figures["status"])
    lines += [
        f"| throughput ≥ 0.8 of baseline | {min(ratios):.2f}–{max(ratios):.2f} "
        f"| {'yes' if min(ratios) >= 0.8 else 'no'} |",
        f"| worker RSS < 1 GB at 10,000 open | {at_10k:.0f} MiB "
        f"(extrapolated from {last}) | {'yes' if at_10k < 1024 else 'no'} |",
        f"| five-year simulation < 20 s | {figures['simulation']:.2f} s "
        f"| {'yes' if figures['simulation'] < 20 else 'no'} |",
        f"| `status` < 1 s | {status:.2f} s (median) "
        f"| {'yes' if status < 1 else 'no'} |",
        "",
        "NOTES",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--open", type=int, default=2000, dest="open_target")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--json",
        type=Path,
        default=Path(tempfile.gettempdir()) / "bench-figures.json",
        help="where to save the raw figures too",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    figures = asyncio.run(main(sizes, args.open_target, args.timeout))
    args.json.write_text(json.dumps(figures, indent=2, default=str))
    DOC.write_text(render(figures))
    print(f"wrote {DOC.relative_to(ROOT)}")
