"""How far one worker goes, against the engine's own limit (issue 8).

Run: ``make bench``, or ``.venv/bin/python bench/run.py [--sizes
100,1000,5000] [--open 10000]``. One run, on the embedded dev server (its
own temporary state, a free loopback port, no UI), each worker in a process
of its own (bench/worker_process.py), the load generator in this one:

1. N episodes, every adapter step automatic, driven through the 24-hour
   phase (the automatic reports done, one ``record_effort`` Update each);
2. the same with bench/baseline.py's bare workflow of as many no-op
   activities, in the same batches, and one Update;
3. the product worker's resident memory as open episodes, waiting on
   timers, grow;
4. ``simulate`` on the five-year scenario, and the replay of the longest
   saved history;
5. ``starter.py status`` for one episode, as a process of its own.

It writes its figures into docs/benchmarks.md, between the page's markers,
and saves them as JSON; ``--render FILE`` writes the page again from saved
figures. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio.client import Client  # noqa: E402

from bench import measures, report  # noqa: E402
from bench.figures import checked  # noqa: E402
from bench.load import Bench  # noqa: E402
from bench.workers import Count, WorkerProcess  # noqa: E402
from codec import KEYS_ENV, KEYS_FILE_ENV, data_converter, load_keys, new_key_line  # noqa: E402
from logs import configure_logging  # noqa: E402
from tests.helpers import free_port  # noqa: E402
from worker import DEV_HOST, start_dev_server  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"


async def main(
    sizes: list[int], open_target: int, timeout: float, save: Path
) -> dict[str, Any]:
    """Every figure of one run, saved to ``save`` as each is measured, so a
    run stopped early keeps what it measured (``--render`` shows it)."""
    started = time.monotonic()
    # Stopped with SIGTERM or Ctrl-C; the workers, in sessions of their own,
    # are stopped by the script, not by the terminal.
    for stop in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(
            stop, asyncio.current_task().cancel
        )
    # A file from an earlier run would pass for this one's.
    save.unlink(missing_ok=True)
    configure_logging(json=True, stream=open(os.devnull, "w"))  # noqa: SIM115
    # The worker processes inherit the key.
    if not (os.environ.get(KEYS_ENV) or os.environ.get(KEYS_FILE_ENV)):
        os.environ[KEYS_ENV] = new_key_line("bench")
    converter = data_converter(load_keys())
    figures: dict[str, Any] = {
        "machine": measures.machine(),
        "sizes": sizes,
        "open_target": open_target,
    }
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        port = free_port()
        env = await start_dev_server(
            Path(folder) / "server", port=port, ui=False, converter=converter
        )
        try:
            await on_server(
                env.client, port, Path(folder), figures, timeout, checkpoint(save)
            )
        finally:
            await env.shutdown()
    checkpoint(save)(figures)
    figures["simulation"] = await measures.time_simulation()
    print(f"simulation: {figures['simulation']:.2f} s", flush=True)
    figures["replay"] = await measures.time_replay()
    print(f"replay: {figures['replay']}", flush=True)
    figures["finished"] = datetime.now(UTC).isoformat()
    figures["seconds"] = time.monotonic() - started
    return figures


def checkpoint(path: Path) -> Callable[[dict[str, Any]], None]:
    """A function that saves the figures so far as JSON at ``path``."""

    def save(figures: dict[str, Any]) -> None:
        path.write_text(json.dumps(figures, indent=2, default=str))

    return save


async def on_server(
    connected: Client,
    port: int,
    folder: Path,
    figures: dict[str, Any],
    timeout: float,
    save: Callable[[dict[str, Any]], None],
) -> None:
    """Sections 1, 2, 3 and 5, on the running dev server, into ``figures``."""
    count = Count()
    address = f"{DEV_HOST}:{port}"
    plain = Client(connected.service_client, namespace=connected.namespace)
    product = await WorkerProcess.start(
        "product", address, folder / "record.sqlite3", count
    )
    baseline = await WorkerProcess.start("baseline", address, folder / "none", count)
    try:
        await load(connected, plain, port, product, count, figures, timeout, save)
    finally:
        workers = {"product": await product.stop(), "baseline": await baseline.stop()}
    # The product worker's collector; both workers' SDK warnings, the
    # core's among them (measures.core_logs).
    figures["core_counted"] = True
    figures["gc"] = workers["product"].get("gc", {})
    figures["sdk_warnings"] = {
        f"{kind}: {message}": seen
        for kind, got in workers.items()
        for message, seen in got.get("sdk_warnings", {}).items()
    }


async def load(
    client: Client,
    plain: Client,
    port: int,
    product: WorkerProcess,
    count: Count,
    figures: dict[str, Any],
    timeout: float,
    save: Callable[[dict[str, Any]], None],
) -> None:
    """The load on the running workers, and the product worker's memory."""
    figures["cache"] = product.cache
    runs: list[dict[str, Any]] = []
    memory: list[tuple[int, float]] = []
    figures.update(runs=runs, memory=memory)
    bench = Bench(client, plain, count)
    memory.append((0, product.rss_mib()))
    probe = await bench.probe()
    figures["batches"] = bench.batches
    print(f"an episode runs {bench.per_episode} activities: {bench.batches}")

    for size in figures["sizes"]:
        runs.append((await bench.drive("episode", size, timeout)).__dict__)
        memory.append((bench.open_episodes, product.rss_mib()))
        save(figures)
        runs.append((await bench.drive("baseline", size, timeout)).__dict__)
        save(figures)

    open_target = figures["open_target"]
    for total in (open_target // 2, open_target):
        if total <= bench.open_episodes:
            continue
        await bench.open_up_to(total, timeout)
        memory.append((bench.open_episodes, product.rss_mib()))
        print(f"{bench.open_episodes} open: {memory[-1][1]:.0f} MiB", flush=True)
        save(figures)

    figures["status"] = await measures.time_status(port, probe)
    print(f"status: {figures['status']}", flush=True)


def write(figures: dict[str, Any]) -> None:
    """Put the figures into docs/benchmarks.md, keeping the hand-written text."""
    document = DOC.read_text() if DOC.exists() else ""
    DOC.write_text(report.merge(document, report.render(figures)))
    print(f"wrote {DOC.relative_to(ROOT)}")


def so_far(path: Path) -> str:
    """Where a stopped run's figures are, if it saved any."""
    if path.exists():
        return f"figures so far in {path} (--render {path})"
    return "nothing measured yet"


def sizes_list(text: str) -> list[int]:
    """``--sizes``: whole numbers of at least 1, separated by commas."""
    try:
        sizes = [int(size) for size in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: whole numbers of at least 1, separated by commas"
        )
    return sizes


def at_least(low: float, kind: type = int) -> Any:
    """An argparse type: a number of ``kind`` no lower than ``low``."""

    def check(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or value < low:
            raise argparse.ArgumentTypeError(f"{text!r}: a number, at least {low}")
        return value

    return check


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        type=sizes_list,
        default=[100, 1000, 5000],
        help="episodes (and baseline workflows) per throughput run",
    )
    parser.add_argument(
        "--open",
        type=at_least(0),
        default=10_000,
        dest="open_target",
        help="open episodes to hold for the memory figures",
    )
    parser.add_argument(
        "--timeout",
        type=at_least(1, float),
        default=1800,
        help="seconds each run may take to finish its activities",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=Path(tempfile.gettempdir()) / "bench-figures.json",
        help="where to save the raw figures too",
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="FILE",
        help="write the page from figures saved by an earlier run, and stop",
    )
    args = parser.parse_args()
    if len(set(args.sizes)) < len(args.sizes):
        parser.error(f"--sizes: each size once, not {args.sizes}")
    if not args.json.parent.is_dir() or args.json.is_dir():
        parser.error(f"--json {args.json}: a file in a folder that exists")
    if not all(marker in DOC.read_text() for marker in (report.BEGIN, report.END)):
        parser.error(f"{DOC.relative_to(ROOT)} lost a marker: put it back first")
    if args.render:
        try:
            saved = checked(json.loads(args.render.read_text()))
        except (OSError, ValueError, OverflowError) as error:
            parser.exit(
                2, f"--render {args.render}: not figures run.py saved: {error}\n"
            )
        write(saved)
        sys.exit(0)
    try:
        figures = asyncio.run(
            main(args.sizes, args.open_target, args.timeout, args.json)
        )
    except asyncio.CancelledError:
        # SIGTERM: the dev server has stopped; what was measured is saved.
        parser.exit(143, f"stopped; {so_far(args.json)}\n")
    except RuntimeError as error:
        # A worker process died or failed to start: its own error is above.
        parser.exit(1, f"failed: {error}; {so_far(args.json)}\n")
    checkpoint(args.json)(figures)
    print(f"saved {args.json}")
    write(figures)
