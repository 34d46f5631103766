"""The supervisor's web page: caseload, timelines, tasks, the annual report.

Read-only and server-rendered (``supervisor_pages``), on loopback unless
given a certificate:

    CSEC_KEYS_FILE=state/keys CSEC_SUPERVISOR_TOKEN_FILE=state/supervisor-token \\
        python supervisor_web.py [--port 8082] [--case-record state/case_record]

Every page needs the token (``supervisor_access``). Names are shown only
on a page asked for with ``names=1``.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
from aiohttp import hdrs, web
from temporalio.client import Client

import supervisor_pages as pages
from activities import SqlCaseRecord
from activities.annual_report import count_year
from annual_views import annual_csv
from caseload import Filters, overview
from codec import KeyConfigError, data_converter, load_keys
from codec_server import (
    TokenConfigError,
    add_tls_arguments,
    load_token,
    serve_until_stopped,
    start,
    tls_context,
)
from config import ConfigError, load_config
from configured_record import configured_record
from logs import configure_logging
from officer_tasks import officer_tasks
from supervisor_access import TOKEN_ENV, TOKEN_FILE_ENV, add_login, guard, html
from timeline import timeline
from worker import connect
from workflows.annual_counts import AnnualReport

log = structlog.get_logger(__name__)

ID_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
)
DEFAULT_PORT = 8082


@dataclass
class Sources:
    """Where the pages read: visibility and status, the record, the zone."""

    client: Client | None
    record: SqlCaseRecord
    zone: ZoneInfo
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def an_id(request: web.Request, name: str) -> str | None:
    """A query parameter that must be an id; absent or empty is None."""
    value = request.query.get(name, "").strip()
    if not value:
        return None
    if not set(value) <= ID_CHARACTERS or len(value) > 64:
        raise web.HTTPBadRequest(text=f"{name}: must be an id (letters, digits, . _ -)")
    return value


def build_app(sources: Sources, token: str) -> web.Application:
    """The pages, behind the token.

    Args:
        sources: What the pages read.
        token: What a caller must present.
    """

    def names(request: web.Request) -> bool:
        return request.query.get("names") == "1"

    async def caseload(request: web.Request) -> web.Response:
        if sources.client is None:
            raise web.HTTPServiceUnavailable(text="no Temporal connection")
        filters = Filters(
            officer=an_id(request, "officer"),
            unit=an_id(request, "unit"),
            overdue=request.query.get("overdue") == "1",
        )
        found = await overview(
            sources.client, sources.record, filters, sources.clock(), names(request)
        )
        return html(pages.overview(found, filters, names(request), sources.zone))

    async def episode(request: web.Request) -> web.Response:
        episode_id = request.match_info["episode_id"]
        found = await timeline(
            sources.client, sources.record, episode_id, names(request)
        )
        if found is None:
            raise web.HTTPNotFound(text="no episode has that id")
        return html(pages.episode(found, sources.zone))

    async def tasks(request: web.Request) -> web.Response:
        officer = an_id(request, "officer")
        found = await asyncio.to_thread(
            officer_tasks, sources.record, sources.clock(), officer
        )
        return html(pages.tasks(found, officer, sources.zone))

    def year_of(request: web.Request) -> int | None:
        text = request.query.get("year", "")
        if not text:
            return None
        if not text.isdigit() or not 2000 <= int(text) <= 2200:
            raise web.HTTPBadRequest(text="year: must be a year, e.g. 2027")
        return int(text)

    async def counted(request: web.Request) -> AnnualReport:
        year = year_of(request) or sources.clock().astimezone(sources.zone).year - 1
        return await asyncio.to_thread(count_year, sources.record, year, sources.zone)

    async def annual(request: web.Request) -> web.Response:
        year = year_of(request)
        report = await counted(request) if year else None
        default = sources.clock().astimezone(sources.zone).year - 1
        return html(pages.annual(report, year or default, sources.zone))

    async def annual_as_csv(request: web.Request) -> web.Response:
        report = await counted(request)
        response = web.Response(text=annual_csv(report), content_type="text/csv")
        response.headers[hdrs.CONTENT_DISPOSITION] = (
            f'attachment; filename="annual-report-{report.year}.csv"'
        )
        return response

    async def annual_as_json(request: web.Request) -> web.Response:
        report = await counted(request)
        return web.json_response(report.model_dump(mode="json"))

    app = web.Application(middlewares=[guard(token)], client_max_size=64 * 1024)
    app.router.add_get("/", caseload)
    app.router.add_get("/episodes/{episode_id}", episode)
    app.router.add_get("/tasks", tasks)
    app.router.add_get("/annual-report", annual)
    app.router.add_get("/annual-report.csv", annual_as_csv)
    app.router.add_get("/annual-report.json", annual_as_json)
    add_login(app, token)
    return app


def loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


async def serve(args: argparse.Namespace) -> None:
    token = load_token(file_env=TOKEN_FILE_ENV, inline_env=TOKEN_ENV)
    tls = tls_context(args.tls_cert, args.tls_key)
    if tls is None and not loopback(args.host):
        # The token and the pages would cross the network in clear text.
        raise TokenConfigError("--host: off loopback, give --tls-cert and --tls-key")
    config = load_config(args.config, adapters=False)
    connection = config.connection()
    record = configured_record(args.config, args.case_record)
    client = await connect(
        connection.address,
        connection.namespace,
        converter=data_converter(load_keys()),
        tls=connection.tls,
        api_key=connection.api_key,
    )
    sources = Sources(client, record, config.county.zone)
    runner = await start(build_app(sources, token), args.host, args.port, tls)
    log.info("supervisor_page_started", host=args.host, port=args.port)
    await serve_until_stopped(runner)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="default: %(default)s"
    )
    parser.add_argument(
        "--case-record",
        type=Path,
        help="the SQLite case record, over the configuration's case_record.path",
    )
    parser.add_argument(
        "--config", type=Path, help="the configuration (TOML); default $COUNTY_CONFIG"
    )
    add_tls_arguments(parser)
    args = parser.parse_args(argv)
    configure_logging()
    try:
        asyncio.run(serve(args))
    except (KeyConfigError, TokenConfigError, ConfigError) as error:
        print(f"supervisor page not started: {error}", file=sys.stderr)
        return 2
    except RuntimeError:
        print("supervisor page not started: cannot reach Temporal", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
