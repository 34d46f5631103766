"""The supervisor pages' HTML: server-rendered, no script, accessible.

Every page is one document in English with a skip link, a navigation
landmark, one ``h1`` and tables with captions and header scopes. Overdue is
said in words, not only in colour; colours keep at least 7:1 contrast.
Every value is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from caseload import Filters, OverviewRow
from officer_tasks import OfficerTask
from timeline import Timeline
from views import when
from workflows.annual_counts import CATEGORIES, AnnualReport
from workflows.missing_youth import EpisodeStatus

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;color:#111;background:#fff;margin:0}
a{color:#0b3d91}a:focus,button:focus,input:focus{outline:3px solid #111}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem}
header{background:#0b2545;padding:.5rem 1rem}header a{color:#fff;margin-right:1rem}
main{padding:1rem}table{border-collapse:collapse;margin:1rem 0}
caption{text-align:left;font-weight:bold;padding:.25rem 0}
th,td{border:1px solid #555;padding:.25rem .5rem;text-align:left;vertical-align:top}
thead th{background:#e8e8e8}.overdue{color:#8b0000;font-weight:bold}
tbody th,.ids td:nth-child(-n+4){white-space:nowrap}
form{display:flex;flex-wrap:wrap;gap:1rem;align-items:end}
label{display:flex;flex-direction:column}label.check{flex-direction:row;gap:.25rem}
dl{display:grid;grid-template-columns:max-content auto;gap:0 1rem}dt{font-weight:bold}
"""


def e(value: object) -> str:
    """A value as escaped text; None as a dash."""
    return "-" if value is None else escape(str(value))


def moment(value: datetime | str | None, zone: ZoneInfo) -> str:
    """A time in the county's zone, machine-readable too."""
    if value is None or value == "":
        return "-"
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f'<time datetime="{e(at.isoformat())}">{e(when(at, zone))}</time>'


