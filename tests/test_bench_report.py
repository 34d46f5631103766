"""bench/report.py: saved figures are checked before the page is written,
and the page keeps its hand-written text around the script's block; and
bench/measures.py counts the SDK's warnings by message."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bench import report
from bench.figures import checked
from bench.measures import SdkWarnings


def saved(**changes: Any) -> dict[str, Any]:
    """The figures of a small finished run, as bench/run.py saves them."""
    run = {
        "kind": "episode",
        "size": 10,
        "seconds": 2.0,
        "starts": [0.05, 0.07],
        "updates": [0.2, 0.3],
        "complete": True,
    }
    figures = {
        "machine": {"CPUs (nproc)": "2"},
        "sizes": [10],
        "open_target": 10_000,
        "cache": 1000,
        "batches": [1, 20, 11, 1],
        "runs": [run, dict(run, kind="baseline", seconds=1.6)],
        "memory": [[0, 100.0], [6_000, 900.0], [10_000, 960.0]],
        "status": [0.6, 0.5],
        "gc": {"2": {"count": 3, "longest": 0.2, "total": 0.4}},
        "sdk_warnings": {},
        "simulation": 4.5,
        "replay": ["v1-history.json", 839, 0.21],
        "finished": "2026-12-04T22:00:00+00:00",
        "seconds": 3600.0,
    }
    return figures | changes


def test_a_finished_run_renders_its_ratio_and_targets() -> None:
    page = report.render(checked(saved()))
    # 10 / 2.0 = 5/s against 10 / 1.6 = 6.25/s.
    assert "| 0.80 |" in page
    assert "throughput ≥ 0.8 of the baseline's | 0.80–0.80 | yes |" in page
    # 1 GB read strictly: 954 MiB.
    assert "10,000 open | 960 MiB, measured at 10,000 open | **no** |" in page


def test_memory_short_of_10000_open_is_not_extrapolated() -> None:
    # The cache bounds the worker: a line through 6,000 says nothing of 10,000.
    memory = [[0, 100.0], [5_000, 700.0], [6_000, 760.0]]
    page = report.render(checked(saved(memory=memory)))
    assert "not measured: the run held at most 6,000 open | not measured |" in page


def test_a_run_stopped_early_renders_without_a_verdict() -> None:
    figures = saved()
    for key in ("status", "simulation", "replay", "finished", "seconds"):
        del figures[key]
    page = report.render(checked(figures))
    assert "stopped before it finished" in page
    assert "### Targets" not in page


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"runs": [dict(saved()["runs"][0], seconds=0)]}, "runs.0.seconds"),
        ({"memory": []}, "memory"),
        ({"machine": ["2 CPUs"]}, "machine"),
        ({"simulation": float("nan")}, "simulation"),
        ({"runs": [dict(saved()["runs"][0], kind="other")]}, "runs.0.kind"),
        ({"runs": saved()["runs"][::-1]}, "runs.0"),
        ({"runs": [saved()["runs"][0]] * 2}, "runs.1"),
        ({"memory": [[60, 100.0]]}, "memory"),
        ({"runs": [dict(saved()["runs"][0], size="10")]}, "runs.0.size"),
    ],
)
def test_bad_figures_are_refused_naming_the_field(
    changes: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValueError, match=rf"\b{named}: "):
        checked(saved(**changes))


def test_a_finished_run_must_hold_every_figure() -> None:
    figures = saved()
    del figures["status"]
    with pytest.raises(ValueError, match="marked finished"):
        checked(figures)


def test_merge_replaces_only_the_block_between_the_markers() -> None:
    document = f"# Benchmarks\n\nabove\n\n{report.BEGIN}\nold\n{report.END}\n\nbelow\n"
    merged = report.merge(document, "new figures")
    assert merged == (
        f"# Benchmarks\n\nabove\n\n{report.BEGIN}\n\nnew figures\n\n"
        f"{report.END}\n\nbelow\n"
    )


def test_core_warnings_are_counted_by_message_without_their_run_ids() -> None:
    warnings = SdkWarnings()
    core = logging.getLogger("temporalio.core")
    try:
        for run, attempt in (
            ("01a2431f-e785-75e4-a009-f79b05125d7d", 2),
            ("01a24320-0dd5-7e4b-b5b2-124c82e0393d", 1),
        ):
            core.warning(
                f"[TMPRL1104] {run}:192:{attempt} Workflow task duration "
                "exceeded 5 seconds."
            )
    finally:
        logging.getLogger("temporalio").removeHandler(warnings)
    assert dict(warnings.seen) == {
        "WARNING [TMPRL1104] <run> Workflow task duration exceeded 5 seconds.": 2
    }
