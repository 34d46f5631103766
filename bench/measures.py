"""The single measures: memory, the machine, simulate, replay and status."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import platform
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import temporalio
from temporalio.client import WorkflowHistory
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.worker import Replayer

from activities import AdapterConfig, build_activities
from codec import data_converter, load_keys
from simulation import replay
from worker import bin_path
from workflows.abuse_report import AbuseReportWorkflow
from workflows.annual_report import AnnualReportWorkflow
from workflows.missing_youth import MissingYouthWorkflow
from workflows.sandbox import workflow_runner

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "tests" / "scenarios" / "five-years-monthly-efforts.json"
HISTORIES = ROOT / "tests" / "histories"


def rss_mib(pid: int) -> float:
    """A process's resident memory, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError("no VmRSS")


async def time_simulation() -> float:
    """``simulate`` on the five-year scenario, its own time-skipping server."""
    started = time.perf_counter()
    await replay(
        SCENARIO,
        bin_path("temporal-test-server"),
        lambda path: build_activities(AdapterConfig(case_record_path=path)),
    )
    return time.perf_counter() - started


async def time_replay() -> tuple[str, int, float]:
    """Replay the longest saved history: its name, events and seconds."""
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
    """Wall time of ``starter.py status``; the product worker answers."""
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
    """What the figures were measured on."""
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


class Pauses:
    """The garbage collector's pauses in this process, by generation."""

    def __init__(self) -> None:
        self.seconds: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = 0.0
        gc.callbacks.append(self._on_collection)

    def _on_collection(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            pause = time.perf_counter() - self._started
            self.seconds[info["generation"]].append(pause)

    def figures(self) -> dict[int, dict[str, float]]:
        """Per generation: collections, the longest pause and the total."""
        return {
            generation: {
                "count": len(pauses),
                "longest": max(pauses, default=0.0),
                "total": sum(pauses),
            }
            for generation, pauses in self.seconds.items()
        }


# A run id, and the ``:event:attempt`` that the core appends to one.
RUN_ID = re.compile(r"\b[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}(?::\d+)*")


class SdkWarnings(logging.Handler):
    """Counts the SDK's warnings and errors, by message template.

    The Python layer's template (``record.msg``) holds no run id; the Rust
    core's messages, forwarded by ``core_logs``, have theirs taken out. The
    exception's class tells a deadlock from a nondeterminism error.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: Counter[str] = Counter()
        logging.getLogger("temporalio").addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        kind = f" ({type(error).__name__}: {str(error)[:60]})" if error else ""
        message = RUN_ID.sub("<run>", str(record.msg))
        self.seen[f"{record.levelname} {message}{kind}"] += 1


def core_logs() -> Runtime:
    """A runtime whose core sends its warnings to the ``temporalio.core``
    logger, where ``SdkWarnings`` counts them, instead of to the console."""
    forward = LogForwardingConfig(
        logger=logging.getLogger("temporalio.core"),
        append_log_fields_to_message=False,
    )
    filter = TelemetryFilter(core_level="WARN", other_level="ERROR")
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(filter=filter, forwarding=forward)
        )
    )
