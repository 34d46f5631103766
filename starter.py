"""The command line for the county case system, officers and supervisors.

``python starter.py start PAYLOAD.json`` opens a missing episode;
``complete-step``, ``attempt``, ``effort``, ``located``, ``debrief`` and
``close`` act on a case's open episode; ``status`` and ``list`` show what is
due; ``simulate`` replays scenario files; ``schema`` prints the payload's JSON
Schema. It talks to the Temporal server at ``TEMPORAL_ADDRESS`` (default
127.0.0.1:7233) in ``TEMPORAL_NAMESPACE`` (default ``default``).

Exit codes: 0 done, 1 refused or not possible now, 2 bad input. Every error
is one line on standard error, naming a field or key and never a youth's
personal data.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.service import RPCError, RPCStatusCode

import supervisor_cli
from activities import AdapterConfig, build_activities
from codec import KeyConfigError, UnreadablePayload, data_converter, load_keys
from config import Config, ConfigError, load_config, load_settings
from logs import configure_logging
from views import render_disclosure, render_replay, render_status, table, when
from worker import bin_path, connect
from workflows.abuse_report import AbuseReportWorkflow
from workflows.actions import CloseReason, EffortKind, Service
from workflows.disclosure import DisclosureInput, disclosure_id_for
from workflows.effects import Method
from workflows.episode import episode_id_for
from workflows.missing_youth import EpisodeInput, MissingYouthWorkflow
from workflows.payload import (
    Disclosure,
    MissingReport,
    received_recently,
    validate_report,
)
from workflows.refusal import explain
from workflows.search import (
    CASE_ID,
    EPISODE_PHASE,
    NEXT_DUE_AT,
    OFFICER_ID,
    OVERDUE,
    TASK_QUEUE,
    workflow_id,
)
from workflows.steps import StepName

DEFAULT_ADDRESS = "127.0.0.1:7233"
# An officer waits this long for the episode's answer before being told to
# check the worker; the action may still be applied once one runs.
ANSWER_TIMEOUT = timedelta(seconds=30)
# Officer ids go into a visibility query, so they are held to id characters.
ID_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
)


class CliError(Exception):
    """One line for standard error, and the exit code that goes with it."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line instead of the usage text."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{self.prog}: {message} (see --help)", 2)


def out(value: Any, as_json: bool) -> None:
    """Print a result: JSON for scripts, or lines for people."""
    if as_json:
        print(json.dumps(value, indent=2, default=str))
    elif isinstance(value, str):
        print(value)
    else:
        print("\n".join(value))


# -- configuration and payloads ------------------------------------------


def read_json(path: Path, what: str) -> Any:
    """A JSON file's content; the file's name is left out of messages, as it
    may be a youth's name."""
    try:
        return json.loads(path.read_bytes())
    except OSError as error:
        raise CliError(f"{what}: cannot be read ({error.strerror})", 2) from None
    except ValueError as error:
        detail = (
            f"{error.msg}, line {error.lineno} column {error.colno}"
            if isinstance(error, json.JSONDecodeError)
            else "not UTF-8"
        )
        raise CliError(f"{what}: not valid JSON ({detail})", 2) from None


def read_report(path: Path, received_now: bool = False) -> MissingReport:
    """Read and validate a payload file before anything is sent.

    With ``received_now`` every time in it moves by the same amount so that
    ``received_at`` is now: for trying the product on an example.
    """
    data = read_json(path, "payload")
    if received_now and isinstance(data, dict) and "received_at" in data:
        try:
            data = received_recently(data, timedelta(0))
        except (TypeError, ValueError):
            pass  # validation below names the field
    try:
        return validate_report(data, datetime.now(UTC))
    except ValidationError as error:
        raise CliError(f"payload refused: {explain(error)}", 2) from None


def aware_time(text: str) -> str:
    """An argparse type: an ISO 8601 time that carries its UTC offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "must be an ISO 8601 time, e.g. 2027-03-13T09:10:00-08:00"
        ) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            "must carry a UTC offset, e.g. 2027-03-13T09:10:00-08:00"
        )
    return value.isoformat()


def safe_id(text: str) -> str:
    """A case id as typed, echoed only when it looks like one: a mistyped
    argument may be a youth's name."""
    return (
        text if text and set(text) <= ID_CHARACTERS and len(text) <= 40 else "(given)"
    )


def officer_id(text: str) -> str:
    if not text or not set(text) <= ID_CHARACTERS:
        raise argparse.ArgumentTypeError("must be an id (letters, digits, . _ -)")
    return text


# -- talking to Temporal --------------------------------------------------


