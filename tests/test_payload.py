"""A payload that breaks a rule is refused whole, naming the field and rule.

The message reaches a terminal and the case system's logs, so it must never
quote a value from the payload: those are a minor's personal data.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import starter
from workflows.payload import validate_report
from workflows.refusal import explain

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "payload.json"
# Keys whose values are personal data, wherever they sit in the payload.
PERSONAL_KEYS = {
    "first_name",
    "last_name",
    "date_of_birth",
    "name",
    "email",
    "phone",
    "address",
    "place",
    "reason",
    "primary_factors",
    "nickname",
}


def example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text())


def personal_values(value: Any, key: str = "") -> set[str]:
    """Every string under a personal key, at any depth."""
    if isinstance(value, dict):
        return {v for k, item in value.items() for v in personal_values(item, k)}
    if isinstance(value, list):
        return {v for item in value for v in personal_values(item, key)}
    return {value} if key in PERSONAL_KEYS and isinstance(value, str) else set()


def in_the_future() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).isoformat()


def naive_received_at(p: dict[str, Any]) -> None:
    p["received_at"] = p["received_at"][:19]


def unknown_role(p: dict[str, Any]) -> None:
    p["parties"][0]["role"] = "neighbour"


def unknown_indicator(p: dict[str, Any]) -> None:
    p["csec"]["indicators"].append("homesick")


def duplicate_party_id(p: dict[str, Any]) -> None:
    p["parties"][1]["id"] = p["parties"][0]["id"]


def without(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda p: p.pop(key)


def received_in_future(p: dict[str, Any]) -> None:
    p["received_at"] = in_the_future()


def minor_as_non_minor_dependent(p: dict[str, Any]) -> None:
    p["non_minor_dependent"] = True


def party_named_court(p: dict[str, Any]) -> None:
    p["parties"][0]["id"] = "court"


def extra_field(p: dict[str, Any]) -> None:
    p["nickname"] = "Sunny Placeholder"


MALFORMED = {
    "naive_time": (naive_received_at, "received_at", "timezone"),
    "unknown_role": (unknown_role, "parties.0.role", "Input should be"),
    "unknown_indicator": (unknown_indicator, "csec.indicators.3", "Input should be"),
    "duplicate_party_id": (duplicate_party_id, "parties", "must be unique"),
    "missing_law_enforcement_agency": (
        without("law_enforcement_agency"),
        "law_enforcement_agency",
        "is required",
    ),
    "missing_officer": (without("officer"), "officer", "is required"),
    "missing_supervisor": (without("supervisor"), "supervisor", "is required"),
    "received_at_in_future": (
        received_in_future,
        "received_at",
        "must not be in the future",
    ),
    "non_minor_dependent_under_18": (
        minor_as_non_minor_dependent,
        "non_minor_dependent",
        "18 or older",
    ),
    "party_id_is_an_agency_item": (
        party_named_court,
        "parties.0.id",
        "agency item names",
    ),
    "unknown_field": (extra_field, "nickname", "is not a known field"),
}


def malformed(name: str) -> dict[str, Any]:
    payload = copy.deepcopy(example())
    MALFORMED[name][0](payload)
    return payload


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_payload_is_refused_naming_field_and_rule(name):
    _, field, rule = MALFORMED[name]
    payload = malformed(name)

    with pytest.raises(ValidationError) as refused:
        validate_report(payload, datetime.now(UTC))
    message = explain(refused.value)

    assert f"{field}: " in message or message.startswith(f"{field}:")
    assert rule in message
    assert not [value for value in personal_values(payload) if value in message]


@pytest.mark.parametrize("name", MALFORMED)
def test_start_refuses_malformed_payload_in_one_line_exit_2(
    name, tmp_path, capsys, monkeypatch
):
    _, field, rule = MALFORMED[name]
    payload = malformed(name)
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(payload))
    monkeypatch.delenv("COUNTY_CONFIG", raising=False)

    code = starter.main(["start", str(path)])
    output = capsys.readouterr()

    assert code == 2
    assert output.out == ""
    assert output.err.count("\n") == 1
    assert field in output.err and rule in output.err
    assert not [v for v in personal_values(payload) if v in output.err]


def test_example_payload_is_valid():
    report = validate_report(example(), datetime.now(UTC))

    assert report.case_id == "J-26-0412"
    assert [party.id for party in report.parties if party.do_not_notify] == ["p3"]


def test_schema_is_a_json_schema_of_the_payload(capsys):
    code = starter.main(["schema"])
    schema = json.loads(capsys.readouterr().out)

    assert code == 0
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert "case_id" in schema["properties"] and "case_id" in schema["required"]
    assert set(schema["properties"]) >= set(example())
    refs = {ref.removeprefix("#/$defs/") for ref in _values_of(schema, "$ref")}
    assert refs and refs <= set(schema["$defs"])


def _values_of(value: Any, key: str) -> list[Any]:
    if isinstance(value, dict):
        found = [value[key]] if key in value else []
        return found + [v for item in value.values() for v in _values_of(item, key)]
    if isinstance(value, list):
        return [v for item in value for v in _values_of(item, key)]
    return []


def test_unknown_field_named_like_a_person_is_not_echoed() -> None:
    payload = example()
    payload["Zephyrine Quillfeather"] = "x"

    with pytest.raises(ValidationError) as refused:
        validate_report(payload, None)

    assert explain(refused.value) == "has a field that is not known"
