"""The case record the supervisors' tools read: the worker's, as configured.

The configuration's ``[case_record]`` table (``config.py``), with
``CASE_RECORD_PATH`` or ``CASE_RECORD_URL`` over it, read without the
adapters' settings, so the command line and the supervisor page need none
of the workers' secrets.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from activities import AdapterConfig, SqlCaseRecord, open_case_record
from config import ConfigError, load_config


def configured_record(
    config_path: Path | None,
    case_record: Path | None = None,
    environ: Mapping[str, str] | None = None,
    create: bool = False,
) -> SqlCaseRecord:
    """Open the configured case record.

    Args:
        config_path: The configuration file; by default ``COUNTY_CONFIG``'s.
        case_record: A SQLite file given on the command line, over the
            configuration's path.
        environ: By default ``os.environ``.
        create: Make the record if it does not exist (an assessment at
            intake may come before any episode); readers never do.

    Raises:
        ConfigError: naming the file, the key and the rule.
    """
    env = dict(os.environ if environ is None else environ)
    if case_record is not None:
        env["CASE_RECORD_PATH"] = str(case_record)
    table = load_config(config_path, env, adapters=False).case_record
    if table.url is None and not create and not Path(table.path).exists():
        # A report read from a record that was never written is a report of
        # nothing: refuse, rather than create an empty one and count zero.
        raise ConfigError(
            f"case_record.path: no case record at {table.path} (the worker "
            "creates it); check --case-record or CASE_RECORD_PATH"
        )
    return open_case_record(
        AdapterConfig(case_record_path=table.path, case_record_url=table.url)
    )
