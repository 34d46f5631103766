"""Refusals: one clear line naming the field and the rule, never a value."""

from __future__ import annotations

import re

from pydantic import ValidationError

FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class Refused(ValueError):
    """An action or payload the protocol does not allow; nothing changed."""


def explain(error: ValidationError) -> str:
    """Turn a pydantic error into ``field: rule`` clauses.

    The input values are left out on purpose: they may be a youth's name,
    birth date or address, and this text reaches logs and the CLI.
    """
    clauses = []
    for detail in error.errors(include_input=False, include_url=False):
        location = [str(part) for part in detail["loc"]]
        rule = str(detail["msg"]).removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            rule = "is not a known field"
            # The unknown key is the sender's own text: named only when it
            # looks like a field name, never when it could be a person's.
            if not FIELD_NAME.fullmatch(location[-1]):
                location, rule = location[:-1], "has a field that is not known"
        field = ".".join(location)
        if detail["type"] == "missing":
            rule = "is required"
        clauses.append(f"{field}: {rule}" if field else rule)
    return "; ".join(clauses)
