"""docs/benchmarks.md's figures, written from one run's saved figures.

The script writes only between its two markers; the text around them (what
the figures mean, what was changed because of them) is written by hand and
kept.
"""

from __future__ import annotations

from typing import Any

from bench.load import CONCURRENCY, Run

BEGIN = "<!-- bench/run.py writes from here to the end marker; edit around it -->"
END = "<!-- end of bench/run.py's figures -->"
OPEN_TARGET = 10_000


def merge(document: str, figures: str) -> str:
    """``document`` with the text between the markers replaced by ``figures``."""
    block = f"{BEGIN}\n\n{figures}\n\n{END}"
    if BEGIN in document and END in document:
        head, rest = document.split(BEGIN, 1)
        return head + block + rest.split(END, 1)[1]
    return f"# Benchmarks\n\n{block}\n"


def render(figures: dict[str, Any]) -> str:
    """The figures of one run, as markdown."""
    if "finished" not in figures:
        # A run stopped early: what it measured, and no verdict.
        return "\n".join(
            [*header(figures), *throughput(figures), *memory(figures)]
        ).rstrip()
    return "\n".join(
        [
            *header(figures),
            *throughput(figures),
            *memory(figures),
            *single_measures(figures),
            *health(figures),
            *targets(figures),
        ]
    )


def header(figures: dict[str, Any]) -> list[str]:
    if "finished" in figures:
        when = f"finished {figures['finished'][:16]} UTC, in " + (
            f"{figures['seconds']:.0f} s"
            if figures["seconds"] < 120
            else f"{figures['seconds'] / 60:.0f} min"
        )
    else:
        when = "**stopped before it finished**: only what it measured is shown"
    return [
        "Figures from one run of `bench/run.py "
        f"--sizes {','.join(map(str, figures['sizes']))} "
        f"--open {figures['open_target']}`, {when}. The dev server, the "
        "load generator and the workers shared this one machine; the product "
        "worker (`worker.build_worker`, as deployed) and the baseline's each "
        "ran in a process of its own (`bench/worker_process.py`).",
        "",
        "### Machine",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in figures["machine"].items()),
        "",
    ]


def ratios(runs: list[dict[str, Any]]) -> list[tuple[dict, dict, float]]:
    """Each episode run, its baseline run, and the throughput ratio."""
    # A run stopped early may end with an episode run and no baseline.
    pairs = zip(runs[::2], runs[1::2], strict=False)
    return [
        (
            episode,
            base,
            (episode["size"] / episode["seconds"]) / (base["size"] / base["seconds"]),
        )
        for episode, base in pairs
    ]


