"""The annual State report as people and the State's forms read it."""

from __future__ import annotations

import csv
import io

from workflows.annual_counts import CATEGORIES, AnnualReport


def annual_text(report: AnnualReport) -> list[str]:
    """The six counts, one line each, under the year and the zone."""
    lines = [
        f"Annual State report (CSEC policy 4.D), {report.year}, "
        f"{report.time_zone}: unique youths",
        "",
    ]
    lines += [
        f"{key:>4}  {report.counts[key]:>5}  {text}" for key, text in CATEGORIES.items()
    ]
    return [*lines, "", f"youths classified: {report.youths}"]


def annual_csv(report: AnnualReport) -> str:
    """One row per category: year, category, description, count."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["year", "category", "description", "count"])
    for key, text in CATEGORIES.items():
        writer.writerow([report.year, key, text, report.counts[key]])
    return out.getvalue()
