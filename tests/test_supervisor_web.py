"""The supervisor page, served on loopback, read by headless Chromium.

The page runs in this process against the session's dev server and the
module's small caseload (``tests/open_episodes.py``). Chromium reads it as
a browser would, its token given as HTTP Basic credentials in the URL, and
the tests assert on the DOM it built. ``.ci/run`` installs Debian's
``chromium``; on a machine without it the browser tests are skipped, and say
so. ``SAVE_SCREENSHOT=1`` copies the overview's screenshot to
``docs/supervisor-overview.png``.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
import time
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from activities import SqliteCaseRecord
from codec_server import new_token, start
from supervisor_access import COOKIE
from supervisor_web import Sources, build_app
from tests.helpers import free_port
from tests.year_of_episodes import EXPECTED, YEAR, write_year

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium binary on this machine; .ci/run installs Debian's chromium",
)
DOCS = Path(__file__).resolve().parents[1] / "docs"
TOKEN = new_token()
COUNTY = ZoneInfo("America/Los_Angeles")


@pytest.fixture(scope="module")
async def page(dev_env, open_caseload, caseload_record) -> AsyncIterator[str]:
    """The page's base URL on 127.0.0.1, for the module's caseload."""
    sources = Sources(dev_env.client, SqliteCaseRecord(caseload_record), COUNTY)
    port = free_port()
    runner = await start(build_app(sources, TOKEN), "127.0.0.1", port)
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def year_page(tmp_path) -> AsyncIterator[str]:
    """The page on a record holding a whole reporting year."""
    record = SqliteCaseRecord(tmp_path / "case_record")
    write_year(record)
    port = free_port()
    runner = await start(
        build_app(Sources(None, record, COUNTY), TOKEN), "127.0.0.1", port
    )
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def signed_in(url: str) -> str:
    """The URL with the token as Basic credentials, as a browser sends them."""
    return url.replace("http://", f"http://supervisor:{TOKEN}@", 1)


async def chromium(url: str, tmp_path: Path, *options: str) -> str:
    """Chromium's DOM of ``url`` (or its output with other options)."""
    assert CHROMIUM is not None
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium'}",
        *(options or ("--dump-dom",)),
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    async with asyncio.timeout(60):
        out, _ = await process.communicate()
    assert process.returncode == 0
    return out.decode()