# The command's --config, for what reads the configuration deep inside it.
CONFIG_PATH: ContextVar[Path | None] = ContextVar("config_path", default=None)


def configuration() -> Config:
    """The command's configuration (``config.py``): the file given with
    ``--config`` or ``COUNTY_CONFIG``, the environment over it. The command
    line reads no adapter's settings, so it needs none of their secrets.

    Raises:
        ConfigError: naming the key and the rule.
    """
    return load_config(CONFIG_PATH.get(), adapters=False)


def address() -> str:
    try:
        return configuration().temporal.address
    except ConfigError:
        return DEFAULT_ADDRESS


async def client() -> Client:
    """A client sealing payloads with the configured keys (``codec.py``), over
    the configured TLS or API key (``connection.py``)."""
    config = configuration().connection()
    try:
        converter = data_converter(load_keys())
    except KeyConfigError as error:
        raise CliError(str(error), 2) from None
    try:
        return await connect(
            config.address,
            config.namespace,
            converter=converter,
            tls=config.tls,
            api_key=config.api_key,
        )
    except (RPCError, RuntimeError):
        raise CliError(f"cannot reach Temporal at {config.address}") from None


async def episode_handle(case_id: str, *, running: bool) -> WorkflowHandle:
    """The case's latest episode; with ``running``, only an open one."""
    handle = (await client()).get_workflow_handle(workflow_id(case_id))
    try:
        description = await handle.describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise CliError(f"case {safe_id(case_id)} has no episode") from None
        raise
    if running and description.status != WorkflowExecutionStatus.RUNNING:
        raise CliError(
            f"refused: the last episode of case {case_id} has ended; "
            "no action is taken on it"
        )
    return handle


async def target(args: argparse.Namespace, *, running: bool) -> WorkflowHandle:
    """The workflow an action is for: the case's episode, or an abuse report."""
    if getattr(args, "abuse_report", None) is None:
        return await episode_handle(args.case, running=running)
    handle = (await client()).get_workflow_handle(args.abuse_report)
    try:
        description = await handle.describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise CliError("abuse_report: no abuse report has that id") from None
        raise
    if description.workflow_type != "AbuseReportWorkflow":
        raise CliError("abuse_report: that id is not an abuse report")
    if running and description.status != WorkflowExecutionStatus.RUNNING:
        raise CliError("refused: that abuse report has ended")
    return handle


async def ended_episode_id(temporal: Client, case_id: str) -> str | None:
    """The episode id of the case's latest run if it has ended, else None.

    Read from the run's input, so no worker needs to be running.
    """
    handle = temporal.get_workflow_handle(workflow_id(case_id))
    try:
        if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            return None
        async for event in handle.fetch_history_events():
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            (previous,) = await temporal.data_converter.decode(payloads, [EpisodeInput])
            if previous.record is not None:
                return str(previous.record.episode_id)
            return episode_id_for(previous.report)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
    return None


async def start(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    report = read_report(args.payload, args.received_now)
    case_id = report.case_id
    temporal = await client()
    # The same payload again, after its episode ended, is not a new absence:
    # its episode id (case and received_at) is already in the case record.
    if await ended_episode_id(temporal, case_id) == episode_id_for(report):
        raise CliError(
            f"refused: episode {episode_id_for(report)} was already started; a "
            "new episode needs the time the new absence was learned of "
            "(received_at)"
        )
    try:
        handle = await temporal.start_workflow(
            MissingYouthWorkflow.run,
            EpisodeInput(report=report, settings=settings),
            id=workflow_id(case_id),
            task_queue=TASK_QUEUE,
            # One open episode per case; a new one once the last has ended.
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            # Ids only, so that `list` shows the case before a worker runs.
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CASE_ID, case_id),
                    SearchAttributePair(OFFICER_ID, report.officer.id),
                ]
            ),
        )
    except WorkflowAlreadyStartedError:
        raise CliError(
            f"refused: case {case_id} already has an open episode; a new one "
            "can start once it has ended"
        ) from None
    started = {
        "case_id": case_id,
        "episode_id": episode_id_for(report),
        "workflow_id": handle.id,
        "run_id": handle.result_run_id,
    }
    text = f"started episode {started['episode_id']} for case {case_id}"
    out(started if args.json else text, args.json)
    return 0


def read_disclosure(path: Path) -> Disclosure:
    """Read and validate a disclosure file (§4.C) before anything is sent."""
    data = read_json(path, "disclosure")
    try:
        return Disclosure.model_validate(data, context={"now": datetime.now(UTC)})
    except ValidationError as error:
        raise CliError(f"disclosure refused: {explain(error)}", 2) from None


