"""The at-risk rule (§1.C) and the annual State report's categories (§4.D).

Pure functions of what was recorded, so that the status, the simulator and
the annual report classify a youth the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

from workflows.payload import CsecStatus, Indicator, MissingReport

STRONG_INDICATORS = frozenset(
    {
        Indicator.CONTROLLED_OR_GROOMED,
        Indicator.ASSOCIATES_IN_COMMERCIAL_SEX,
        Indicator.ATYPICAL_ONLINE_BEHAVIOUR,
    }
)
# The policy lists running away and unstable housing in one clause: together
# they count as one indicator.
SAME_CLAUSE = {Indicator.UNSTABLE_HOUSING: Indicator.RUNAWAY_HISTORY}


def meets_at_risk_rule(indicators: Iterable[Indicator]) -> bool:
    """At least one strong indicator, or at least two others (§1.C)."""
    given = set(indicators)
    if given & STRONG_INDICATORS:
        return True
    others = {SAME_CLAUSE.get(indicator, indicator) for indicator in given}
    return len(others) >= 2


def is_victim(report: MissingReport, exploited_while_absent: bool) -> bool:
    """Confirmed, a victim before care, or exploited while absent."""
    return (
        report.csec.status == CsecStatus.CONFIRMED
        or report.csec.victim_before_foster_care
        or exploited_while_absent
    )


def is_at_risk(report: MissingReport) -> bool:
    """At risk by the case's status or by its indicators."""
    return report.csec.status in (
        CsecStatus.AT_RISK,
        CsecStatus.SUSPECTED,
    ) or meets_at_risk_rule(report.csec.indicators)


def annual_categories(report: MissingReport, exploited_while_absent: bool) -> list[str]:
    """The §4.D counts a youth falls in, from what is known now.

    A youth exploited while away counts in ``iv``, and in ``iii`` only if
    the case also says ``confirmed``: the State keeps "victim during foster
    care" and "victim while absent from placement" apart.
    """
    victim = is_victim(report, exploited_while_absent)
    csec = report.csec
    categories = []
    if report.in_foster_care:
        if not victim and is_at_risk(report):
            categories.append("i")
        if csec.victim_before_foster_care:
            categories.append("ii")
        if csec.status == CsecStatus.CONFIRMED and not csec.victim_before_foster_care:
            categories.append("iii")
        if exploited_while_absent:
            categories.append("iv")
    if victim and not report.in_foster_care:
        categories.append("v")
    if victim and report.ilp_services:
        categories.append("vi")
    return categories
