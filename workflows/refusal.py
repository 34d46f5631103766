"""Refusals: one clear line naming the field and the rule, never a value."""

from __future__ import annotations

from pydantic import ValidationError


class Refused(ValueError):
    """An action or payload the protocol does not allow; nothing changed."""


def explain(error: ValidationError) -> str:
    """Turn a pydantic error into ``field: rule`` clauses.

    The input values are left out on purpose: they may be a youth's name,
    birth date or address, and this text reaches logs and the CLI.
    """
    clauses = []
    for detail in error.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in detail["loc"])
        rule = str(detail["msg"]).removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            rule = "is not a known field"
        if detail["type"] == "missing":
            rule = "is required"
        clauses.append(f"{field}: {rule}" if field else rule)
    return "; ".join(clauses)
