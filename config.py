"""One configuration: a TOML file, the environment over it, checked at start.

    [county]            CountySettings: time zone, clocks, reminder leads
    [modes]             step = "automatic" | "officer"
    [case_record]       path (SQLite) or url (PostgreSQL)
    [adapters]          integration = adapter (activities/config.py)
    [smtp]              the county's mail server (activities/smtp.py)
    [webhooks.NAME]     an integration's endpoint (activities/webhook.py)
    [temporal]          the cluster and how to reach it (connection.py)
    [metrics]           the Prometheus endpoint and tracing (telemetry.py)

``county.example.toml`` documents every key. The file is named by
``--config`` or ``COUNTY_CONFIG``; with neither, every default applies.

A variable in the environment overrides the file's key:
``CSEC__<TABLE>__<KEY>`` for any key (``CSEC__SMTP__HOST``,
``CSEC__WEBHOOKS__NCMEC__SECRET``), or one of the names in ``NAMED``
(``CASE_RECORD_URL``, ``TEMPORAL_ADDRESS``). ``<NAME>_FILE`` instead of
``<NAME>`` reads the value from a file, such as a container's secret.
Secrets (``SECRETS``) come from the environment only, never the file.

Every error names the key, the variable that set it if one did, and the
rule; never a secret's value.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError
from pydantic_core import InitErrorDetails

from activities.config import ADAPTERS, AdapterConfig
from connection import ConnectionConfig, TemporalSettings
from overrides import Key, dotted, leaves, override, secret, variable
from telemetry import MetricsConfig
from workflows.refusal import Refused, explain
from workflows.settings import CountySettings
from workflows.steps import check_modes

TABLES = (
    "county",
    "modes",
    "case_record",
    "adapters",
    "smtp",
    "webhooks",
    "temporal",
    "metrics",
)


class ConfigError(ValueError):
    """A configuration that breaks a rule; nothing was started."""


class CaseRecordTable(BaseModel):
    """The ``[case_record]`` table: PostgreSQL at ``url`` if set, else the
    SQLite file at ``path``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path = Path("state/case_record")
    url: SecretStr | None = None


@dataclass(frozen=True)
class Config:
    """Everything a process of the product is configured with.

    ``adapters`` is None when it was not asked for: the command line never
    needs the workers' secrets. ``case_record`` is always read: the
    supervisors' commands and page read the record the workers write.
    """

    county: CountySettings
    temporal: TemporalSettings
    metrics: MetricsConfig
    adapters: AdapterConfig | None = None
    case_record: CaseRecordTable = field(default_factory=CaseRecordTable)

    def connection(self) -> ConnectionConfig:
        """How to reach the cluster, certificates read."""
        return ConnectionConfig.from_settings(self.temporal)


def load_config(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    adapters: bool = True,
) -> Config:
    """The configuration in a TOML file and the environment, checked.

    Args:
        path: The file; by default the one ``COUNTY_CONFIG`` names, if any.
        environ: By default ``os.environ``.
        adapters: Check and build the adapters' configuration too (the
            worker's: the case record, SMTP, webhooks and their secrets).

    Raises:
        ConfigError: naming the file, each key that breaks a rule, the
            variable that set it, and the rule.
    """
    env = os.environ if environ is None else environ
    if path is None and env.get("COUNTY_CONFIG", "").strip():
        path = Path(env["COUNTY_CONFIG"].strip())
    where = "" if path is None else f"{path}: "
    try:
        data = {} if path is None else read_file(path)
        origins = override(data, env, TABLES)
    except ValueError as error:
        raise ConfigError(f"{where}{error}") from None
    checked = Checked(origins)
    county = checked.county(data.get("county", {}), data.get("modes", {}))
    temporal = checked.model(TemporalSettings, data.get("temporal", {}), "temporal")
    metrics = checked.model(MetricsConfig, data.get("metrics", {}), "metrics")
    record = checked.model(CaseRecordTable, data.get("case_record", {}), "case_record")
    adapter_config = (
        checked.adapters(data, record) if adapters and record is not None else None
    )
    if checked.clauses:
        raise ConfigError(where + "; ".join(checked.clauses))
    assert county is not None and temporal is not None and metrics is not None
    assert record is not None
    return Config(county, temporal, metrics, adapter_config, record)