def page(title: str, body: str) -> str:
    """The whole document around a page's body."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} - Missing youth protocol</title>"
        f"<style>{STYLE}</style></head><body>"
        '<a class="skip" href="#main">Skip to content</a>'
        '<header><nav aria-label="Supervisor pages">'
        '<a href="/">Caseload overview</a><a href="/tasks">Officer tasks</a>'
        '<a href="/annual-report">Annual State report</a></nav></header>'
        f'<main id="main"><h1>{e(title)}</h1>{body}</main></body></html>'
    )


def table(
    caption: str, headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = ""
) -> str:
    """A data table; each row's first cell is its header. Cells are HTML."""
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    body = []
    for row in rows:
        first, *rest = row
        cells = "".join(f"<td>{cell}</td>" for cell in rest)
        body.append(f'<tr><th scope="row">{first}</th>{cells}</tr>')
    if not body:
        body = [f'<tr><td colspan="{len(headers)}">None.</td></tr>']
    attributes = f' class="{css}"' if css else ""
    return (
        f"<table{attributes}><caption>{e(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def field(name: str, label: str, value: str | None, kind: str = "text") -> str:
    return (
        f'<label for="{name}">{e(label)}<input id="{name}" name="{name}" '
        f'type="{kind}" value="{e(value or "")}"></label>'
    )


def check(name: str, label: str, on: bool) -> str:
    checked = " checked" if on else ""
    return (
        f'<label class="check" for="{name}"><input id="{name}" name="{name}" '
        f'type="checkbox" value="1"{checked}>{e(label)}</label>'
    )


def overdue_cell(overdue: bool, steps: Sequence[str]) -> str:
    if not overdue:
        return "no"
    return f'<span class="overdue">OVERDUE</span> {e(", ".join(steps))}'


def overview(
    rows: Sequence[OverviewRow], filters: Filters, names: bool, zone: ZoneInfo
) -> str:
    """The caseload overview page: filters, then one row per open episode."""
    form = (
        '<form method="get" action="/" aria-label="Filter open episodes">'
        + field("officer", "Officer id", filters.officer)
        + field("unit", "Unit (supervisor id)", filters.unit)
        + check("overdue", "Only overdue", filters.overdue)
        + check("names", "Show names", names)
        + "<button>Show</button></form>"
    )
    link = "?names=1" if names else ""
    headers = ["Case", "Youth", "Officer", "Unit", "Phase", "Next step due"]
    headers += ["Overdue", "Days missing", "Last locate effort"]
    body = []
    for row in rows:
        youth = e(row.youth_name if names and row.youth_name else row.youth_id)
        case = e(row.case_id)
        if row.episode_id:
            case = f'<a href="/episodes/{e(row.episode_id)}{link}">{case}</a>'
        effort = moment(row.last_effort_at, zone)
        if row.last_effort_kind:
            effort += f" ({e(row.last_effort_kind)})"
        due = f"{e(row.next_due_step)} {moment(row.next_due_at, zone)}"
        body.append(
            [
                case,
                youth,
                e(row.officer_id),
                e(row.unit),
                e(row.phase),
                due,
                overdue_cell(row.overdue, row.overdue_steps),
                e(row.days_missing),
                effort,
            ]
        )
    caption = f"Open episodes: {len(rows)}, overdue first"
    return page("Caseload overview", form + table(caption, headers, body, "ids"))


def tasks(found: Sequence[OfficerTask], officer: str | None, zone: ZoneInfo) -> str:
    """Open tasks, by officer: steps left to them, and the last reminder."""
    form = (
        '<form method="get" action="/tasks" aria-label="Choose an officer">'
        + field("officer", "Officer id", officer)
        + "<button>Show</button></form>"
    )
    headers = ["Officer", "Case", "Step", "Item", "Due", "Overdue", "Reminded"]
    body = [
        [
            e(task.officer_id),
            e(task.case_id),
            e(task.step),
            e(task.item),
            moment(task.due, zone),
            overdue_cell(task.overdue, []),
            moment(task.reminded_at, zone),
        ]
        for task in found
    ]
    caption = f"Open tasks: {len(found)}"
    return page("Officer tasks", form + table(caption, headers, body))


def episode(found: Timeline, zone: ZoneInfo) -> str:
    """One episode: its facts, steps, periods, escalations and chrono."""
    row, status = found.episode, found.status
    facts = [
        ("Case", e(row["case_id"])),
        ("Episode", e(row["episode_id"])),
        ("Youth", e(found.youth_name or row["youth_id"])),
        ("Officer", e(row["officer_id"])),
        ("Unit (supervisor)", e(row["supervisor_id"])),
        ("Received", moment(row["received_at"], zone)),
        ("Ended", moment(row["ended_at"], zone)),
    ]
    if status is not None:
        facts += [
            ("Phase", e(status.phase)),
            (
                "Next due",
                f"{e(status.next_due_step)} {moment(status.next_due_at, zone)}",
            ),
            ("Overdue", overdue_cell(bool(status.overdue_steps), status.overdue_steps)),
        ]
    parts = ["<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"]
    parts.append(steps_section(status, zone))
    notices = [
        [
            e(n["kind"]),
            e(f"{n['recipient']} {n['recipient_id']}"),
            e(n["step"]) + (f" period {e(n['period'])}" if n["period"] else ""),
            moment(n["due"], zone),
            moment(n["at"], zone),
            moment(n["sent_at"], zone),
        ]
        for n in found.notices
    ]
    headers = ["Notice", "To", "Step", "Due", "At", "Sent"]
    parts.append(table("Reminders, escalations and notices", headers, notices))
    chrono = [
        [
            moment(c["at"], zone),
            e(c["event"]),
            e(c["step"]),
            e(c["item"]),
            e(c["state"]),
            e(c["detail_text"]),
        ]
        for c in found.chrono
    ]
    headers = ["At", "Event", "Step", "Item", "State", "Detail"]
    parts.append(table("Chrono (case record)", headers, chrono))
    return page(f"Episode {row['episode_id']}", "".join(parts))


def steps_section(status: EpisodeStatus | None, zone: ZoneInfo) -> str:
    """Steps and locate periods from the status query, when a worker answers."""
    if status is None:
        return (
            "<p>No worker answered, or this is not the case's latest episode: "
            "steps are shown from the chrono below.</p>"
        )
    steps = []
    for step in status.record.steps.values():
        receipt = step.receipt
        done = moment(step.done_at, zone)
        if receipt is not None:
            done += f" {e(receipt.method)} {e(receipt.reference or '')}"
        steps.append(
            [
                e(step.name),
                e(step.state),
                moment(step.due, zone),
                done,
                e(len(step.attempts)),
                moment(step.escalated_at, zone),
            ]
        )
        for key, item in (step.items or {}).items():
            steps.append(
                [
                    f"{e(step.name)}: {e(key)}",
                    e(item.state),
                    "",
                    moment(item.done_at, zone),
                    "",
                    "",
                ]
            )
    headers = ["Step", "State", "Due", "Done (receipt)", "Attempts", "Escalated"]
    parts = [table("Steps (workflow status)", headers, steps)]
    periods = [
        [
            e(p.number),
            moment(p.ends, zone),
            ("yes" if p.compliant else '<span class="overdue">NO</span>')
            if p.judged
            else "running",
            moment(p.escalated_at, zone),
        ]
        for p in status.record.periods
    ]
    headers = ["Locate period", "Ends", "Compliant", "Escalated"]
    parts.append(table("Monthly locate periods", headers, periods))
    return "".join(parts)


def annual(report: AnnualReport | None, year: int, zone: ZoneInfo) -> str:
    """The §4.D counts for a year, and links to them as CSV and JSON."""
    form = (
        '<form method="get" action="/annual-report" aria-label="Choose a year">'
        + field("year", "Reporting year", str(year), "number")
        + "<button>Count</button></form>"
    )
    if report is None:
        return page("Annual State report", form)
    rows = [
        [e(key), e(text), e(report.counts[key])] for key, text in CATEGORIES.items()
    ]
    caption = (
        f"Unique youths, {report.year} ({report.time_zone}): {report.youths} classified"
    )
    query = urlencode({"year": report.year})
    links = (
        f'<p>Download: <a href="/annual-report.csv?{query}">CSV</a>, '
        f'<a href="/annual-report.json?{query}">JSON</a></p>'
    )
    headers = ["Category", "Youths", "Count"]
    return page("Annual State report", form + table(caption, headers, rows) + links)


def login(message: str) -> str:
    """The sign-in form; the token becomes an HttpOnly cookie."""
    return page(
        "Sign in",
        f"<p>{e(message)}</p>"
        '<form method="post" action="/login">'
        + field("token", "Token", None, "password")
        + "<button>Sign in</button></form>",
    )
