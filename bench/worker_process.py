"""One worker in a process of its own, for bench/run.py.

``python -m bench.worker_process product|baseline ADDRESS RECORD`` runs the
product's worker (``worker.build_worker``, as deployed) or the bare
baseline's, against the server at ``ADDRESS``. So the load generator, and
the other kind's worker, share neither its interpreter lock nor its memory,
and its resident memory is the worker's alone.

It speaks in lines on what was its standard output. Its descriptor 1 is
then pointed at standard error, so that whatever else might write there
reaches the terminal instead of the protocol, and cannot fill a pipe that
bench/run.py reads only for these (the SDK's Rust core, which logs to the
console by default, sends its warnings to Python's logging instead, where
they are counted):

- ``ready <cached>``: polling, with a workflow cache of ``<cached>``;
- ``done <n>``: ``<n>`` activities finished so far, at most ten a second;
- ``figures <json>``: its garbage collector's pauses and the SDK's
  warnings, once it has stopped, which it does when its standard input
  closes.

If the worker fails, it says why on standard error and exits with 1.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import TextIO

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.worker import Worker

from bench.baseline import BASELINE_QUEUE, BaselineWorkflow, noop
from bench.measures import Pauses, SdkWarnings, core_logs
from bench.workers import ActivityCounter
from codec import data_converter, load_keys
from logs import configure_logging
from worker import build_worker


async def main(kind: str, address: str, record: Path, say: TextIO) -> None:
    # The SDK's warnings reach standard error, redacted, as in production.
    configure_logging(json=True, level=logging.WARNING)
    pauses, warnings = Pauses(), SdkWarnings()
    counter = ActivityCounter()
    # The baseline is the bare engine: the SDK's own converter, no sealing.
    sealed = kind == "product"
    client = await Client.connect(
        address,
        data_converter=data_converter(load_keys()) if sealed else DataConverter.default,
        interceptors=[counter],
        runtime=core_logs(),
    )
    if sealed:
        worker = build_worker(client, record)
    else:
        worker = Worker(
            client,
            task_queue=BASELINE_QUEUE,
            workflows=[BaselineWorkflow],
            activities=[noop],
        )
    # Standard input closes when bench/run.py says stop, or when it dies.
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    closed = asyncio.create_task(reader.read())
    running = asyncio.create_task(worker.run())
    print(f"ready {worker.config()['max_cached_workflows']}", file=say, flush=True)
    said = -1
    while not (closed.done() or running.done()):
        # Cleared before reading, so a finish in between is not missed.
        counter.changed.clear()
        if counter.done != said:
            said = counter.done
            print(f"done {said}", file=say, flush=True)
        changed = asyncio.ensure_future(counter.changed.wait())
        await asyncio.wait(
            [changed, closed, running], return_when=asyncio.FIRST_COMPLETED
        )
        changed.cancel()
        await asyncio.sleep(0.1)
    closed.cancel()
    if running.done():
        # It stopped on its own: the SDK logged why; nothing is measured.
        raise SystemExit(f"the {kind} worker stopped: {running.exception()!r}")
    await worker.shutdown()
    await running
    print(f"done {counter.done}", file=say, flush=True)
    figures = {"gc": pauses.figures(), "sdk_warnings": dict(warnings.seen)}
    print(f"figures {json.dumps(figures)}", file=say, flush=True)


if __name__ == "__main__":
    kind, address, record = sys.argv[1:4]
    if kind not in ("product", "baseline"):
        sys.exit(f"worker_process: kind must be product or baseline, not {kind!r}")
    say = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    asyncio.run(main(kind, address, Path(record), say))
    # Out at once: at interpreter teardown the core's threads can still call
    # into Python, which aborts with "PyGILState_Release" on the terminal.
    say.close()
    os._exit(0)