class Dom(HTMLParser):
    """The elements of a page, with their attributes and text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, Any]]] = []
        self.texts: dict[str, list[str]] = {}
        self._open: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        for tag in self._open:
            self.texts.setdefault(tag, []).append(data)

    def all(self, tag: str) -> list[dict[str, Any]]:
        return [attrs for name, attrs in self.elements if name == tag]

    def text(self, tag: str) -> str:
        return "".join(self.texts.get(tag, []))


def rows_of(dom_text: str, caption: str) -> list[str]:
    """The text of each body row of the table with this caption."""
    table = dom_text.split(f"<caption>{caption}", 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [re.sub(r"<[^>]+>", " ", row) for row in body.split("</tr>")[:-1]]


async def get(url: str, **kwargs: Any) -> tuple[int, dict[str, str], str]:
    async with aiohttp.ClientSession() as session:
        async with session.get(url, allow_redirects=False, **kwargs) as response:
            return response.status, dict(response.headers), await response.text()


async def test_every_page_needs_the_token(page):
    basic = "Basic " + base64.b64encode(f"anyone:{TOKEN}".encode()).decode()

    refused = await get(f"{page}/")
    wrong = await get(f"{page}/tasks", headers={"Authorization": "Bearer " + "x" * 43})
    by_bearer = await get(f"{page}/tasks", headers={"Authorization": f"Bearer {TOKEN}"})
    by_basic = await get(f"{page}/tasks", headers={"Authorization": basic})

    assert refused[0] == wrong[0] == 401
    assert refused[1]["WWW-Authenticate"].startswith('Basic realm="Supervisor"')
    assert "Open" not in refused[2] and 'name="token"' in refused[2]
    assert by_bearer[0] == by_basic[0] == 200


async def test_signing_in_sets_a_strict_http_only_cookie(page):
    # A cookie jar that keeps cookies of an IP address, as a browser does.
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.post(
            f"{page}/login", data={"token": "not it"}, allow_redirects=False
        ) as response:
            refused = response.status
        async with session.post(
            f"{page}/login", data={"token": TOKEN}, allow_redirects=False
        ) as response:
            signed = response.status, response.headers.getall("Set-Cookie")
        async with session.get(f"{page}/tasks") as response:
            after = response.status

    assert refused == 401
    assert signed[0] == 303
    cookie = signed[1][0]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert after == 200


async def test_pages_are_never_cached_framed_or_scripted(page):
    status, headers, _ = await get(
        f"{page}/tasks", headers={"Authorization": f"Bearer {TOKEN}"}
    )

    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy


async def test_a_filter_that_is_not_an_id_is_refused(page):
    status, _, text = await get(
        f"{page}/?officer=x'%20OR%201=1", headers={"Authorization": f"Bearer {TOKEN}"}
    )

    assert status == 400 and "officer: must be an id" in text


@needs_chromium
async def test_overview_in_chromium_lists_open_episodes_in_an_accessible_table(
    page, open_caseload, tmp_path
):
    unit = open_caseload["episodes"].supervisor
    late, fresh = open_caseload["late"], open_caseload["fresh"]

    text = await chromium(signed_in(f"{page}/?unit={unit}"), tmp_path)

    dom = Dom(text)
    assert dom.all("html")[0]["lang"] == "en"
    assert dom.text("h1") == "Caseload overview"
    assert dom.text("caption") == "Open episodes: 3, overdue first"
    assert {a.get("scope") for a in dom.all("th")} == {"col", "row"}
    assert all(label.get("for") for label in dom.all("label"))
    assert not dom.all("script")
    rows = rows_of(text, "Open episodes")
    assert len(rows) == 3
    assert late.case_id in rows[0] and "OVERDUE" in rows[0]
    assert "law_enforcement_report" in rows[0]
    assert open_caseload["ended"].case_id not in text
    assert any(fresh.case_id in row and "physical_check" in row for row in rows)
    assert late.youth.first_name not in text and late.youth.id in text


@needs_chromium
async def test_overview_in_chromium_shows_names_only_when_asked(
    page, open_caseload, tmp_path
):
    unit = open_caseload["episodes"].supervisor
    name = "Sample Fictional-Youth"

    plain = await chromium(signed_in(f"{page}/?unit={unit}"), tmp_path)
    named = await chromium(signed_in(f"{page}/?unit={unit}&names=1"), tmp_path)

    assert name not in plain
    assert name in named
    assert (
        f"/episodes/{open_caseload['statuses'][open_caseload['late'].case_id].episode_id}?names=1"
        in named
    )


@needs_chromium
async def test_timeline_in_chromium_shows_steps_receipts_efforts_and_escalations(
    page, open_caseload, tmp_path
):
    late = open_caseload["statuses"][open_caseload["late"].case_id]
    fresh = open_caseload["statuses"][open_caseload["fresh"].case_id]

    late_text = await chromium(
        signed_in(f"{page}/episodes/{late.episode_id}"), tmp_path
    )
    fresh_text = await chromium(
        signed_in(f"{page}/episodes/{fresh.episode_id}"), tmp_path
    )

    steps = rows_of(late_text, "Steps (workflow status)")
    assert any("law_enforcement_report" in row and "overdue" in row for row in steps)
    assert any("missing_documentation" in row and "electronic" in row for row in steps)
    notices = rows_of(late_text, "Reminders, escalations and notices")
    escalated = [row.split()[3] for row in notices if row.split()[0] == "escalation"]
    # Every escalation the status knows of, missing_documentation's too: it
    # opened past due, so it was escalated as it was done (done_late).
    assert sorted(escalated) == sorted(late.escalated_steps)
    assert len(escalated) == 5
    chrono = rows_of(late_text, "Chrono (case record)")
    assert any("step_overdue" in row for row in chrono)
    assert any("step_done" in row and "missing_documentation" in row for row in chrono)
    efforts = rows_of(fresh_text, "Chrono (case record)")
    assert any("effort_recorded" in row and "physical_check" in row for row in efforts)
    # The effort's notes are narrative: shown only with names.
    assert "fictional park" not in fresh_text
    assert Dom(late_text).text("caption").count("Monthly locate periods") == 1


@needs_chromium
async def test_an_ended_episodes_timeline_still_reads_from_the_record(
    page, open_caseload, tmp_path
):
    ended = open_caseload["statuses"][open_caseload["ended"].case_id]

    text = await chromium(signed_in(f"{page}/episodes/{ended.episode_id}"), tmp_path)

    chrono = rows_of(text, "Chrono (case record)")
    assert any("located" in row for row in chrono)
    assert any("debrief_recorded" in row and "no" in row for row in chrono)
    assert any("episode_ended" in row for row in chrono)
    assert "a fictional station" not in text


@needs_chromium
async def test_tasks_page_in_chromium_lists_the_officers_open_tasks(
    page, open_caseload, tmp_path
):
    officer = open_caseload["episodes"].officer

    text = await chromium(signed_in(f"{page}/tasks?officer={officer}"), tmp_path)

    rows = rows_of(text, "Open tasks")
    late = open_caseload["late"].case_id
    assert sum(late in row and "OVERDUE" in row for row in rows) == 6
    assert all(officer in row for row in rows)


async def test_annual_report_page_csv_and_json_give_the_six_counts(year_page):
    auth = {"Authorization": f"Bearer {TOKEN}"}

    status, _, text = await get(f"{year_page}/annual-report?year={YEAR}", headers=auth)
    _, headers, csv = await get(
        f"{year_page}/annual-report.csv?year={YEAR}", headers=auth
    )
    _, _, as_json = await get(
        f"{year_page}/annual-report.json?year={YEAR}", headers=auth
    )

    assert status == 200
    rows = rows_of(text, "Unique youths")
    assert [row.split()[-1] for row in rows] == [str(n) for n in EXPECTED.values()]
    assert "attachment" in headers["Content-Disposition"]
    assert (
        csv.splitlines()[1]
        == f'{YEAR},i,"youths in foster care at risk, not victims",6'
    )
    assert '"counts"' in as_json and '"youths":14' in as_json.replace(" ", "")


@needs_chromium
async def test_overview_screenshot_renders_fast(page, open_caseload, tmp_path):
    unit = open_caseload["episodes"].supervisor
    shot = tmp_path / "overview.png"
    started = time.perf_counter()
    _, headers, _ = await get(
        f"{page}/?unit={unit}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    served = time.perf_counter() - started

    await chromium(
        signed_in(f"{page}/?unit={unit}"),
        tmp_path,
        f"--screenshot={shot}",
        "--window-size=1280,900",
        "--hide-scrollbars",
    )

    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == 1280
    assert served < 2.0, headers["Server-Timing"]
    if os.environ.get("SAVE_SCREENSHOT") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS / "supervisor-overview.png")
