"""A short tour: one episode on a throwaway server, driven by the CLI.

``make demo`` starts the Temporal dev server from the venv on a fresh SQLite
file and free loopback ports, runs a worker in this process, opens an episode
from ``examples/payload.json`` as if the officer learned of the absence 30
minutes ago, then acts as the officer would through ``starter.py``. A second
absence, learned of two days ago, opens overdue and escalates. The worker
serves its metrics on a free loopback port, and the demo ends by printing the
product's counters from there. It runs on ``county.example.toml``, never on
the shell's configuration. Everything it started is stopped before it exits;
nothing is downloaded.

Payloads are sealed with the key in ``state/keys`` and the Web UI reads them
through the codec server, for a browser signed in with the token in
``state/codec-token``; both files are made on the first run, readable by
their owner only. On a terminal the demo waits for Enter before it stops, so
the episode can be looked at in the UI.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
import socket
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from codec import EncryptionCodec, data_converter, load_keys
from codec_server import start_local, use_local_token
from config import load_config
from logs import configure_logging
from telemetry import metrics_runtime, product_counters
from worker import build_worker, start_dev_server, use_local_keys
from workflows.payload import received_recently

HERE = Path(__file__).resolve().parent
PAYLOAD = HERE / "examples" / "payload.json"
# The demo's configuration: the example's defaults, whatever the shell says,
# so that no adapter the county configured is ever sent a fictional case.
CONFIG = HERE / "county.example.toml"
STARTER = HERE / "starter.py"
STATE = HERE / "state"


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def starter(address: str, command: str, expect: int = 0) -> None:
    """Run ``starter.py`` as an officer would; fail on an unexpected exit."""
    print(f"\n$ starter.py {command}", flush=True)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(STARTER),
        *shlex.split(command),
        env={**os.environ, "TEMPORAL_ADDRESS": address, "COUNTY_CONFIG": str(CONFIG)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    print(output.decode().rstrip(), flush=True)
    if process.returncode != expect:
        raise RuntimeError(
            f"starter.py {command.split()[0]} exited {process.returncode}, "
            f"expected {expect}"
        )


async def tour(address: str, folder: Path) -> None:
    payload = json.loads(PAYLOAD.read_text())
    payload = received_recently(payload, timedelta(minutes=30))
    path = folder / "payload.json"
    path.write_text(json.dumps(payload, indent=2))
    case = payload["case_id"]

    await starter(address, f"start {shlex.quote(str(path))}")
    for command in (
        "complete-step {case} --step law_enforcement_report --method phone"
        " --reference SRPD-26-04417",
        "complete-step {case} --step ncmec_report --method electronic"
        " --reference 1520331",
        "complete-step {case} --step party_notifications --item p1 --method email",
        "attempt {case} --step party_notifications --item p2 --method phone"
        " --notes 'voicemail left at the office'",
        "effort {case} --kind social_media_search"
        " --notes 'checked known public profiles'",
    ):
        await starter(address, command.format(case=case))
    # p3 is marked do not notify: the episode refuses, and says why.
    await starter(
        address,
        f"complete-step {case} --step party_notifications --item p3 --method phone",
        expect=1,
    )
    await starter(address, f"status {case}")


async def overdue_case(address: str, folder: Path, metrics_url: str) -> None:
    """A second absence, learned of two days ago and left alone: its
    24-hour steps are overdue from the start and escalate at once."""
    payload = json.loads(PAYLOAD.read_text())
    payload = received_recently(payload, timedelta(days=2))
    payload["case_id"] += "-B"
    path = folder / "overdue.json"
    path.write_text(json.dumps(payload, indent=2))
    await starter(address, f"start {shlex.quote(str(path))}")
    # The escalations are activities of their own; wait until they are sent.
    for _ in range(100):
        if any(
            line.startswith("missing_youth_escalations")
            for line in product_counters(metrics_url)
        ):
            break
        await asyncio.sleep(0.1)
    await starter(address, "list --overdue")


# The labels every series carries; the demo shows the product's own.
SDK_LABELS = {"activity_type", "namespace", "service_name", "task_queue"}


def readable(line: str) -> str:
    """A counter's line without the SDK's labels: name, labels, value."""
    series, _, value = line.rpartition(" ")
    name, _, labels = series.partition("{")
    pairs = [pair.split("=", 1) for pair in labels.rstrip("}").split(",") if pair]
    own = [
        f"{key}={text.strip(chr(34))}" for key, text in pairs if key not in SDK_LABELS
    ]
    return f"{name:<30} {' '.join(own):<48} {value}"


def occurrences(folder: Path, text: str) -> int:
    """How often ``text`` is written in the files of ``folder``, as bytes."""
    return sum(
        path.read_bytes().count(text.encode())
        for path in folder.iterdir()
        if path.is_file()
    )


async def main() -> int:
    # Warnings only: the tour's output is the CLI's, not the worker's events.
    configure_logging(level=logging.WARNING)
    # Made once, kept in state/; the starter.py runs below inherit them.
    use_local_keys(STATE)
    use_local_token(STATE)
    keys = load_keys()
    ui_port = free_port()
    codec_server = await start_local(EncryptionCodec(keys), free_port(), ui_port)
    codec_url = codec_server.addresses[0]
    codec_url = f"http://{codec_url[0]}:{codec_url[1]}"
    with tempfile.TemporaryDirectory(prefix="missing-youth-demo-") as name:
        folder = Path(name)
        config = load_config(
            CONFIG,
            {
                "CASE_RECORD_PATH": str(folder / "case_record"),
                "CSEC__METRICS__PROMETHEUS": f"127.0.0.1:{free_port()}",
            },
        )
        assert config.adapters is not None and config.metrics.prometheus
        metrics_url = f"http://{config.metrics.prometheus}/metrics"
        env = await start_dev_server(
            folder / "server",
            port=free_port(),
            ui_port=ui_port,
            converter=data_converter(keys),
            extra_args=["--ui-codec-endpoint", codec_url],
            runtime=metrics_runtime(config.metrics.prometheus),
        )
        address = env.client.service_client.config.target_host
        print(f"dev server on {address} (database in a temporary folder)")
        print(f"metrics on {metrics_url}")
        try:
            async with build_worker(env.client, config.adapters):
                await tour(address, folder)
                await overdue_case(address, folder, metrics_url)
                print(f"\nthe product's counters at {metrics_url}:")
                for line in product_counters(metrics_url):
                    print(f"  {readable(line)}")
                last_name = json.loads(PAYLOAD.read_text())["youth"]["last_name"]
                print(
                    f"\nthe server's database holds the youth's last name "
                    f"{occurrences(folder / 'server', last_name)} times; the case "
                    "record is where it belongs"
                )
                if sys.stdin.isatty():
                    print(
                        f"\nWeb UI: http://127.0.0.1:{ui_port} shows sealed "
                        f"payloads; sign in at {codec_url}/login with the token "
                        f"in {STATE / 'codec-token'}, then turn on 'Include "
                        "cross-origin credentials' in the UI's codec server "
                        "settings to read them."
                    )
                    await asyncio.to_thread(input, "press Enter to stop ")
        except RuntimeError as error:
            print(f"\ndemo failed: {error}", file=sys.stderr)
            return 1
        finally:
            await env.shutdown()
            await codec_server.cleanup()
    print("\ndemo finished; server and worker stopped")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