async def disclose(args: argparse.Namespace) -> int:
    """Report exploitation learned outside any episode to LE and the DA."""
    settings = load_settings(args.config)
    disclosure = read_disclosure(args.payload)
    try:
        handle = await (await client()).start_workflow(
            AbuseReportWorkflow.run,
            DisclosureInput(disclosure=disclosure, settings=settings),
            id=disclosure_id_for(disclosure),
            task_queue=TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        raise CliError(
            f"refused: this disclosure for case {disclosure.case_id} was "
            "already reported"
        ) from None
    started = {"case_id": disclosure.case_id, "abuse_report": handle.id}
    text = (
        f"abuse report {handle.id} opened for case {disclosure.case_id}; act on "
        f"it with --abuse-report {handle.id}"
    )
    out(started if args.json else text, args.json)
    return 0


# The Update each action subcommand sends, and how its answer reads.
ACTIONS = {
    "complete-step": (MissingYouthWorkflow.complete_step, "{step}: now {result}"),
    "attempt": (
        MissingYouthWorkflow.record_attempt,
        "attempt recorded beside {step} (still {result})",
    ),
    "effort": (MissingYouthWorkflow.record_effort, "effort recorded"),
    "located": (MissingYouthWorkflow.confirm_located, "located: phase {result}"),
    "debrief": (MissingYouthWorkflow.record_debrief, "debrief: phase {result}"),
    "close": (MissingYouthWorkflow.close, "closed: phase {result}"),
}
# Options that are the CLI's own, not fields of the action.
NOT_FIELDS = {"command", "case", "json", "config", "handler", "abuse_report"}


def action_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The Update's input: the options given, under the action's field names.

    A time not given is left out, so the workflow's clock supplies it.
    """
    fields = {
        key: value
        for key, value in vars(args).items()
        if key not in NOT_FIELDS and value is not None
    }
    if args.command == "debrief":
        fields["exploited_while_absent"] = fields.pop("exploited")
        fields["services"] = fields.pop("service", [])
        fields["primary_factors"] = fields.pop("factor", [])
    return fields


async def act(args: argparse.Namespace) -> int:
    update, answer = ACTIONS[args.command]
    fields = action_fields(args)
    handle = await target(args, running=True)
    try:
        result = await handle.execute_update(
            update,
            fields,
            rpc_timeout=ANSWER_TIMEOUT,  # type: ignore[arg-type]
        )
    except WorkflowUpdateFailedError as error:
        message = getattr(error.cause, "message", None) or "the episode refused it"
        raise CliError(f"refused: {message}") from None
    except RPCError as error:
        # An action that reaches the episode as it ends is aborted by the
        # server: the episode has ended, so it is refused like any other.
        if "closing workflow" not in error.message:
            raise
        raise CliError(
            "refused: episode: has ended; no action is taken on it"
        ) from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise CliError(
            f"no answer from case {args.case} within "
            f"{ANSWER_TIMEOUT.seconds} s; is a worker running? The action may "
            "still be applied: check `status`"
        ) from None
    if args.command == "effort" and result is not None:
        answer = f"effort recorded in locate period {result}"
    text = answer.format(step=fields.get("step"), result=result)
    out(
        {"case_id": args.case, "action": args.command, "result": result}
        if args.json
        else text,
        args.json,
    )
    return 0


# -- reading episodes -----------------------------------------------------


async def status(args: argparse.Namespace) -> int:
    handle = await target(args, running=False)
    view: dict[str, Any]
    try:
        if args.abuse_report:
            report = await handle.query(
                AbuseReportWorkflow.status, rpc_timeout=ANSWER_TIMEOUT
            )
            view, lines = report.model_dump(mode="json"), render_disclosure(report)
            # Ids only: names and birth dates stay in the case record.
            view["record"]["disclosure"] = {"case_id": report.case_id}
        else:
            episode = await handle.query(
                MissingYouthWorkflow.status, rpc_timeout=ANSWER_TIMEOUT
            )
            view, lines = episode.model_dump(mode="json"), render_status(episode)
            view["record"]["report"] = {
                "case_id": episode.case_id,
                "youth_id": episode.record.report.youth.id,
            }
    except RPCError as error:
        if error.status != RPCStatusCode.DEADLINE_EXCEEDED:
            raise
        raise CliError(
            f"no answer from case {args.case}; is a worker running?"
        ) from None
    out(view if args.json else lines, args.json)
    return 0


async def list_open(args: argparse.Namespace) -> int:
    zone = load_settings(args.config).zone
    query = "WorkflowType = 'MissingYouthWorkflow' AND ExecutionStatus = 'Running'"
    if args.overdue:
        query += " AND Overdue = true"
    if args.officer:
        query += f" AND OfficerId = '{args.officer}'"
    episodes: list[dict[str, Any]] = []
    async for execution in (await client()).list_workflows(query):
        attributes = execution.typed_search_attributes
        due = attributes.get(NEXT_DUE_AT)
        episodes.append(
            {
                "case_id": attributes.get(CASE_ID),
                "officer_id": attributes.get(OFFICER_ID),
                "phase": attributes.get(EPISODE_PHASE),
                "next_due_at": due.isoformat() if due else None,
                "overdue": bool(attributes.get(OVERDUE)),
            }
        )
    episodes.sort(key=lambda e: (not e["overdue"], e["next_due_at"] or "~"))
    if args.json:
        out(episodes, True)
    elif not episodes:
        out("no open episodes", False)
    else:
        rows = [["case", "officer", "phase", "next due", "overdue"]]
        rows += [
            [
                e["case_id"] or "-",
                e["officer_id"] or "-",
                e["phase"] or "-",
                when(datetime.fromisoformat(e["next_due_at"]), zone)
                if e["next_due_at"]
                else "-",
                "OVERDUE" if e["overdue"] else "",
            ]
            for e in episodes
        ]
        out(table(rows), False)
    return 0


# -- scenarios ------------------------------------------------------------


def product_activities(case_record_path: Path) -> list[Any]:
    """The product's activities with the recording adapters on a throwaway
    file: a simulation never mails a party or posts to an agency, whatever
    the configuration chooses for the workers."""
    return build_activities(AdapterConfig(case_record_path=case_record_path))


async def simulate(args: argparse.Namespace) -> int:
    # Imported here: officers' commands need no test server machinery.
    import scenarios
    import simulation

    try:
        test_server = bin_path("temporal-test-server")
    except FileNotFoundError as error:
        raise CliError(str(error)) from None
    zone = load_settings(args.config).zone
    code, outcomes = 0, []
    for path in args.files:
        try:
            replayed = await simulation.replay(path, test_server, product_activities)
        except scenarios.ScenarioError as error:
            print(error, file=sys.stderr)
            code = 2
            continue
        outcomes.append(replayed.outcome)
        if not args.json:
            out(render_replay(path, replayed, zone), False)
        if args.check:
            expect = scenarios.load(path)[0].expect
            found = scenarios.differences(expect, replayed.outcome)
            # Under --json, standard output holds only the outcome.
            stream = sys.stderr if args.json else sys.stdout
            for difference in found:
                print(f"{path.name}: {difference}", file=stream)
            if not found and not args.json:
                print(f"{path.name}: as expected")
            if found:
                code = max(code, 1)
    if args.json:
        out(outcomes[0] if len(args.files) == 1 and outcomes else outcomes, True)
    return code


async def schema(args: argparse.Namespace) -> int:
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **MissingReport.model_json_schema(),
    }
    print(json.dumps(document, indent=2))
    return 0


# -- the parser -------------------------------------------------------------


def parser() -> Parser:
    common = Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON, for scripts")
    common.add_argument(
        "--config",
        type=Path,
        default=None,
        help="the configuration (TOML; see county.example.toml); "
        "default $COUNTY_CONFIG",
    )
    top = Parser(prog="starter.py", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Any, text: str) -> Parser:
        sub = commands.add_parser(name, parents=[common], help=text, description=text)
        sub.set_defaults(handler=handler)
        return sub

    command("schema", schema, "print the payload's JSON Schema")
    sub = command("start", start, "open an episode from the case system's payload")
    sub.add_argument("payload", type=Path, metavar="PAYLOAD.json")
    sub.add_argument(
        "--received-now",
        action="store_true",
        help="move the payload's times so received_at is now (to try an example)",
    )
    sub = command(
        "disclose", disclose, "report exploitation learned outside any episode"
    )
    sub.add_argument("payload", type=Path, metavar="DISCLOSURE.json")

    def abuse_report(sub: Parser) -> None:
        sub.add_argument(
            "--abuse-report",
            metavar="ID",
            help="act on this abuse report (from `disclose`), not the episode",
        )

    def action(name: str, text: str) -> Parser:
        sub = command(name, act, text)
        sub.add_argument("case", metavar="CASE")
        sub.add_argument("--by", type=officer_id, help="officer or supervisor id")
        return sub

    def performed(sub: Parser, name: str = "--performed-at") -> None:
        sub.add_argument(name, type=aware_time, help="ISO 8601 with offset; now")

    methods = [m.value for m in Method]
    steps = [s.value for s in StepName]
    sub = action("complete-step", "confirm a step (or one item of it) was done")
    sub.add_argument("--step", required=True, choices=steps)
    sub.add_argument("--method", required=True, choices=methods)
    sub.add_argument("--item", help="party id, or law_enforcement, court, ...")
    sub.add_argument("--reference", help="LE report, NIC, NCMEC or warrant number")
    sub.add_argument("--ncmec-reference", help="lead agency's NCMEC case number")
    performed(sub)
    abuse_report(sub)
    sub = action("attempt", "record a try that did not complete a step")
    sub.add_argument("--step", required=True, choices=steps)
    sub.add_argument("--method", required=True, choices=methods)
    sub.add_argument("--item")
    sub.add_argument("--notes")
    performed(sub)
    abuse_report(sub)
    sub = action("effort", "record an effort to locate the youth (§5.B)")
    sub.add_argument("--kind", required=True, choices=[k.value for k in EffortKind])
    sub.add_argument("--notes")
    performed(sub)
    sub = action("located", "the youth was located")
    sub.add_argument("--place", required=True)
    sub.add_argument("--found-by", required=True)
    performed(sub, "--located-at")
    sub = action("debrief", "record the debrief and CSE screening (§5.C)")
    sub.add_argument("--exploited", required=True, choices=["yes", "no", "unknown"])
    for flag in ("--immediate-risk", "--cft-applies"):
        sub.add_argument(flag, required=True, action=argparse.BooleanOptionalAction)
    sub.add_argument("--service", action="append", choices=[s.value for s in Service])
    sub.add_argument("--factor", action="append", help="a primary factor")
    performed(sub)
    sub = command("close", act, "a supervisor closes the episode")
    sub.add_argument("case", metavar="CASE")
    sub.add_argument("--reason", required=True, choices=[r.value for r in CloseReason])
    sub.add_argument("--by", required=True, type=officer_id, help="supervisor id")
    sub.add_argument("--notes")

    sub = command("status", status, "show a case's episode: steps and escalations")
    sub.add_argument("case", metavar="CASE")
    abuse_report(sub)
    sub = command("list", list_open, "list open episodes")
    sub.add_argument("--overdue", action="store_true", help="only those overdue")
    sub.add_argument("--officer", type=officer_id, help="only this officer's")
    sub = command("simulate", simulate, "replay scenario files (FORMAT.md)")
    sub.add_argument("--check", action="store_true", help="compare with 'expect'")
    sub.add_argument("files", nargs="+", type=Path, metavar="FILE")
    # overview, tasks, annual-report, schedule-annual-report, assess.
    supervisor_cli.add_commands(command, client)
    return top


async def run(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code. Never raises."""
    as_json = "--json" in (sys.argv[1:] if argv is None else argv)
    try:
        args = parser().parse_args(argv)
        CONFIG_PATH.set(args.config)
        return int(await args.handler(args))
    except CliError as error:
        message, code = str(error), error.code
    except ConfigError as error:
        message, code = str(error), 2
    except SystemExit as done:  # --help
        return int(done.code or 0)
    except RPCError as error:
        message, code = f"temporal: {error.message}", 1
        if error.status == RPCStatusCode.UNAVAILABLE:
            message = f"cannot reach Temporal at {address()}"
    except UnreadablePayload as error:
        # Names a key id, never key material or the payload.
        message, code = str(error), 1
    except Exception as error:  # noqa: BLE001 - one line, never a traceback
        # The type only: a message might quote the data it choked on.
        message, code = f"unexpected error ({type(error).__name__})", 1
    # Under --json a script reads the error as JSON too.
    line = json.dumps({"error": message, "exit": code}) if as_json else message
    print(line, file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command to its exit code (``run`` on a new event loop)."""
    return asyncio.run(run(argv))


def quiet_process() -> None:
    """Keep standard output for results, once per process.

    Replayed scenarios run a worker here, whose events are not the output:
    warnings only, on standard error. The SDK core prints its own lines on
    standard output; its errors go through logging instead.
    """
    configure_logging(level=logging.WARNING)
    core_logging = LoggingConfig(
        filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
    )
    Runtime.set_default(Runtime(telemetry=TelemetryConfig(logging=core_logging)))


if __name__ == "__main__":
    # A reader that stops early (`| head`) ends us quietly, as with any tool.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    quiet_process()
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Limitation: the Temporal client's Rust threads can abort a finishing
    # interpreter (SIGABRT in PyGILState_Release, temporalio/sdk-python#300),
    # turning a done command into a crash; skipping teardown avoids it.
    os._exit(code)