def throughput(figures: dict[str, Any]) -> list[str]:
    lines = [
        "### 1–2. Episodes through the 24-hour phase, against the bare baseline",
        "",
        f"An episode runs {sum(figures['batches'])} activities in its 24-hour "
        f"phase, in batches {figures['batches']} (one batch per workflow "
        "task, counted from a probe episode's history). The baseline "
        "(`bench/baseline.py`) runs as many no-op activities in the same "
        "batches and takes one Update, with no payload codec. Each run starts "
        f"N workflows, at most {CONCURRENCY} starts or Updates in flight, "
        "sends one Update to each right after its start, and ends when every "
        "activity is done.",
        "",
        "| N | kind | workflows/s | start p50 | start p99 | Update p50 "
        "| Update p99 | throughput, ratio to baseline |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for episode, base, ratio in ratios(figures["runs"]):
        for run, shown in ((episode, f"{ratio:.2f}"), (base, "1.00")):
            mark = "" if run["complete"] else " (timed out)"
            lines.append(
                f"| {run['size']} | {run['kind']}{mark} "
                f"| {run['size'] / run['seconds']:.1f} "
                f"| {Run.percentile(run['starts'], 0.5):.0f} ms "
                f"| {Run.percentile(run['starts'], 0.99):.0f} ms "
                f"| {Run.percentile(run['updates'], 0.5):.0f} ms "
                f"| {Run.percentile(run['updates'], 0.99):.0f} ms "
                f"| {shown} |"
            )
    return [*lines, ""]


def at_target(figures: dict[str, Any]) -> tuple[float | None, str]:
    """The worker's RSS at 10,000 open, or None if the run held fewer.

    No straight line is drawn to 10,000: the cache bounds what the worker
    holds, so growth below 10,000 does not say what it holds there.
    """
    count, mib = figures["memory"][-1]
    if count >= OPEN_TARGET:
        return mib, f"measured at {count:,} open"
    return None, f"not measured: the run held at most {count:,} open"


def memory(figures: dict[str, Any]) -> list[str]:
    points = figures["memory"]
    cache = figures["cache"]
    below = [(n, mib) for n, mib in points if 0 < n <= cache]
    lines = [
        "### 3. Worker memory with open episodes waiting on timers",
        "",
        "Resident memory (VmRSS) of the product worker's process alone, as "
        "the operating system sees it (no collection forced first), with "
        "every open episode through its 24-hour phase and waiting on its "
        "timers. The worker keeps at most "
        f"{cache} workflows in its cache (`max_cached_workflows`); past that, "
        "the least recently used is evicted and rebuilt from its history "
        "when a timer or an action next wakes it.",
        "",
        "| open episodes | worker RSS |",
        "| ---: | ---: |",
        *(f"| {count} | {mib:.0f} MiB |" for count, mib in points),
        "",
    ]
    if below:
        count, mib = below[-1]
        per = (mib - points[0][1]) / count * 1024
        lines += [
            f"Below the cache's size, each cached episode costs about {per:.0f} "
            f"KiB ({count} open: {mib:.0f} MiB, against {points[0][1]:.0f} MiB "
            "with none).",
            "",
        ]
    return lines


def single_measures(figures: dict[str, Any]) -> list[str]:
    name, events, seconds = figures["replay"]
    return [
        "### 4. Simulation and replay",
        "",
        "| measure | seconds |",
        "| --- | ---: |",
        f"| `simulate`, five-year scenario (time-skipping server) "
        f"| {figures['simulation']:.2f} |",
        f"| replay of `{name}` ({events} events) | {seconds:.2f} |",
        "",
        "### 5. `starter.py status`, one episode, as its own process",
        "",
        "The probe episode, the first one started"
        + (
            f"; with {figures['memory'][-1][0]} open it had long been evicted "
            "from the worker's cache, so the first call rebuilds it from its "
            "history."
            if figures["memory"][-1][0] > figures["cache"]
            else ", still in the worker's cache."
        ),
        "",
        "| call | wall time |",
        "| ---: | ---: |",
        *(f"| {n} | {s:.2f} s |" for n, s in enumerate(figures["status"], 1)),
        "",
    ]


def targets(figures: dict[str, Any]) -> list[str]:
    found = [ratio for _, _, ratio in ratios(figures["runs"])] or [0.0]
    rss, how = at_target(figures)
    status = max(figures["status"])
    simulation = figures["simulation"]

    def met(ok: bool | None) -> str:
        return "not measured" if ok is None else "yes" if ok else "**no**"

    return [
        "### Targets",
        "",
        "| target | figure | met |",
        "| --- | --- | --- |",
        f"| throughput ≥ 0.8 of the baseline's | {min(found):.2f}–{max(found):.2f} "
        f"| {met(min(found) >= 0.8)} |",
        f"| worker RSS < 1 GB at {OPEN_TARGET:,} open "
        f"| {'' if rss is None else f'{rss:.0f} MiB, '}{how} "
        # 1 GB read strictly: 10^9 bytes, 954 MiB.
        f"| {met(None if rss is None else rss * 2**20 < 10**9)} |",
        f"| five-year simulation < 20 s | {simulation:.2f} s "
        f"| {met(simulation < 20)} |",
        f"| `status` < 1 s | {status:.2f} s (slowest of {len(figures['status'])}) "
        f"| {met(status < 1)} |",
    ]


def health(figures: dict[str, Any]) -> list[str]:
    """What went wrong in the worker during the load, and the GC's pauses."""
    warnings = figures.get("sdk_warnings", {})
    lines = [
        "### The worker's health under the load",
        "",
        (
            "Warnings and errors the SDK logged in the two worker processes "
            "during the run, its Python layer's and its Rust core's (such as a "
            "workflow task that took more than 5 s), by worker and message, "
            "run ids taken out:"
            if figures.get("core_counted")
            else "Warnings and errors the SDK's Python layer logged in the two "
            "worker processes during the run, by worker and message. This run's "
            "Rust core wrote its own (such as a workflow task that took more "
            "than 5 s) to standard error, and they are not counted here:"
        ),
        "",
    ]
    if warnings:
        lines += ["| count | message |", "| ---: | --- |"]
        lines += [
            f"| {count} | {message.replace('|', '/')} |"
            for message, count in sorted(warnings.items(), key=lambda kv: -kv[1])
        ]
    else:
        lines.append("None.")
    lines += [
        "",
        "Garbage collections in the product worker's process over the whole run:",
        "",
        "| generation | collections | longest pause | total |",
        "| ---: | ---: | ---: | ---: |",
        *(
            f"| {generation} | {gen['count']} | {gen['longest'] * 1000:.0f} ms "
            f"| {gen['total']:.1f} s |"
            for generation, gen in figures.get("gc", {}).items()
        ),
        "",
    ]
    return lines