def load_settings(path: Path | None) -> CountySettings:
    """The county's settings and step modes alone (see ``load_config``)."""
    return load_config(path, adapters=False).county


def read_file(path: Path) -> dict[str, Any]:
    """The file's tables, each a table, no secret among them."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot be read ({error.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"not valid TOML ({error})") from None
    for table, value in data.items():
        if table not in TABLES:
            raise ConfigError(f"{table}: is not a known table ({', '.join(TABLES)})")
        if not isinstance(value, dict):
            raise ConfigError(f"{table}: must be a table")
    for integration, value in data.get("webhooks", {}).items():
        if not isinstance(value, dict):
            raise ConfigError(f"webhooks.{integration}: must be a table")
    if "modes" in data.get("county", {}):
        raise ConfigError("county.modes: set modes in the [modes] table")
    for key in leaves(data):
        if secret(key):
            raise ConfigError(
                f"{dotted(key)}: is a secret; set it in the environment "
                f"({variable(key)}), not in the file"
            )
    return data


class Checked:
    """Validates the tables, gathering every broken rule as a clause."""

    def __init__(self, origins: dict[Key, str]) -> None:
        self.origins = origins
        self.clauses: list[str] = []

    def add(self, key: Key, rule: str) -> None:
        name = dotted(key)
        # A secret is named with its variable even when unset: it is set
        # nowhere else.
        if key in self.origins or secret(key):
            name += f" ({self.origins.get(key) or variable(key)})"
        self.clauses.append(f"{name}: {rule}" if key else rule)

    def add_errors(self, error: ValidationError, key_of: Callable[[Key], Key]) -> None:
        for detail in error.errors():
            # One error at a time through explain(), which leaves values out.
            line = cast(InitErrorDetails, detail)
            one = ValidationError.from_exception_data(error.title, [line])
            loc = tuple(str(part) for part in detail["loc"])
            rule = explain(one)
            if loc:
                # explain() may name less than the whole location (an
                # unknown key that does not look like one): keep its part.
                field, _, rule = rule.partition(": ")
                loc = loc[: len(field.split("."))]
            self.add(key_of(loc) if loc else (), rule)

    def model(self, kind: type[BaseModel], table: dict[str, Any], name: str) -> Any:
        try:
            return kind.model_validate(table)
        except ValidationError as error:
            self.add_errors(error, lambda loc: (name, *loc))
            return None

    def county(
        self, county: dict[str, Any], modes: dict[str, Any]
    ) -> CountySettings | None:
        good = True
        for step, mode in modes.items():
            try:
                check_modes({step: mode})
            except Refused as error:
                good = False
                self.add(("modes", step), str(error).split(": ", 1)[1])
        try:
            return CountySettings.model_validate(
                {**county, "modes": modes if good else {}}
            )
        except ValidationError as error:
            self.add_errors(
                error, lambda loc: loc if loc[:1] == ("modes",) else ("county", *loc)
            )
            return None

    def adapters(
        self, data: dict[str, Any], record: CaseRecordTable
    ) -> AdapterConfig | None:
        """The adapters' configuration, its errors named by the file's keys."""
        chosen = data.get("adapters", {})
        for name in chosen.keys() - ADAPTERS.keys():
            self.add(
                ("adapters", name), f"is not an integration ({', '.join(ADAPTERS)})"
            )
        if not chosen.keys() <= ADAPTERS.keys():
            return None
        try:
            return AdapterConfig.model_validate(
                {
                    "case_record_path": record.path,
                    "case_record_url": record.url,
                    **chosen,
                    "smtp": data.get("smtp"),
                    "webhooks": data.get("webhooks", {}),
                }
            )
        except ValidationError as error:
            self.add_errors(error, file_key)
            return None


def file_key(loc: Key) -> Key:
    """Where an ``AdapterConfig`` field is set in the file."""
    if loc[:1] == ("case_record_path",):
        return ("case_record", "path")
    if loc[:1] == ("case_record_url",):
        return ("case_record", "url")
    if loc[:1] and loc[0] in ADAPTERS:
        return ("adapters", *loc)
    return loc
